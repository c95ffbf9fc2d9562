// The syntax characters of a regex source (outside escapes and character classes), each with the group depth
// before it and its index, from `from` on, until `visit` returns true: returns that index, or -1 at the end.
// JavaScript's syntax, or with `python` Python's, where a `]` just after `[` or `[^` is a literal (in JavaScript
// it closes the class).
export const scanSyntax = (
  src: string,
  from: number,
  visit: (c: string, depth: number, at: number) => boolean,
  python = false,
): number => {
  let depth = 0;
  let inClass = false;
  for (let i = from; i < src.length; i++) {
    const c = src[i] as string;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (python) {
        if (src[i + 1] === '^') i++;
        if (src[i + 1] === ']') i++;
      }
    } else if (visit(c, depth, i)) return i;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return -1;
};

// The syntax characters of a JavaScript regex source (outside escapes and character classes), each with the group
// depth before it, from `from` on, until `visit` returns true: returns that index, or -1 at the end.
export const scanSyntax = (src: string, from: number, visit: (c: string, depth: number) => boolean): number => {
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
    if (c === '[') inClass = true;
    else if (visit(c, depth)) return i;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return -1;
};

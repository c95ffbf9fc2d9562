// Named groups cost an object per match in V8; on the hottest regexes we number them instead and keep a map.
// Returns the source with `(?<n>` turned into `(` and `\k<n>` into `\N`, and each name's group numbers.
export const numberGroups = (source: string): { source: string; index: Map<string, number[]> } => {
  const index = new Map<string, number[]>();
  let out = '';
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      const k = /^\\k<([A-Za-z_]\w*)>/.exec(source.slice(i));
      if (k && !inClass) {
        const nums = index.get(k[1] ?? '');
        if (!nums?.length) throw new Error(`backreference to unknown group ${k[1]}`);
        out += `(?:\\${nums[nums.length - 1]})`;
        i += k[0].length - 1;
        continue;
      }
      out += c + (source[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(') {
      const named = /^\(\?<([A-Za-z_]\w*)>/.exec(source.slice(i));
      if (named) {
        n++;
        const list = index.get(named[1] ?? '') ?? [];
        list.push(n);
        index.set(named[1] ?? '', list);
        out += '(';
        i += named[0].length - 1;
        continue;
      }
      if (source[i + 1] !== '?') n++;
    }
    out += c;
  }
  return { source: out, index };
};

// The same regex with only the groups in `keep` capturing (a match then allocates fewer strings); the kept
// groups' new numbers, in order. null when the source has backreferences (numbers would change their meaning).
export const keepGroups = (
  source: string,
  keep: ReadonlySet<number>,
): { source: string; numbers: Map<number, number> } | null => {
  const numbers = new Map<number, number>();
  let out = '';
  let n = 0;
  let kept = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return null;
      out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(' && source[i + 1] === '?' && source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!')
      return null; // named
    if (c === '(' && source[i + 1] !== '?') {
      n++;
      if (keep.has(n)) {
        numbers.set(n, ++kept);
        out += c;
      } else out += '(?:';
      continue;
    }
    out += c;
  }
  return { source: out, numbers };
};

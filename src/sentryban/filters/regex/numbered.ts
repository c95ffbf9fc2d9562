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

// Capturing groups and numbered backreferences (`\N`, outside classes) of a numbered source; null when it has
// named groups or `\k` (numberGroups turns those into numbers).
const groupsAndRefs = (source: string): { groups: number; refs: number[] } | null => {
  let groups = 0;
  const refs: number[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && next === 'k') return null;
      if (!inClass && /[1-9]/.test(next)) {
        const digits = /^\d+/.exec(source.slice(i + 1))?.[0] ?? '';
        refs.push(Number(digits));
        i += digits.length;
        continue;
      }
      i++;
    } else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (
      c === '(' &&
      source[i + 1] === '?' &&
      source[i + 2] === '<' &&
      source[i + 3] !== '=' &&
      source[i + 3] !== '!'
    )
      return null; // named
    else if (c === '(' && source[i + 1] !== '?') groups++;
  }
  return { groups, refs };
};

// The same regex with only the groups in `keep` capturing (a match then allocates fewer strings); the kept
// groups' new numbers, in order. A group a backreference names is kept too, and the backreference renumbered.
// null when the source has named groups, or a backreference to a group it does not have (an octal escape in
// JavaScript: its meaning would change with the count).
export const keepGroups = (
  source: string,
  keep0: ReadonlySet<number>,
): { source: string; numbers: Map<number, number> } | null => {
  const scan = groupsAndRefs(source);
  if (scan === null || scan.refs.some((r) => r > scan.groups)) return null;
  const keep = new Set([...keep0, ...scan.refs]);
  const numbers = new Map<number, number>();
  let kept = 0;
  for (let g = 1; g <= scan.groups; g++) if (keep.has(g)) numbers.set(g, ++kept);
  let out = '';
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) {
        const digits = /^\d+/.exec(source.slice(i + 1))?.[0] ?? '';
        out += `\\${numbers.get(Number(digits)) as number}`;
        i += digits.length;
        continue;
      }
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
    if (c === '(' && source[i + 1] !== '?') {
      n++;
      out += keep.has(n) ? c : '(?:';
      continue;
    }
    out += c;
  }
  return { source: out, numbers };
};

// 1.2's ConfigTokenRetrieve, exactly: the file is read as fgets() would (1023-byte chunks, a NUL ends what strstr
// sees), the first non-comment chunk containing KEY with "=" or " " at column strlen(KEY) wins, the value runs
// from the first '"' to the next '"' or non-printable byte.

export type Chunk = { text: string; line: number };
export type Token =
  | { kind: 'value'; value: string; line: number; raw: string }
  | { kind: 'no-quotes'; line: number }
  | { kind: 'absent' };

const MAXBUF = 1024;

// Split bytes (latin1 text) into fgets() chunks, remembering the 1-based file line each chunk starts on.
export const splitChunks = (text: string): Chunk[] => {
  const out: Chunk[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const nl = text.indexOf('\n', i);
    const lineEnd = nl < 0 ? text.length : nl + 1;
    for (let s = i; s < lineEnd; s += MAXBUF - 1) {
      const raw = text.slice(s, Math.min(lineEnd, s + MAXBUF - 1));
      const nul = raw.indexOf('\0');
      out.push({ text: nul < 0 ? raw : raw.slice(0, nul), line });
    }
    i = lineEnd;
    line++;
  }
  return out;
};

const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;

export const retrieveToken = (chunks: readonly Chunk[], key: string): Token => {
  for (const c of chunks) {
    const t = c.text;
    if (t.startsWith('#') || t.length === 0) continue;
    if (!t.includes(key)) continue;
    const after = t[key.length];
    if (after !== '=' && after !== ' ') continue;
    const q = t.indexOf('"');
    if (q < 0) return { kind: 'no-quotes', line: c.line };
    let value = '';
    for (let i = q + 1; i < t.length && value.length < MAXBUF - 1; i++) {
      const code = t.charCodeAt(i);
      if (!isPrint(code) || code === 0x22) break;
      value += t[i];
    }
    return { kind: 'value', value, line: c.line, raw: t };
  }
  return { kind: 'absent' };
};

// C atoi(): leading blanks, optional sign, digits; anything else stops; no digits gives 0.
export const atoi = (s: string): number => {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const n = Number.parseInt(m[1] as string, 10);
  // int overflow is undefined in C; clamp to a 32-bit int as glibc's strtol-based atoi does.
  return Math.max(-2147483648, Math.min(2147483647, n));
};

// Does atoi() read the whole item (ignoring surrounding blanks)? If not, 1.2 silently misread it.
export const isCleanInt = (s: string): boolean => /^[ \t]*[+-]?\d+[ \t]*$/.test(s);

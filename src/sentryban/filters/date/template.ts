import { translatePyRegex } from '../regex/to-js.js';
import { keepGroups, numberGroups } from '../regex/numbered.js';
import { scanSyntax } from '../regex/syntax-scan.js';
import { expandTokens, tokenTable } from './tokens.js';

// One date template: a compiled regex whose first capturing group (renamed __d) is the date text.
export type DateTemplate = {
  name: string;
  re: RegExp;
  kind: 'pattern' | 'epoch' | 'tai64n';
  longEpoch: boolean;
  lineBegin: boolean; // anchored at line start (or end): no need to search elsewhere
  isAnchoredCopy: boolean;
  weight: number;
  // true: the date span is computed from the __p (text before the date) and __d groups, without the
  // costlier `d` (indices) flag; false: the regex has the `d` flag.
  byPrefix: boolean;
  // Group numbers by name (the regex has numbered groups only: no groups object per match).
  groups: Map<string, number[]>;
  prefixNums: number[]; // group numbers of __p and __d (the hot path skips the Map)
  dateNums: number[];
  // byPrefix templates: the same regex capturing only __p (group 1) and __d (group 2), to find where the date
  // is; the full regex runs only when the date text differs from the last one converted.
  fast: RegExp | null;
  // How `fast.test()` alone can place the date (no match array): 0 never; 1 when the line starts with a word
  // character; 2 always. `fast` is then `(^(?:\W{0,2})?)(DATE)` (1) or `(^)(DATE)` (2), followed by nothing or a
  // lookahead only, without the m flag: the match is at 0, the date ends where the match does (lastIndex), and
  // starts at 0 (\W cannot take a word character).
  spanTest: 0 | 1 | 2;
  // Templates with `fast` whose fraction of a second comes as `(?:[.,]%f)?` or `(?:\.%f)?` (the defaults'): the full
  // regex with indices (`d`), and the group number of `%f`. No other part of such a pattern can read the fraction's
  // digits (the separator before them is the only `.`/`,` the pattern takes after the seconds), and `[0-9]{1,6}`
  // takes any digits alike: a date text of the same length that differs from a converted one only in those
  // digits matches the same way, with the same fields but `%f`, so it has the same time (date/detector.ts).
  fraction: { re: RegExp; num: number } | null;
  // Default templates whose seconds come as `%M:%S` followed by nothing that can take a digit (defaults.ts): the
  // full regex with indices and the group number of `%S`. A date text of the same length that differs from a
  // converted one only in the two digits of the seconds (00-59) and the fraction matches the same way, the
  // colon before and the fixed text after pinning every other group, so its fields are the same but `%S`
  // (date/detector.ts: the time then follows from the minute's, when the minute converts linearly).
  seconds: { re: RegExp; num: number } | null;
};

// `%f` as the defaults write it, expanded (tokens.ts): once, after its separator, the group optional.
const FRACTION = /(?:\[.,\]|\\\.)\(\?P<f>\[0-9\]\{1,6\}\)\)\?/;
const fractionOf = (pyRegex: string, fast: RegExp | null, src: string, flags: string, f: number[] | undefined) =>
  fast !== null && f?.length === 1 && pyRegex.split('(?P<f>').length === 2 && FRACTION.test(pyRegex)
    ? { re: new RegExp(src, `${flags}dg`), num: f[0] as number }
    : null;

// The template with DateTemplate.seconds, for the default patterns that write `%M:%S` (defaults.ts): the full
// regex with indices (the fraction's when it has one) and the group number of `%S`.
export const withSeconds = (t: DateTemplate): DateTemplate => {
  const s = t.groups.get('S');
  if (t.kind !== 'pattern' || t.fast === null || s?.length !== 1) return t;
  const flags = t.re.flags.includes('d') ? t.re.flags : `${t.re.flags}d`;
  return { ...t, seconds: { re: t.fraction?.re ?? new RegExp(t.re.source, flags), num: s[0] as number } };
};

// The index just after the group opened at `open` (source[open] === '('), or -1.
const groupEnd = (src: string, open: number): number => {
  const close = scanSyntax(src, open, (c, depth) => c === ')' && depth === 1);
  return close < 0 ? -1 : close + 1;
};
const SPAN_TAILS = new Set(['', String.raw`(?=\b|\W|(?=\n?$))`, String.raw`(?=\b|\W|$)`]);
export const spanTestOf = (fast: RegExp | null): 0 | 1 | 2 => {
  if (!fast || /[myuv]/.test(fast.flags)) return 0; // (u or v with i: \W takes some word characters)
  const src = fast.source;
  const kind = src.startsWith(String.raw`(^(?:\W{0,2})?)(`) ? 1 : src.startsWith('(^)(') ? 2 : 0;
  if (kind === 0) return 0;
  const open = kind === 1 ? 15 : 3;
  if (src[open] !== '(' || src[open + 1] === '?') return 0;
  const end = groupEnd(src, open);
  return end > 0 && SPAN_TAILS.has(src.slice(end)) ? kind : 0;
};

const GLOBAL_FLAGS = /((?:^|(?!<\\))\(\?[a-z]+\))/;
const GROUPED = /(?<!(?:\(\?))(?<!\\)\((?!\?)/;
const GROUP_WRAP = /^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$/s;
const NO_WORD_BEG = /^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)/;
const NO_WORD_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const DEL_WORD_BOUNDS = /^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$/g;
const LINE_BEG = /^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))/;
const LINE_END = /(?<![\\|])(?:\$\)?)$/;
const ALPHA_TOKEN = /(?<!%)%[aAbBpc]/;
const EPOCH_TOKEN = /(?<!\\)\{L?EPOCH\}/gi;
const EPOCH_RE = String.raw`\d{10,11}\b(?:\.\d{3,6})?`;
const LEPOCH_RE = String.raw`\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?`;

export class DateTemplateError extends Error {}

// Name the first capturing group __d (the date text to cut), whatever its original name.
const nameFirstGroup = (re: string): string => {
  for (let i = scanSyntax(re, 0, isOpen, true); i >= 0; i = scanSyntax(re, i + 1, isOpen, true)) {
    if (re[i + 1] !== '?') return `${re.slice(0, i)}(?P<__d>${re.slice(i + 1)}`;
    const m = /^\(\?P<(\w+)>/.exec(re.slice(i));
    if (m) return closeExtra(re, i, m[0].length, m[1] ?? '');
  }
  return re;
};
const isOpen = (c: string): boolean => c === '(';
// A named first group keeps its name inside a new __d group: find its end and add one ")".
const closeExtra = (re: string, start: number, headLen: number, name: string): string => {
  const i = scanSyntax(re, start, (c, depth) => c === ')' && depth === 1, true);
  return i < 0 ? re : `${re.slice(0, start)}(?P<__d>(?P<${name}>${re.slice(start + headLen, i)}))${re.slice(i + 1)}`;
};

// When the date group sits at the top level (no top-level "|"), wrap what precedes it as __p so the date's
// start is m.index + __p.length: no need for match indices on the hot path.
const wrapPrefix = (re: string): string | null => {
  const flags = /^(?:\(\?[a-zA-Z]+\))*/.exec(re)?.[0] ?? '';
  let first = -1;
  const topBar = (c: string, depth: number, at: number): boolean => {
    if (c === '(' && first < 0 && depth === 0 && re.startsWith('(?P<__d>', at)) first = at;
    return c === '|' && depth === 0;
  };
  if (scanSyntax(re, flags.length, topBar, true) >= 0 || first < 0) return null;
  return `${flags}(?P<__p>${re.slice(flags.length, first)})${re.slice(first)}`;
};

type Bound = boolean | 'start';

// fail2ban's DateTemplate.setRegex: word or line boundaries around the date, `**` to drop them.
const buildRegex = (
  regex0: string,
  wordBegin: Bound,
  wordEnd: boolean,
): { regex: string; lineBegin: boolean; lineEnd: boolean; anchoredName: boolean } => {
  let regex = regex0.trim();
  const gf = GLOBAL_FLAGS.exec(regex);
  if (gf) regex = regex.replace(GLOBAL_FLAGS, '');
  const boundBegin = wordBegin !== false && !NO_WORD_BEG.test(regex);
  const boundEnd = wordEnd && !NO_WORD_END.test(regex);
  if (!GROUPED.test(regex)) regex = regex.replace(GROUP_WRAP, '$1($2)$3');
  let lineBegin = false;
  let lineEnd = false;
  let anchoredName = false;
  if (boundBegin) {
    if (wordBegin !== 'start') regex = String.raw`(?=^|\b|\W)` + regex;
    else {
      regex = String.raw`^(?:\W{0,2})?` + regex;
      lineBegin = true;
      anchoredName = true;
    }
  }
  if (boundEnd) regex += String.raw`(?=\b|\W|$)`;
  if (!lineBegin && LINE_BEG.test(regex)) lineBegin = true;
  if (LINE_END.test(regex)) lineEnd = true;
  regex = regex.replace(DEL_WORD_BOUNDS, (m) => m.replace('**', ''));
  if (gf) regex = (gf[1] ?? '') + regex;
  return { regex, lineBegin, lineEnd, anchoredName };
};

const compile = (
  name: string,
  pyRegex: string,
  kind: DateTemplate['kind'],
  longEpoch: boolean,
  lineBegin: boolean,
): DateTemplate => {
  const named = nameFirstGroup(pyRegex);
  const wrapped = wrapPrefix(named);
  const t = translatePyRegex(wrapped ?? named);
  if (!t.ok)
    throw new DateTemplateError(
      `date pattern ${JSON.stringify(name)}: ${t.error.message}${t.error.construct ? ` at ${JSON.stringify(t.error.construct)}` : ''}`,
    );
  const byPrefix = wrapped !== null && !t.value.groupNames.some((g) => /__b\d+$/.test(g));
  const num = numberGroups(t.value.source);
  const groups = new Map<string, number[]>();
  for (const [n, nums] of num.index) {
    const base = n.replace(/__b\d+$/, '');
    groups.set(base, [...(groups.get(base) ?? []), ...nums]);
  }
  const prefixNums = groups.get('__p') ?? [];
  const dateNums = groups.get('__d') ?? [];
  const kept =
    byPrefix && prefixNums.length === 1 && dateNums.length === 1
      ? keepGroups(num.source, new Set([...prefixNums, ...dateNums]))
      : null;
  const fast =
    kept && kept.numbers.get(prefixNums[0] as number) === 1 && kept.numbers.get(dateNums[0] as number) === 2
      ? new RegExp(kept.source, `${t.value.flags}g`)
      : null;
  return {
    name,
    re: new RegExp(num.source, `${t.value.flags}${byPrefix ? '' : 'd'}g`),
    kind,
    longEpoch,
    lineBegin,
    isAnchoredCopy: false,
    weight: 1,
    byPrefix,
    groups,
    prefixNums,
    dateNums,
    fast,
    spanTest: spanTestOf(fast),
    fraction: fractionOf(pyRegex, fast, num.source, t.value.flags, groups.get('f')),
    seconds: null,
  };
};

const patternTemplate = (pattern: string, nowYear: number): DateTemplate => {
  let p = pattern;
  let wordBegin: Bound = true;
  let wordEnd = true;
  if (p.startsWith('{UNB}')) {
    p = p.slice(5);
    wordBegin = false;
    wordEnd = false;
  }
  if (wordBegin && p.startsWith('{^LN-BEG}')) {
    p = p.slice(9);
    wordBegin = 'start';
  }
  let regex = expandTokens(p, tokenTable(nowYear));
  if (regex === null)
    throw new DateTemplateError(`date pattern ${JSON.stringify(pattern)}: unknown %-token or unescaped "%"`);
  if (ALPHA_TOKEN.test(p)) regex = `(?iu)${regex}`;
  const b = buildRegex(regex, wordBegin, wordEnd);
  const name = b.anchoredName && !pattern.startsWith('{^LN-BEG}') ? `{^LN-BEG}${pattern}` : pattern;
  return compile(name, b.regex, 'pattern', false, b.lineBegin || b.lineEnd);
};

const epochTemplate = (key: string, pattern: string | null, lineBeginOnly: boolean, long: boolean): DateTemplate => {
  const ere = long ? LEPOCH_RE : EPOCH_RE;
  if (pattern) {
    const b = buildRegex(`(${pattern.replace(EPOCH_TOKEN, () => `(?P<__epoch>${ere})`)})`, true, true);
    return compile(key, b.regex, 'epoch', long, b.lineBegin || b.lineEnd);
  }
  if (!lineBeginOnly) {
    const re = String.raw`((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))${ere})(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))`;
    const b = buildRegex(re, false, true);
    return compile(long ? 'LongEpoch' : 'Epoch', b.regex, 'epoch', long, b.lineBegin || b.lineEnd);
  }
  const b = buildRegex(String.raw`((?P<square>(?<=^\[))?${ere})(?(square)(?=\]))`, 'start', true);
  return compile(`{^LN-BEG}${long ? 'LongEpoch' : 'Epoch'}`, b.regex, 'epoch', long, true);
};

// fail2ban's _getPatternTemplate: EPOCH / LEPOCH / TAI64N keywords, else a %-token pattern.
export const makeTemplate = (pattern: string, nowYear: number): DateTemplate => {
  const key = pattern.includes('%') ? pattern : pattern.toUpperCase();
  if (key.includes('EPOCH')) {
    EPOCH_TOKEN.lastIndex = 0;
    if (EPOCH_TOKEN.test(pattern)) return epochTemplate(pattern, pattern, false, key.includes('LEPOCH'));
    if (['EPOCH', '{^LN-BEG}EPOCH', '^EPOCH'].includes(key)) return epochTemplate(key, null, key !== 'EPOCH', false);
    if (['LEPOCH', '{^LN-BEG}LEPOCH', '^LEPOCH'].includes(key)) return epochTemplate(key, null, key !== 'LEPOCH', true);
  }
  if (['TAI64N', '{^LN-BEG}TAI64N', '^TAI64N'].includes(key)) {
    const b = buildRegex('@[0-9a-f]{24}', key !== 'TAI64N' ? 'start' : false, true);
    return compile(key === 'TAI64N' ? 'TAI64N' : '{^LN-BEG}TAI64N', b.regex, 'tai64n', false, b.lineBegin || b.lineEnd);
  }
  return patternTemplate(pattern, nowYear);
};

import { makeTemplate, withSeconds, type DateTemplate } from './template.js';

// fail2ban's default date templates, in its order (datedetector DEFAULT_TEMPLATES).
export const DEFAULT_PATTERNS: readonly string[] = [
  '%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\\s*%z)?',
  '(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  '(?:%a )?%b %d %ExY %k:%M:%S(?:\\.%f)?',
  '%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S',
  '%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\\.%f)?(?: %z)?',
  '%m/%d/%ExY:%H:%M:%S',
  '%m-%d-%ExY %k:%M:%S(?:\\.%f)?',
  'EPOCH',
  '{^LN-BEG}%H:%M:%S',
  '^<%m/%d/%Exy@%H:%M:%S>',
  '%Exy%Exm%Exd  ?%H:%M:%S',
  '%b %d, %ExY %I:%M:%S %p',
  '^%b-%d-%Exy %k:%M:%S',
  '%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\\s*%z)?',
  '(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  '(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  'TAI64N',
];

const sourceOf = (p: string): string => (p === 'EPOCH' ? 'Epoch' : p);

export type DefaultSet = { all: DateTemplate[]; originals: DateTemplate[] };

// The 31 live defaults: a line-anchored copy (weight 100) of each template not anchored already, then the 17.
// Each default that writes `%M:%S` was checked by hand for DateTemplate.seconds: `%S` once, after `%M:`, then
// only an optional fraction, year, zone or AM/PM, each after a non-digit, or the pattern's end; every field before
// it has a bounded width and a separator (not custom datepatterns: a `.*` before the time could read the seconds).
const makeDefault = (p: string, nowYear: number): DateTemplate => {
  const t = makeTemplate(p, nowYear);
  return p.includes('%M:%S') ? withSeconds(t) : t;
};

export const buildDefaults = (nowYear: number): DefaultSet => {
  const originals = DEFAULT_PATTERNS.map((p) => makeDefault(p, nowYear));
  const copies: DateTemplate[] = [];
  DEFAULT_PATTERNS.forEach((p, i) => {
    const t = originals[i] as DateTemplate;
    if (t.name.startsWith('{^LN-BEG}') || t.name.startsWith('^')) return;
    const c = makeDefault(`{^LN-BEG}${sourceOf(p)}`, nowYear);
    if (c.name !== t.name) copies.push({ ...c, weight: 100, isAnchoredCopy: true });
  });
  return { all: [...copies, ...originals], originals };
};

const unbound = (p: string): string =>
  p
    .replace(/^\{UNB\}/, '')
    .replace(/^\{\^LN-BEG\}/, '')
    .replace(/^\((?:\?:)?\^\|\\b\|\\W\)/, '')
    .replace(/\(\?=\\b\|\\W\|\$\)$/, '');

// `datepattern` lines -> templates, as fail2ban's DateDetector.appendTemplate.
export const templatesFor = (lines: readonly string[], nowYear: number): DateTemplate[] => {
  const defs = buildDefaults(nowYear);
  if (lines.length === 0) return defs.all;
  const out: DateTemplate[] = [];
  const names = new Set<string>();
  const add = (t: DateTemplate, ignoreDup: boolean): void => {
    if (names.has(t.name)) {
      if (ignoreDup) return;
      throw new Error(`date template ${t.name} given twice`);
    }
    names.add(t.name);
    out.push(t);
  };
  for (const line of lines) {
    const key = line.includes('%') ? line : line.toUpperCase();
    const ignoreDup = out.length > 0;
    if (key === '{^LN-BEG}' || key === '{DEFAULT}') {
      for (const t of defs.all) if (key === '{DEFAULT}' || t.lineBegin) add(t, ignoreDup);
    } else if (key.includes('{DATE}')) {
      DEFAULT_PATTERNS.forEach((p) =>
        add(
          makeTemplate(
            line.replace(/(?<!\\)\{DATE\}/gi, () => unbound(sourceOf(p))),
            nowYear,
          ),
          ignoreDup,
        ),
      );
    } else if (key === '{NONE}') add({ ...makeTemplate('{UNB}^', nowYear), name: '{NONE}' }, false);
    else add(makeTemplate(line, nowYear), false);
  }
  return out;
};

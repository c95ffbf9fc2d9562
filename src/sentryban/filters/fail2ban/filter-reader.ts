import { basename } from 'node:path';
import { diag, fail, ok, type Diagnostic, type Result } from '../../../core/diagnostics.js';
import { loadFail2banConf, type Fail2banConf } from './conf.js';
import { lookupOption } from './interpolate.js';
import { substituteTags } from './tags.js';

// A regex as written in a filter, with where it came from (for file:line errors).
export type RegexSource = { regex: string; file: string; line: number };

// A fail2ban filter after includes, interpolation and tag substitution: still Python regex syntax.
export type FilterSpec = {
  name: string;
  files: string[];
  prefregex: RegexSource | null;
  failregex: RegexSource[];
  ignoreregex: RegexSource[];
  datepattern: string | null;
  maxlines: number;
  journalmatch: string[];
  usedns: string | null;
  at?: { file: string; line: number }; // for errors about the whole filter (no failregex): its failregex
  datepatternAt?: { file: string; line: number };
};

const CONFIG_OPTS = [
  'usedns',
  'prefregex',
  'ignoreregex',
  'failregex',
  'maxlines',
  'datepattern',
  'journalmatch',
] as const;
const CONDITIONAL_RE = /^(\w+)(\?.+)$/;

// Where an option was written; one written nowhere is placed at the [Definition] header, else at line 1.
const locate = (conf: Fail2banConf, opt: string): { file: string; line: number } => {
  const v = conf.sections.get('Definition')?.get(opt) ?? conf.defaults.get(opt);
  if (v && v.line >= 1) return { file: v.file, line: v.line };
  return conf.sectionAt.get('Definition') ?? { file: conf.files.at(-1) ?? `${conf.base}.conf`, line: 1 };
};

const splitRegexes = (value: string | undefined, where: { file: string; line: number }): RegexSource[] =>
  (value ?? '')
    .split('\n')
    .map((r, i) => ({ regex: r, file: where.file, line: where.line + i }))
    .filter((r) => r.regex !== '');

// Options passed by a jail (`sshd[mode=aggressive]`) win over [Init], which wins over [Definition].
// `logtype` defaults to "file" as fail2ban sets it for non-systemd backends.
export const readFail2banFilter = (
  conf: Fail2banConf,
  jailOpts: Readonly<Record<string, string>> = {},
): Result<FilterSpec> => {
  const errors: Diagnostic[] = [];
  const pOpts: Record<string, string> = { ...jailOpts };
  if (!('logtype' in pOpts) && !conf.sections.get('Definition')?.has('logtype')) pOpts.logtype = 'file';
  const combined = new Map<string, string>();
  for (const opt of CONFIG_OPTS) {
    if (opt in pOpts) continue;
    const r = lookupOption(conf, 'Definition', opt, pOpts);
    if (!r.ok) {
      errors.push(...r.errors);
      continue;
    }
    if (r.value !== undefined) combined.set(opt, r.value);
  }
  const init = new Map<string, string>(Object.entries(pOpts));
  for (const [opt] of conf.sections.get('Init') ?? []) {
    const r = lookupOption(conf, 'Init', opt);
    if (!r.ok) {
      errors.push(...r.errors);
      continue;
    }
    if (!opt.startsWith('known/')) init.set(`known/${opt}`, r.value ?? '');
    if (!init.has(opt)) init.set(opt, r.value ?? '');
  }
  if (errors.length) return fail(errors);
  for (const [k, v] of init) combined.set(k, v);
  const ignore = new Set<string>();
  for (const k of combined.keys()) {
    const c = CONDITIONAL_RE.exec(k);
    if (c?.[1]) ignore.add(c[1]);
  }
  const extra = (name: string): string | undefined => {
    const r = lookupOption(conf, 'Definition', name, pOpts);
    return r.ok ? r.value : undefined;
  };
  const sub = substituteTags(combined, extra, ignore);
  if (!sub.ok) {
    const p = locate(conf, 'failregex');
    return fail([diag(p.file, p.line, sub.message)]);
  }
  const o = sub.value;
  const maxlinesText = o.get('maxlines') ?? '1';
  const maxlines = /^\s*\d+\s*$/.test(maxlinesText) ? Number(maxlinesText) : NaN;
  if (!(maxlines >= 1))
    return fail([
      diag(
        locate(conf, 'maxlines').file,
        locate(conf, 'maxlines').line,
        `maxlines: expected a positive integer, got ${JSON.stringify(maxlinesText)}`,
        'Definition',
      ),
    ]);
  const pref = o.get('prefregex');
  const dp = o.get('datepattern');
  return ok({
    name: basename(conf.base),
    files: conf.files,
    prefregex: pref ? { regex: pref, ...locate(conf, 'prefregex') } : null,
    failregex: splitRegexes(o.get('failregex'), locate(conf, 'failregex')),
    ignoreregex: splitRegexes(o.get('ignoreregex'), locate(conf, 'ignoreregex')),
    datepattern: dp && dp.trim() !== '' ? dp : null,
    maxlines,
    journalmatch: (o.get('journalmatch') ?? '')
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean),
    usedns: o.get('usedns') ?? null,
    at: locate(conf, 'failregex'),
    datepatternAt: locate(conf, 'datepattern'),
  });
};

// Loads filter.d/<name> (or a path) with jail options, as fail2ban's FilterReader does.
export const loadFail2banFilter = (
  path: string,
  jailOpts: Readonly<Record<string, string>> = {},
): Result<FilterSpec> => {
  const conf = loadFail2banConf(path);
  return conf.ok ? readFail2banFilter(conf.value, jailOpts) : conf;
};

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { closest, diag, fail, type Diagnostic, type Result } from '../../core/diagnostics.js';
import { compileFilter, type CompileOptions, type Filter } from './filter.js';
import type { RegexSource } from './fail2ban/filter-reader.js';

const KEYS = ['name', 'description', 'prefregex', 'failregex', 'ignoreregex', 'datepattern', 'maxlines', 'journalmatch', 'usedns'] as const;

// Line of a top-level key, and of the n-th list item under it (1-based lines), found in the text.
const keyLines = (text: string): Map<string, { line: number; items: number[] }> => {
  const out = new Map<string, { line: number; items: number[] }>();
  let cur: { line: number; items: number[] } | null = null;
  text.split('\n').forEach((l, i) => {
    const k = /^([A-Za-z_][\w-]*)\s*:/.exec(l);
    if (k) { cur = { line: i + 1, items: [] }; out.set(k[1] ?? '', cur); return; }
    if (cur && /^\s+-\s/.test(l)) cur.items.push(i + 1);
  });
  return out;
};

const strList = (v: unknown, key: string, file: string, pos: { line: number; items: number[] } | undefined, errors: Diagnostic[]): RegexSource[] => {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
  if (!list) { errors.push(diag(file, pos?.line ?? 0, `expected a string or a list of strings, got ${typeof v}`, key)); return []; }
  const out: RegexSource[] = [];
  list.forEach((s, i) => {
    const line = pos?.items[i] ?? pos?.line ?? 0;
    if (typeof s !== 'string' || s.trim() === '') errors.push(diag(file, line, `expected a non-empty string, got ${JSON.stringify(s)}`, `${key}[${i}]`));
    else out.push({ regex: s, file, line });
  });
  return out;
};

// Our YAML filter: the same regex syntax and tags as fail2ban's, as data; unknown keys refused with file:line.
export const loadYamlFilter = (file: string, o: CompileOptions = {}): Result<Filter> => {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { return fail([diag(file, 0, `cannot read: ${(e as Error).message}`)]); }
  let doc: unknown;
  try { doc = loadYaml(text, { filename: file }); } catch (e) {
    const mark = (e as { mark?: { line: number; column: number } }).mark;
    return fail([diag(file, (mark?.line ?? -1) + 1, (e as { reason?: string }).reason ?? (e as Error).message, '', (mark?.column ?? -1) + 1)]);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail([diag(file, 1, 'expected a mapping of filter keys')]);
  const pos = keyLines(text);
  const errors: Diagnostic[] = [];
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!(KEYS as readonly string[]).includes(k)) {
      const hint = closest(k, KEYS);
      errors.push(diag(file, pos.get(k)?.line ?? 0, `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`, k));
    }
  }
  const failregex = strList(d.failregex, 'failregex', file, pos.get('failregex'), errors);
  const ignoreregex = strList(d.ignoreregex, 'ignoreregex', file, pos.get('ignoreregex'), errors);
  const pref = strList(d.prefregex, 'prefregex', file, pos.get('prefregex'), errors);
  const dates = strList(d.datepattern, 'datepattern', file, pos.get('datepattern'), errors);
  const jm = strList(d.journalmatch, 'journalmatch', file, pos.get('journalmatch'), errors);
  const maxlines = d.maxlines ?? 1;
  if (typeof maxlines !== 'number' || !Number.isInteger(maxlines) || maxlines < 1) errors.push(diag(file, pos.get('maxlines')?.line ?? 0, `expected a positive integer, got ${JSON.stringify(maxlines)}`, 'maxlines'));
  const usedns = d.usedns === undefined ? 'no' : d.usedns === false ? 'no' : d.usedns === true ? 'yes' : d.usedns;
  if (!['yes', 'no', 'warn', 'raw'].includes(String(usedns))) errors.push(diag(file, pos.get('usedns')?.line ?? 0, `expected yes, no, warn or raw, got ${JSON.stringify(d.usedns)}`, 'usedns'));
  if (pref.length > 1) errors.push(diag(file, pos.get('prefregex')?.line ?? 0, 'expected one prefregex', 'prefregex'));
  if (errors.length) return fail(errors);
  return compileFilter({
    name: typeof d.name === 'string' ? d.name : basename(file).replace(/\.ya?ml$/, ''), files: [file],
    prefregex: pref[0] ?? null, failregex, ignoreregex, datepattern: dates.length ? dates.map((x) => x.regex).join('\n') : null,
    maxlines: maxlines as number, journalmatch: jm.map((x) => x.regex), usedns: String(usedns),
  }, { usedns: String(usedns), ...o });
};

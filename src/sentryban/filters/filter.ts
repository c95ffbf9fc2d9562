import { diag, fail, ok, type Diagnostic, type Result } from '../../core/diagnostics.js';
import { compileRegex, hasFailureId, type CompiledRegex } from './compiled-regex.js';
import type { FilterSpec } from './fail2ban/filter-reader.js';
import { templatesFor } from './date/defaults.js';
import type { DateTemplate } from './date/template.js';

// A filter ready to match: every regex translated and compiled once, date templates built once.
export type Filter = {
  name: string;
  files: string[];
  prefregex: CompiledRegex | null;
  failregex: CompiledRegex[];
  ignoreregex: CompiledRegex[];
  datepattern: string[];
  dateTemplates: DateTemplate[];
  maxlines: number;
  journalmatch: string[];
  usedns: string;
  // Fast reject: failregex indexes (in order) worth trying for a text starting with a given character;
  // `wild` holds those that can start with anything.
  dispatch: Map<string, number[]>;
  wild: number[];
};

const buildDispatch = (res: readonly CompiledRegex[]): { dispatch: Map<string, number[]>; wild: number[] } => {
  const wild: number[] = [];
  const byChar = new Map<string, Set<number>>();
  res.forEach((r, i) => {
    if (!r.prefixes) {
      wild.push(i);
      return;
    }
    for (const p of r.prefixes) {
      const c = p[0] as string;
      const set = byChar.get(c) ?? new Set<number>();
      set.add(i);
      byChar.set(c, set);
    }
  });
  const dispatch = new Map<string, number[]>();
  for (const [c, set] of byChar)
    dispatch.set(
      c,
      [...new Set([...set, ...wild])].sort((a, b) => a - b),
    );
  return { dispatch, wild };
};

// usedns: forced (a jail's own, `regex --usedns`); defaultUsedns: used when neither that nor the filter sets it.
export type CompileOptions = { usedns?: string; defaultUsedns?: string; nowYear?: number };

export const compileFilter = (spec: FilterSpec, opts: CompileOptions = {}): Result<Filter> => {
  const errors: Diagnostic[] = [];
  const usedns = opts.usedns ?? spec.usedns ?? opts.defaultUsedns ?? 'warn';
  const multiline = spec.maxlines > 1;
  const one = (s: FilterSpec['failregex'][number], kind: string): CompiledRegex | null => {
    const r = compileRegex(s, usedns, multiline, kind);
    if (!r.ok) {
      errors.push(...r.errors);
      return null;
    }
    return r.value;
  };
  const pref = spec.prefregex ? one(spec.prefregex, 'prefregex') : null;
  const failres = spec.failregex.map((s) => one(s, 'failregex')).filter((r): r is CompiledRegex => r !== null);
  const ignores = spec.ignoreregex.map((s) => one(s, 'ignoreregex')).filter((r): r is CompiledRegex => r !== null);
  for (const r of failres) {
    if (!hasFailureId(r) && !(pref && hasFailureId(pref)))
      errors.push(
        diag(
          r.source.file,
          r.source.line,
          `no failure-id group (<HOST>, <ADDR>, <F-ID> ...) in ${JSON.stringify(r.source.regex)}`,
          'failregex',
        ),
      );
  }
  const at = spec.at ?? { file: spec.files.at(-1) ?? spec.name, line: 1 };
  if (spec.failregex.length === 0) errors.push(diag(at.file, at.line, 'no failregex', 'failregex'));
  const datepattern = (spec.datepattern ?? '')
    .split(/\n+/)
    .map((s) => s.trim())
    .filter(Boolean);
  let dateTemplates: DateTemplate[] = [];
  try {
    dateTemplates = templatesFor(datepattern, opts.nowYear ?? new Date().getFullYear());
  } catch (e) {
    const dp = spec.datepatternAt ?? at;
    errors.push(diag(dp.file, dp.line, (e as Error).message, 'datepattern'));
  }
  if (errors.length) return fail(errors);
  return ok({
    name: spec.name,
    files: spec.files,
    prefregex: pref,
    failregex: failres,
    ignoreregex: ignores,
    datepattern,
    dateTemplates,
    maxlines: spec.maxlines,
    journalmatch: spec.journalmatch,
    usedns,
    ...buildDispatch(failres),
  });
};

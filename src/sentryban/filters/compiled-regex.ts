import { diag, fail, ok, type Result } from '../../core/diagnostics.js';
import { expandHostTags } from './host-tags.js';
import { translatePyRegex } from './regex/to-js.js';
import type { RegexSource } from './fail2ban/filter-reader.js';

// A failregex/ignoreregex/prefregex compiled once: the JavaScript RegExp and what to do with its groups.
export type CompiledRegex = {
  source: RegexSource; // as written (Python syntax, tags unexpanded)
  re: RegExp;
  hasBranches: boolean; // groups renamed name__bN by conditional expansion
  alt: Array<[string, string]>; // alt_x[_n] -> x
  tuple: Array<[string, string]>;
  names: Set<string>;
  prefix: string | null; // a match must start with this literal (checked before running the regex)
};

const BRANCH = /__b\d+$/;
const COMPL = /^(alt_|tuple_)(.*?)(?:_\d+)?$/;
const FAILURE_ID_GROUPS = ['fid', 'ip4', 'ip6', 'dns', 'mlfid'];

export const compileRegex = (src: RegexSource, usedns: string, multiline: boolean, kind: string): Result<CompiledRegex> => {
  const expanded = expandHostTags(src.regex, usedns);
  if (expanded.trim() === '') return fail([diag(src.file, src.line, 'empty regex', kind)]);
  const t = translatePyRegex(expanded, multiline);
  if (!t.ok) {
    const at = t.error.construct ? ` at ${JSON.stringify(t.error.construct)}` : '';
    return fail([diag(src.file, src.line, `cannot translate to JavaScript: ${t.error.message}${at} in ${JSON.stringify(src.regex)}`, kind)]);
  }
  const names = new Set(t.value.groupNames.map((n) => n.replace(BRANCH, '')));
  const alt: Array<[string, string]> = []; const tuple: Array<[string, string]> = [];
  for (const n of [...names].sort()) {
    const m = COMPL.exec(n);
    if (!m || n.length <= 4) continue;
    const target = (m[2] ?? '').toLowerCase().replace(/^id$/, 'fid').replace(/^port$/, 'fport');
    (m[1] === 'alt_' ? alt : tuple).push([n, target]);
  }
  return ok({ source: src, re: new RegExp(t.value.source, t.value.flags), hasBranches: t.value.groupNames.some((n) => BRANCH.test(n)), alt, tuple, names, prefix: t.value.prefix });
};

export const hasFailureId = (r: CompiledRegex): boolean => FAILURE_ID_GROUPS.some((g) => r.names.has(g));

// Group values of a match, conditional-branch copies folded, alt_/tuple_ applied as fail2ban does.
export const groupsOf = (r: CompiledRegex, m: RegExpExecArray): Record<string, string> => {
  const out: Record<string, string> = {};
  const g = m.groups;
  if (g) {
    for (const k in g) {
      const v = g[k];
      if (v === undefined) continue;
      const n = r.hasBranches ? k.replace(BRANCH, '') : k;
      if (out[n] === undefined) out[n] = v;
    }
  }
  for (const [k, n] of r.alt) { const v = out[k]; if (v && !out[n]) out[n] = v; }
  for (const [k, n] of r.tuple) { out[n] = `${out[n] ?? ''}\u0000${out[k] ?? ''}`; }
  return out;
};

import { diag, fail, ok, type Result } from '../../core/diagnostics.js';
import { expandHostTags } from './host-tags.js';
import { translatePyRegex } from './regex/to-js.js';
import { numberGroups } from './regex/numbered.js';
import { POSSESSIVE_GROUP } from './regex/possessive.js';
import type { RegexSource } from './fail2ban/filter-reader.js';

// A failregex/ignoreregex/prefregex compiled once: the JavaScript RegExp and what to do with its groups.
export type CompiledRegex = {
  source: RegexSource; // as written (Python syntax, tags unexpanded)
  re: RegExp;
  hasBranches: boolean; // groups renamed name__bN by conditional expansion
  groups: Array<[string, number[]]>; // group numbers by name (the RegExp has numbered groups only)
  alt: Array<[string, string]>; // alt_x[_n] -> x
  tuple: Array<[string, string]>;
  names: Set<string>;
  prefixes: string[] | null; // a match must start with one of these (checked before running the regex)
};

const BRANCH = /__b\d+$/;
const COMPL = /^(alt_|tuple_)(.*?)(?:_\d+)?$/;
const FAILURE_ID_GROUPS = ['fid', 'ip4', 'ip6', 'dns', 'mlfid'];

export const compileRegex = (
  src: RegexSource,
  usedns: string,
  multiline: boolean,
  kind: string,
): Result<CompiledRegex> => {
  const expanded = expandHostTags(src.regex, usedns);
  if (expanded.trim() === '') return fail([diag(src.file, src.line, 'empty regex', kind)]);
  const t = translatePyRegex(expanded, multiline, true);
  if (!t.ok) {
    const at = t.error.construct ? ` at ${JSON.stringify(t.error.construct)}` : '';
    return fail([
      diag(
        src.file,
        src.line,
        `cannot translate to JavaScript: ${t.error.message}${at} in ${JSON.stringify(src.regex)}`,
        kind,
      ),
    ]);
  }
  const names = new Set(t.value.groupNames.map((n) => n.replace(BRANCH, '')));
  const alt: Array<[string, string]> = [];
  const tuple: Array<[string, string]> = [];
  for (const n of [...names].sort()) {
    const m = COMPL.exec(n);
    if (!m || n.length <= 4) continue;
    const target = (m[2] ?? '')
      .toLowerCase()
      .replace(/^id$/, 'fid')
      .replace(/^port$/, 'fport');
    (m[1] === 'alt_' ? alt : tuple).push([n, target]);
  }
  // A backreference to a group not (yet) defined, or what else RegExp refuses, is the regex's error (Python's re
  // refuses them too), never an exception out of the loader (found by bench/soak/config-fuzz.ts).
  let num: ReturnType<typeof numberGroups>;
  let re: RegExp;
  try {
    num = numberGroups(t.value.source);
    re = new RegExp(num.source, t.value.flags);
  } catch (e) {
    const msg = `cannot translate to JavaScript: ${(e as Error).message} in ${JSON.stringify(src.regex)}`;
    return fail([diag(src.file, src.line, msg, kind)]);
  }
  const byName = new Map<string, number[]>();
  for (const [n, nums] of num.index) {
    if (POSSESSIVE_GROUP.test(n)) continue;
    const base = n.replace(BRANCH, '');
    byName.set(base, [...(byName.get(base) ?? []), ...nums]);
  }
  const hasBranches = t.value.groupNames.some((n) => BRANCH.test(n));
  return ok({ source: src, re, hasBranches, groups: [...byName], alt, tuple, names, prefixes: t.value.prefixes });
};

export const hasFailureId = (r: CompiledRegex): boolean => FAILURE_ID_GROUPS.some((g) => r.names.has(g));

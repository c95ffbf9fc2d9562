import type { CompiledRegex } from './compiled-regex.js';
import { scanSyntax } from './regex/syntax-scan.js';

// What the matcher does with a compiled regex's matches (apart from compiled-regex.ts, which translates and
// compiles: the worker threads of `sentryban regex` get their filter compiled and load only this part).

// First defined value of a named group.
export const groupOf = (r: CompiledRegex, m: RegExpExecArray, name: string): string | undefined => {
  for (const [n, nums] of r.groups)
    if (n === name)
      for (const i of nums) {
        const v = m[i];
        if (v !== undefined) return v;
      }
  return undefined;
};

// Group values of a match, conditional-branch copies folded, alt_/tuple_ applied as fail2ban does.
// `without` names a group left out (the prefregex's content).
export const groupsOf = (r: CompiledRegex, m: RegExpExecArray, without?: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [n, nums] of r.groups) {
    if (n === without) continue;
    for (const i of nums) {
      const v = m[i];
      if (v !== undefined) {
        out[n] = v;
        break;
      }
    }
  }
  for (const [k, n] of r.alt) {
    const v = out[k];
    if (v && !out[n]) out[n] = v;
  }
  for (const [k, n] of r.tuple) {
    out[n] = `${out[n] ?? ''}\u0000${out[k] ?? ''}`;
  }
  if (without !== undefined && out[without] !== undefined) delete out[without];
  return out;
};

// A prefregex ending in its content group, `([^\n]+)(?=\n?$)` (fail2ban's `<F-CONTENT>.+</F-CONTENT>$`), with no
// top-level alternative: the same regex with that group turned into a lookahead, for test(). Where test() leaves
// lastIndex, the content starts, and it runs to the end of the line (before its final newline): the prefix part
// matches the same way in both, since both accept a prefix end by the same condition (a non-empty rest without
// newline before the end). Null when the prefregex is not of that form (exec() then).
const CONTENT_TAIL = String.raw`([^\n]+)(?=\n?$)`;
export const contentTestOf = (r: CompiledRegex): RegExp | null => {
  const src = r.re.source;
  if (!src.endsWith(CONTENT_TAIL) || /[myuv]/.test(r.re.flags)) return null;
  const nums = r.groups.find(([n]) => n === 'content')?.[1];
  const total = (new RegExp(`${src}|`, r.re.flags).exec('') as RegExpExecArray).length - 1;
  if (nums?.length !== 1 || nums[0] !== total) return null;
  const head = src.slice(0, -CONTENT_TAIL.length);
  let depth = 0; // after the last syntax character
  const bar = scanSyntax(head, 0, (c, d) => {
    depth = c === '(' ? d + 1 : c === ')' ? d - 1 : d;
    return c === '|' && d === 0;
  });
  if (bar >= 0) return null;
  return depth === 0 ? new RegExp(`${head}(?=[^\\n]+(?=\\n?$))`, `${r.re.flags}g`) : null;
};

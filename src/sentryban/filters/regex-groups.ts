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

const QUICK_CUT = String.raw`(?=[^\n]+(?=\n?$))`; // contentTestOf's lookahead

// contentTestOf's regex run cheaper: its lookahead scans the whole rest of the line at each prefix end it tries.
// `quick` is the same regex with the lookahead cut to its first character, `(?=[^\n])`: at a prefix end e, the
// full lookahead holds exactly when that one does and the first newline at or after e is the buffer's last
// character (or there is none). So every prefix end the full regex accepts, the quick one accepts too: when the
// quick one finds none, neither does the full one; when the first it finds passes that newline check, it is the
// full one's first too (the ends tried before it were refused by both), same groups; else the full regex runs.
// A line as `sentryban regex` hands it (one newline, at its end) always passes the check.
export class ContentPrefix {
  end = 0; // where the content starts, after exec() found the prefix
  readonly #full: RegExp;
  readonly #quick: RegExp;
  constructor(full: RegExp) {
    this.#full = full;
    this.#quick = new RegExp(`${full.source.slice(0, -QUICK_CUT.length)}(?=[^\\n])`, full.flags);
  }

  exec(buf: string): RegExpExecArray | null {
    const q = this.#quick;
    q.lastIndex = 0;
    const m = q.exec(buf);
    if (m === null) return null;
    const e = q.lastIndex;
    const nl = buf.indexOf('\n', e);
    if (nl < 0 || nl === buf.length - 1) {
      this.end = e;
      return m;
    }
    const full = this.#full;
    full.lastIndex = 0;
    const fm = full.exec(buf);
    this.end = full.lastIndex;
    return fm;
  }
}

// The prefregex as a ContentPrefix, or null when it is not of contentTestOf's form.
export const contentPrefixOf = (r: CompiledRegex): ContentPrefix | null => {
  const full = contentTestOf(r);
  return full === null ? null : new ContentPrefix(full);
};

import { parseCidr } from '../../../core/addr.js';

// What iptables-save shows for our objects in the filter table.
export type SavedState = { chainExists: boolean; sources: string[]; hookLines: string[] };

// The lines of iptables-save's filter table, trailing blanks trimmed.
function* filterLines(text: string): Generator<string, void, void> {
  let inFilter = false;
  for (const raw of text.split('\n')) {
    const l = raw.trimEnd();
    if (l.startsWith('*')) inFilter = l === '*filter';
    else if (inFilter) yield l;
  }
}

// `isOurs` recognises our hook rules in other chains (a jump to our chain, or a match on our set).
export const parseSave = (text: string, chain: string, isOurs: (line: string) => boolean): SavedState => {
  let chainExists = false;
  const sources: string[] = [];
  const hookLines: string[] = [];
  for (const l of filterLines(text)) {
    if (l.startsWith(`:${chain} `)) chainExists = true;
    if (l.startsWith(`-A ${chain} `)) {
      const m = /\s-s\s+(\S+)/.exec(l);
      const c = m ? parseCidr(m[1] as string) : null;
      sources.push(c ? c.text : `?${l}`);
      continue;
    }
    if (l.startsWith('-A ') && isOurs(l)) hookLines.push(l);
  }
  return { chainExists, sources, hookLines };
};

// True when the chain holds exactly the wanted sources, once each.
export const sameSources = (have: readonly string[], want: readonly string[]): boolean => {
  if (have.length !== want.length) return false;
  const w = new Set(want);
  return new Set(have).size === have.length && have.every((s) => w.has(s));
};

// True when the filter table's hook chains already begin with exactly `rules`, each chain's in order, and our lines
// found anywhere (`ours`) are those alone: what deleting `ours` and inserting `rules` at the top (planRestoreText)
// would leave, so the rewrite can be skipped. A rule with a word iptables-save would quote (ours are plain) is
// never taken as in place.
export const hookRulesInPlace = (text: string, ours: readonly string[], rules: readonly string[][]): boolean => {
  if (ours.length !== rules.length) return false;
  const want = new Map<string, string[]>();
  for (const [chain, ...args] of rules) {
    if (!chain || !args.every((a) => /^[A-Za-z0-9_.:/,!-]+$/.test(a))) return false;
    want.set(chain, [...(want.get(chain) ?? []), `-A ${chain} ${args.join(' ')}`]);
  }
  const have = new Map<string, string[]>();
  for (const l of filterLines(text)) {
    if (!l.startsWith('-A ')) continue;
    const chain = l.slice(3).split(' ', 1)[0] ?? '';
    const w = want.get(chain);
    if (!w) continue;
    const h = have.get(chain) ?? [];
    if (h.length < w.length) h.push(l);
    have.set(chain, h);
  }
  return [...want].every(([c, w]) => {
    const h = have.get(c) ?? [];
    return h.length === w.length && h.every((l, i) => l === w[i]);
  });
};

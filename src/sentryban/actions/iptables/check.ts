import { parseCidr } from '../../../core/addr.js';

// What iptables-save shows for our objects in the filter table.
export type SavedState = { chainExists: boolean; sources: string[]; hookLines: string[] };

// `isOurs` recognises our hook rules in other chains (a jump to our chain, or a match on our set).
export const parseSave = (text: string, chain: string, isOurs: (line: string) => boolean): SavedState => {
  let chainExists = false;
  const sources: string[] = [];
  const hookLines: string[] = [];
  let inFilter = false;
  for (const raw of text.split('\n')) {
    const l = raw.trimEnd();
    if (l.startsWith('*')) {
      inFilter = l === '*filter';
      continue;
    }
    if (!inFilter) continue;
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

import { parseCidr } from '../../../core/addr.js';
import type { SetKey, Wanted } from '../targets.js';
import { kernelTimeout } from './plan.js';

// Elements of our sets as `ipset save` prints them: "add <set> <addr> timeout <sec>". Value: seconds left (0 = none).
export const parseIpsetSave = (text: string, names: ReadonlyMap<string, SetKey>): Map<SetKey, Map<string, number>> => {
  const out = new Map<SetKey, Map<string, number>>();
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    const key = names.get(w[1] ?? '');
    if (w[0] === 'create' && key) {
      if (!out.has(key)) out.set(key, new Map());
      continue;
    }
    if (w[0] !== 'add' || !key) continue;
    const c = parseCidr(w[2] ?? '');
    if (!c) continue;
    const t = w.indexOf('timeout');
    const m = out.get(key) ?? new Map<string, number>();
    m.set(c.isHost() ? c.base.text : c.text, t > 0 ? Number(w[t + 1]) : 0);
    out.set(key, m);
  }
  return out;
};

// Lines for `ipset -exist restore`: add missing, re-add those lapsing early (-exist updates the timeout),
// delete strays.
export const planIpsetRepair = (
  have: Map<SetKey, Map<string, number>>,
  wanted: readonly Wanted[],
  nameOf: (k: SetKey) => string,
  slackSec = 5,
): string[] => {
  const lines: string[] = [];
  const keep = new Set<string>();
  for (const w of wanted) {
    keep.add(`${w.key} ${w.elem}`);
    const left = have.get(w.key)?.get(w.elem);
    const want = kernelTimeout(w.timeoutSec);
    const early = left !== undefined && (want === 0 ? left !== 0 : left !== 0 && left + slackSec < want);
    if (left === undefined || early) lines.push(`add ${nameOf(w.key)} ${w.elem} timeout ${want}`);
  }
  for (const [key, m] of have)
    for (const e of m.keys()) if (!keep.has(`${key} ${e}`)) lines.push(`del ${nameOf(key)} ${e}`);
  return lines;
};

import { Cidr } from '../../core/addr.js';
import type { Ban } from '../types.js';
import { remainingSec } from './spec.js';

// Which of the four per-backend sets a target belongs to: hosts or prefixes, IPv4 or IPv6.
export type SetKey = 'h4' | 'h6' | 'n4' | 'n6';
export const SET_KEYS: readonly SetKey[] = ['h4', 'h6', 'n4', 'n6'];

// Above this many bans a check rebuilds atomically instead of listing and diffing: listing nft set elements with
// timeouts grows faster than linearly in the kernel (100k: 0.6 s, 1M: 37 s here) while a restore stays linear.
export const CHECK_REBUILD_OVER = 20000;

const keyOf = (host: boolean, v4: boolean): SetKey => (host ? (v4 ? 'h4' : 'h6') : v4 ? 'n4' : 'n6');
export const setKeyOf = (t: Cidr): SetKey => keyOf(t.isHost(), t.base.family === 4);

// How a target is written in a set: the address alone for a host, "addr/bits" for a prefix.
export const elementText = (t: Cidr): string => (t.isHost() ? t.base.text : t.text);

// A ban still to enforce: its element text and the kernel-side timeout in seconds (null: none, permanent).
export type Wanted = { key: SetKey; elem: string; timeoutSec: number | null };

// The store's bans as set elements: expired ones dropped, one element per target (the longest timeout wins),
// and prefixes covered by a wider banned prefix dropped (interval sets refuse overlaps). In the order of `bans`
// (a duplicate keeps its first place). `maxSec`: the longest kernel timeout the tool takes; a longer ban gets
// none (the store ends it). One pass and one object per element: a restore of 100k bans spends its Node time here.
export const wantedElements = (bans: readonly Ban[], now: number, maxSec = Infinity): Wanted[] => {
  const out: Wanted[] = [];
  const at = new Map<string, number>();
  const nets: { i: number; target: Cidr }[] = [];
  for (const b of bans) {
    const r = remainingSec(b.expiresAt, now);
    if (r === 0) continue;
    const t = r !== null && r > maxSec ? null : r;
    const target = b.target;
    const host = target.isHost();
    const elem = host ? target.base.text : target.text;
    const i = at.get(elem);
    if (i === undefined) {
      at.set(elem, out.length);
      if (!host) nets.push({ i: out.length, target });
      out.push({ key: keyOf(host, target.base.family === 4), elem, timeoutSec: t });
      continue;
    }
    const prev = out[i]!;
    if (prev.timeoutSec === null || (t !== null && prev.timeoutSec >= t)) continue;
    out[i] = { key: prev.key, elem, timeoutSec: t };
  }
  if (nets.length === 0) return out;
  // Widest first; a prefix is covered when its own network at some kept length is kept (a lookup per distinct
  // kept length, not a comparison with every kept prefix: 1,000 prefixes among 100k bans cost ~1 ms, not seconds).
  nets.sort((a, b) => a.target.bits - b.target.bits);
  const kept = new Set<string>();
  const lengths: Record<4 | 6, number[]> = { 4: [], 6: [] };
  const covered = new Set<number>();
  for (const n of nets) {
    const { base, bits } = n.target;
    const ls = lengths[base.family];
    if (ls.some((l) => l <= bits && kept.has(Cidr.of(base, l).text))) {
      covered.add(n.i);
      continue;
    }
    kept.add(n.target.text);
    if (!ls.includes(bits)) ls.push(bits);
  }
  return covered.size === 0 ? out : out.filter((_, i) => !covered.has(i));
};

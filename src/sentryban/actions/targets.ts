import type { Cidr } from '../../core/addr.js';
import type { Ban } from '../types.js';
import { remainingSec } from './spec.js';

// Which of the four per-backend sets a target belongs to: hosts or prefixes, IPv4 or IPv6.
export type SetKey = 'h4' | 'h6' | 'n4' | 'n6';
export const SET_KEYS: readonly SetKey[] = ['h4', 'h6', 'n4', 'n6'];

// Above this many bans a check rebuilds atomically instead of listing and diffing: listing nft set elements with
// timeouts grows faster than linearly in the kernel (100k: 0.6 s, 1M: 37 s here) while a restore stays linear.
export const CHECK_REBUILD_OVER = 20000;

export const setKeyOf = (t: Cidr): SetKey => `${t.isHost() ? 'h' : 'n'}${t.base.family}` as SetKey;

// How a target is written in a set: the address alone for a host, "addr/bits" for a prefix.
export const elementText = (t: Cidr): string => (t.isHost() ? t.base.text : t.text);

// A ban still to enforce: its element text and the kernel-side timeout in seconds (null: none, permanent).
export type Wanted = { key: SetKey; elem: string; timeoutSec: number | null };

// The store's bans as set elements: expired ones dropped, one element per target (the longest timeout wins),
// and prefixes covered by a wider banned prefix dropped (interval sets refuse overlaps).
// `maxSec`: the longest kernel timeout the tool takes; a longer ban gets none (the store ends it).
export const wantedElements = (bans: readonly Ban[], now: number, maxSec = Infinity): Wanted[] => {
  const byElem = new Map<string, Wanted & { target: Cidr }>();
  for (const b of bans) {
    const r = remainingSec(b.expiresAt, now);
    if (r === 0) continue;
    const t = r !== null && r > maxSec ? null : r;
    const elem = elementText(b.target);
    const prev = byElem.get(elem);
    if (prev && (prev.timeoutSec === null || (t !== null && prev.timeoutSec >= t))) continue;
    byElem.set(elem, { key: setKeyOf(b.target), elem, timeoutSec: t, target: b.target });
  }
  const nets = [...byElem.values()].filter((w) => !w.target.isHost()).sort((a, b) => a.target.bits - b.target.bits);
  const kept: Cidr[] = [];
  for (const n of nets) {
    if (kept.some((k) => k.bits <= n.target.bits && k.contains(n.target.base))) {
      byElem.delete(n.elem);
      continue;
    }
    kept.push(n.target);
  }
  return [...byElem.values()].map(({ key, elem, timeoutSec }) => ({ key, elem, timeoutSec }));
};

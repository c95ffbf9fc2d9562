import { parseAddr, type Addr } from '../../core/addr.js';
import type { Failure } from '../types.js';

// A failure's identity: its id (the address in canonical text, a subnet, or the raw text) and its address.
export type Id = { id: string; addr: Failure['addr']; cidr?: number };
export type IdOf = (text: string, cidr: number | undefined) => Id;

// The daemon's bound: attackers repeat, and a jail keeps what a failure carries.
export const ADDR_CACHE_MAX = 16384;

const withCidr = (a: Addr, cidr: number | undefined, e: Id): Id =>
  cidr === undefined || cidr >= (a.family === 4 ? 32 : 128) ? e : { id: `${a.text}/${cidr}`, addr: a, cidr };

// Each address text is parsed (by ipaddr.js, core/addr.ts) once; its failures share one id and one Addr. The cache
// holds the id itself (read, never kept, by the caller): a repeated address costs one lookup and no allocation.
// Bounded: cleared when full.
export const cachedIdOf = (max: number): IdOf => {
  const cache = new Map<string, Id | null>();
  return (text: string, cidr: number | undefined): Id => {
    let e = cache.get(text);
    if (e === undefined) {
      const a = parseAddr(text);
      e = a ? { id: a.text, addr: a } : null;
      if (cache.size >= max) cache.clear();
      // A copy as key: the text may be a slice of a large chunk (sentryban regex), which the key would keep alive.
      cache.set(` ${text}`.slice(1), e);
    }
    if (e === null) return { id: text, addr: null };
    return withCidr(e.addr as Addr, cidr, e);
  };
};

// Without cache: the address parsed (by ipaddr.js) at each hit.
export const freshIdOf = (text: string, cidr: number | undefined): Id => {
  const a = parseAddr(text);
  if (a === null) return { id: text, addr: null };
  return withCidr(a, cidr, { id: a.text, addr: a });
};

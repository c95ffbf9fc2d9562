import { parseAddr, type Addr } from '../../core/addr.js';
import type { Failure } from '../types.js';

// A failure's identity: its id (the address in canonical text, a subnet, or the raw text) and its address.
export type Id = { id: string; addr: Failure['addr']; cidr?: number };
// fid: the failure's own id when it has one other than the address text (<F-ID> beside <ADDR>).
export type IdOf = (text: string, cidr: number | undefined, fid?: string) => Id;

// The daemon's bound: attackers repeat, and a jail keeps what a failure carries.
export const ADDR_CACHE_MAX = 16384;

const withCidr = (a: Addr, cidr: number | undefined, e: Id): Id =>
  cidr === undefined || cidr >= (a.family === 4 ? 32 : 128) ? e : { id: `${a.text}/${cidr}`, addr: a, cidr };
const withFid = (e: Id, fid: string | undefined): Id =>
  fid === undefined ? e : { id: fid, addr: e.addr, ...(e.cidr !== undefined ? { cidr: e.cidr } : {}) };

// The id of an address text already parsed (`a`: parseAddr(text), null when not an address), as the cached and
// fresh makers below give it; `sentryban replay`'s jails' thread builds the ids of the texts its matching thread
// hands over with it (commands/replay-feed.ts).
export const idOfParsed = (a: Addr | null, text: string, cidr: number | undefined, fid?: string): Id =>
  withFid(a === null ? { id: text, addr: null } : withCidr(a, cidr, { id: a.text, addr: a }), fid);

// Each address text is parsed (by ipaddr.js, core/addr.ts) once; its failures share one id and one Addr. The cache
// holds the id itself (read, never kept, by the caller): a repeated address costs one lookup and no allocation.
// Bounded: cleared when full.
export const cachedIdOf = (max: number): IdOf => {
  const cache = new Map<string, Id | null>();
  return (text: string, cidr: number | undefined, fid?: string): Id => {
    let e = cache.get(text);
    if (e === undefined) {
      const a = parseAddr(text);
      e = a ? { id: a.text, addr: a } : null;
      if (cache.size >= max) cache.clear();
      // A copy as key: the text may be a slice of a large chunk (sentryban regex), which the key would keep alive.
      cache.set(` ${text}`.slice(1), e);
    }
    if (e === null) return withFid({ id: text, addr: null }, fid);
    return withFid(withCidr(e.addr as Addr, cidr, e), fid);
  };
};

// Without cache: the address parsed (by ipaddr.js) at each hit.
export const freshIdOf = (text: string, cidr: number | undefined, fid?: string): Id =>
  idOfParsed(parseAddr(text), text, cidr, fid);

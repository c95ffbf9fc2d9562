import type ipaddr from 'ipaddr.js';
import type { Addr } from '../../core/addr.js';

// The longest kernel timeout seen per host during one pass over the bans (0: none, the longest). IPv4 hosts go in
// an open-addressing table of typed arrays keyed by the address as a 32-bit number; IPv6 hosts in a Map. For a
// restore of 100,000 bans a Map of 80,000 address strings cost 24 ms of CPU, the table 12 ms less.
export class LongestTimeouts {
  readonly #keys: Uint32Array;
  readonly #vals: Int32Array; // -1: empty slot
  readonly #mask: number;
  readonly #v6 = new Map<string, number>();

  // `most`: at most how many IPv4 hosts will be recorded (the table is twice that, rounded up to a power of two).
  constructor(most: number) {
    let cap = 16;
    while (cap < most * 2) cap *= 2;
    this.#keys = new Uint32Array(cap);
    this.#vals = new Int32Array(cap).fill(-1);
    this.#mask = cap - 1;
  }

  // True, and `k` recorded, when `k` is longer than every timeout seen for `host` so far (or it is the first).
  longer(host: Addr, k: number): boolean {
    if (host.family === 6) {
      const prev = this.#v6.get(host.text);
      if (prev !== undefined && !exceeds(k, prev)) return false;
      this.#v6.set(host.text, k);
      return true;
    }
    const o = (host.ip as ipaddr.IPv4).octets;
    const key = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
    const keys = this.#keys;
    const vals = this.#vals;
    let h = (Math.imul(key, 0x9e3779b1) >>> 0) & this.#mask;
    while (vals[h] !== -1 && keys[h] !== key) h = (h + 1) & this.#mask;
    const prev = vals[h]!;
    if (prev !== -1 && !exceeds(k, prev)) return false;
    keys[h] = key;
    vals[h] = k;
    return true;
  }
}

const exceeds = (k: number, prev: number): boolean => prev !== 0 && (k === 0 || k > prev);

import { remainingSec, type IpsetSpec } from '../spec.js';
import { iptablesTarget } from '../blocktype.js';
import { planHookRules, type Family } from '../iptables/plan.js';
import { SET_KEYS, wantedElements, type SetKey, type Wanted } from '../targets.js';
import type { Ban } from '../../types.js';
import { putAscii, putUint } from '../ascii.js';
import { LongestTimeouts } from '../longest.js';

// ipset plans (`ipset -exist restore` input). Hosts go to hash:ip sets, prefixes to hash:net sets, one pair per
// family; each set has one matching rule per protocol in the hook chains. A restore fills temporary sets and
// swaps them in, so a live set is never empty midway.

// Kernel timeouts above this are refused by ipset; such bans are kept permanent in the kernel and the store ends them.
export const MAX_IPSET_TIMEOUT = 2147483;

const CHUNK = 5000;

export const setName = (base: string, key: SetKey): string => `${base}-${key}`;
const TYPE: Readonly<Record<SetKey, string>> = {
  h4: 'hash:ip family inet',
  h6: 'hash:ip family inet6',
  n4: 'hash:net family inet',
  n6: 'hash:net family inet6',
};
export const KEYS_OF: Readonly<Record<Family, readonly SetKey[]>> = { 4: ['h4', 'n4'], 6: ['h6', 'n6'] };

export const planCreate = (name: string, key: SetKey, maxelem: number): string =>
  `create ${name} ${TYPE[key]} timeout 0 maxelem ${maxelem}`;

export const kernelTimeout = (sec: number | null): number => (sec === null || sec > MAX_IPSET_TIMEOUT ? 0 : sec);

export const planAddLine = (name: string, w: Wanted): string =>
  `add ${name} ${w.elem} timeout ${kernelTimeout(w.timeoutSec)}`;

// Replace the contents of every set at once, in one pass over the store's bans (no list of elements built first).
// Every set is filled as a temporary one; the swaps come last (`planSwaps`), so input cut short anywhere before
// them leaves every live set as it was. Pieces of CHUNK lines of one set, written as bytes, for `ipset restore` to
// read while the rest is built. A host seen again with a longer timeout gets a second line (-exist updates the
// timeout: the longest wins); prefixes (few) are kept for the end, where those covered by a wider banned prefix
// are dropped.
export function* planFillChunks(spec: IpsetSpec, bans: readonly Ban[], now: number): Generator<Uint8Array, void, void> {
  const tmp = (k: SetKey): string => `${setName(spec.set, k)}.t`;
  yield Buffer.from(SET_KEYS.map((k) => `${planCreate(tmp(k), k, spec.maxelem)}\nflush ${tmp(k)}\n`).join(''));
  const hosts = new HostLines(`add ${tmp('h4')} `, `add ${tmp('h6')} `, bans.length, now);
  for (let i = 0; i < bans.length;) {
    i = hosts.fill(bans, i);
    yield* hosts.full();
  }
  const rest = wantedElements(hosts.nets, now).map((w) => `${planAddLine(tmp(w.key), w)}\n`);
  yield Buffer.concat([...hosts.rest(), Buffer.from(rest.join(''))]);
}

// A piece of lines for one set (ipset restore sends consecutive lines of one set in one netlink message: lines
// of two sets interleaved took 2,029 round trips for 100,000 bans instead of 881, 20% more wall time).
type Lines = { prefix: string; buf: Buffer; p: number; n: number };

// The hosts' lines of a restore, per set, a piece of CHUNK lines at a time (a plain loop: inside the generator it
// ran slower), and the prefixes met on the way.
class HostLines {
  readonly nets: Ban[] = [];
  readonly #now: number;
  readonly #best: LongestTimeouts;
  readonly #size: number;
  readonly #v4: Lines;
  readonly #v6: Lines;
  readonly #full: Buffer[] = [];

  constructor(add4: string, add6: string, bans: number, now: number) {
    this.#now = now;
    this.#best = new LongestTimeouts(bans);
    // "add <set> <IPv6 text, 39 at most> timeout <7 digits>\n"
    this.#size = CHUNK * (Math.max(add4.length, add6.length) + 39 + 9 + 7 + 1);
    this.#v4 = { prefix: add4, buf: Buffer.allocUnsafe(this.#size), p: 0, n: 0 };
    this.#v6 = { prefix: add6, buf: Buffer.allocUnsafe(this.#size), p: 0, n: 0 };
  }

  // Lines for bans[from...] until a piece is full; the index of the first ban not read.
  fill(bans: readonly Ban[], from: number): number {
    let i = from;
    while (i < bans.length) {
      const b = bans[i++]!;
      const r = remainingSec(b.expiresAt, this.#now);
      if (r === 0) continue;
      const t = b.target;
      if (!t.isHost()) {
        this.nets.push(b);
        continue;
      }
      const k = kernelTimeout(r);
      if (!this.#best.longer(t.base, k)) continue;
      const l = t.base.family === 4 ? this.#v4 : this.#v6;
      const buf = l.buf;
      let p = putAscii(buf, putAscii(buf, l.p, l.prefix), t.base.text);
      p = putUint(buf, putAscii(buf, p, ' timeout '), k);
      buf[p++] = 10;
      l.p = p;
      if (++l.n === CHUNK) {
        this.#full.push(this.#take(l));
        break;
      }
    }
    return i;
  }

  // The pieces filled since the last call.
  full(): Buffer[] {
    return this.#full.splice(0);
  }

  // What is left in the pieces not full.
  rest(): Buffer[] {
    return [this.#take(this.#v4), this.#take(this.#v6)];
  }

  #take(l: Lines): Buffer {
    const out = l.buf.subarray(0, l.p);
    l.buf = Buffer.allocUnsafe(this.#size);
    l.p = 0;
    l.n = 0;
    return out;
  }
}

// The filled temporary sets swapped in (the live sets must exist) and dropped.
export const planSwaps = (spec: IpsetSpec): string =>
  SET_KEYS.map((k) => {
    const name = setName(spec.set, k);
    return `swap ${name}.t ${name}\ndestroy ${name}.t\n`;
  }).join('');

// The whole restore text (tests).
export const planSwapRestore = (spec: IpsetSpec, bans: readonly Ban[], now: number): string =>
  Buffer.concat([...planFillChunks(spec, bans, now)]).toString('latin1') + planSwaps(spec);

// The live sets of `keys`, created empty.
export const planCreates = (spec: IpsetSpec, keys: readonly SetKey[]): string =>
  keys.map((k) => `${planCreate(setName(spec.set, k), k, spec.maxelem)}\n`).join('');

// The rules matching our sets in the hook chains of one family.
export const planSetRules = (spec: IpsetSpec, f: Family): string[][] =>
  KEYS_OF[f].flatMap((key) =>
    planHookRules(spec.hooks, spec.match, [
      '-m',
      'set',
      '--match-set',
      setName(spec.set, key),
      'src',
      ...iptablesTarget(spec.blocktype, f),
    ]),
  );

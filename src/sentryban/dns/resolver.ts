import { lookup as systemLookup } from 'node:dns/promises';
import { parseAddr, type Addr } from '../../core/addr.js';
import type { Clock } from '../../core/clock.js';

// What a name turned into: its addresses (v4 and v6, deduplicated), or why there are none.
export type Resolution = { name: string; addrs: Addr[]; error: string | null; cached: boolean };

// The system resolver (getaddrinfo: /etc/hosts, nsswitch, DNS), as fail2ban's DNSUtils.dnsToIp. Injectable so the
// daemon and `sentryban regex` share one edge; tests use the real one inside a private mount namespace.
export type LookupFn = (name: string) => Promise<string[]>;
export const lookupSystem: LookupFn = async (name) =>
  (await systemLookup(name, { all: true, verbatim: true })).map((a) => a.address);

export type ResolverOptions = {
  clock: Clock;
  lookup?: LookupFn;
  ttlMs?: number; // how long a found answer is kept (fail2ban: 5 min)
  negativeTtlMs?: number; // how long "no address" is kept, so a flood of junk names costs one lookup each
  maxEntries?: number; // cache bound (fail2ban: 1000)
  timeoutMs?: number; // a lookup slower than this counts as unresolvable
  maxInFlight?: number; // getaddrinfo runs on libuv's 4-thread pool, shared with fs: keep some threads free
  maxQueued?: number; // names waiting for a slot; beyond this a name is refused at once ("resolver busy")
};

type Entry = { addrs: Addr[]; error: string | null; until: number };

// Bounded, TTL-cached, time-limited name -> addresses, at most `maxInFlight` getaddrinfo calls at once (a call
// that timed out keeps its slot until it really returns, so a hung resolver cannot exhaust the thread pool).
// Concurrent requests for one name share one lookup.
export class HostResolver {
  readonly #o: Required<ResolverOptions>;
  readonly #cache = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Resolution>>();
  readonly #waiting: (() => void)[] = [];
  #inFlight = 0;
  lookups = 0; // real getaddrinfo calls made (for status and tests)

  constructor(o: ResolverOptions) {
    this.#o = {
      lookup: lookupSystem,
      ttlMs: 300_000,
      negativeTtlMs: 60_000,
      maxEntries: 1000,
      timeoutMs: 5000,
      maxInFlight: 2,
      maxQueued: 1000,
      ...o,
    };
  }

  // The cached answer, if fresh: lets callers skip the asynchronous path entirely.
  peek(name: string): Resolution | null {
    const e = this.#cache.get(name);
    if (!e) return null;
    if (e.until <= this.#o.clock.now()) {
      this.#cache.delete(name);
      return null;
    }
    return { name, addrs: e.addrs, error: e.error, cached: true };
  }

  resolve(name: string): Promise<Resolution> {
    const hit = this.peek(name);
    if (hit) return Promise.resolve(hit);
    let p = this.#pending.get(name);
    if (!p) {
      p = this.#run(name).finally(() => this.#pending.delete(name));
      this.#pending.set(name, p);
    }
    return p;
  }

  async #run(name: string): Promise<Resolution> {
    const started = this.#o.clock.now();
    if (this.#inFlight >= this.#o.maxInFlight) {
      if (this.#waiting.length >= this.#o.maxQueued)
        return { name, addrs: [], error: 'resolver busy (too many names waiting)', cached: false };
      const waited = await this.#slot(name, started);
      if (waited) return waited;
    } else this.#inFlight++;
    this.lookups++;
    const call = this.#o.lookup(name);
    call.then(this.#release, this.#release);
    const remaining = Math.max(1, this.#o.timeoutMs - (this.#o.clock.now() - started));
    let cancel: () => void = () => {};
    const timeout = new Promise<'timeout'>((res) => {
      cancel = this.#o.clock.at(this.#o.clock.now() + remaining, () => res('timeout'));
    });
    try {
      const r = await Promise.race([call, timeout]);
      if (r === 'timeout') return this.#store(name, [], `timed out after ${this.#o.timeoutMs} ms`);
      const addrs = uniqueAddrs(r);
      return this.#store(name, addrs, addrs.length ? null : 'no address');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return this.#store(name, [], err.code ?? err.message);
    } finally {
      cancel();
    }
  }

  // Wait for a free slot, but not past the timeout (then the name counts as unresolvable).
  #slot(name: string, started: number): Promise<Resolution | null> {
    return new Promise((res) => {
      let done = false;
      const grant = (): void => {
        done = true;
        cancel();
        this.#inFlight++;
        res(null);
      };
      const cancel = this.#o.clock.at(started + this.#o.timeoutMs, () => {
        if (done) return;
        done = true;
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        res(this.#store(name, [], `timed out after ${this.#o.timeoutMs} ms (waiting for a free lookup slot)`));
      });
      this.#waiting.push(grant);
    });
  }

  readonly #release = (): void => {
    this.#inFlight--;
    const next = this.#waiting.shift();
    if (next) next();
  };

  #store(name: string, addrs: Addr[], error: string | null): Resolution {
    if (this.#cache.size >= this.#o.maxEntries) {
      const now = this.#o.clock.now();
      for (const [k, e] of this.#cache) if (e.until <= now) this.#cache.delete(k);
      // Still full: drop the oldest entries (Map keeps insertion order).
      for (const k of this.#cache.keys()) {
        if (this.#cache.size < this.#o.maxEntries) break;
        this.#cache.delete(k);
      }
    }
    const ttl = addrs.length ? this.#o.ttlMs : this.#o.negativeTtlMs;
    this.#cache.set(name, { addrs, error, until: this.#o.clock.now() + ttl });
    return { name, addrs, error, cached: false };
  }

  get size(): number {
    return this.#cache.size;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
}

const uniqueAddrs = (texts: readonly string[]): Addr[] => {
  const seen = new Map<string, Addr>();
  for (const t of texts) {
    const a = parseAddr(t);
    if (a && !seen.has(a.text)) seen.set(a.text, a);
  }
  // v4 first, then v6, each in getaddrinfo's order: stable failures and log lines whatever the resolver's order.
  return [...seen.values()].sort((a, b) => a.family - b.family);
};

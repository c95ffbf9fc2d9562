import type { Clock } from '../../core/clock.js';
import type { WatchProto } from './watch-ports.js';

// 1.2's Smart-Verify ("temporary binding"): a hot packet is dropped when its port is held by a socket right
// now, e.g. a daemon or an FTP data listener opened after start. The native bind test answers at once (the
// packet goes on in the same turn when nothing waits); the Node fallback is asynchronous, so packets wait in
// a FIFO and leave in arrival order (the first probe of a scan stays the first event). One test runs per port
// at a time, and its answer is reused for ttlMs so that a flood costs one bind per port per ttlMs, not one per
// packet. The queue is bounded: past maxQueue packets are counted and dropped.
export type BindTest = (proto: WatchProto, family: 4 | 6, port: number) => boolean | Promise<boolean>;

export type VerifyOptions = { test: BindTest; clock: Clock; ttlMs?: number; maxQueue?: number };

type Entry<T> = { item: T; done: boolean; inUse: boolean };

export class SmartVerifier<T> {
  readonly #test: BindTest;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxQueue: number;
  readonly #deliver: (item: T) => void;
  readonly #discard: (item: T) => void;
  readonly #cache = new Map<string, { until: number; inUse: boolean }>();
  // Packets waiting for the bind test of their port, by port key; a key is present while its test runs.
  readonly #waiting = new Map<string, Entry<T>[]>();
  #queue: Entry<T>[] = [];
  #head = 0;
  dropped = 0;
  inUse = 0;

  // deliver: the port is free, the packet goes on; discard: held port or full queue.
  constructor(opts: VerifyOptions, deliver: (item: T) => void, discard: (item: T) => void = () => {}) {
    this.#test = opts.test;
    this.#clock = opts.clock;
    this.#ttlMs = opts.ttlMs ?? 200;
    this.#maxQueue = opts.maxQueue ?? 65536;
    this.#deliver = deliver;
    this.#discard = discard;
  }

  get pending(): number {
    return this.#queue.length - this.#head;
  }
  // Remembered bind-test answers (at most one per protocol, family and port).
  get cached(): number {
    return this.#cache.size;
  }

  push(item: T, proto: WatchProto, family: 4 | 6, port: number): void {
    const key = `${proto}${family}:${port}`;
    const known = this.#fresh(key);
    if (known !== null && this.pending === 0) {
      this.#settle(item, known);
      return;
    }
    if (this.pending >= this.#maxQueue) {
      this.dropped++;
      this.#discard(item);
      return;
    }
    const entry: Entry<T> = { item, done: known !== null, inUse: known ?? false };
    this.#queue.push(entry);
    if (known !== null) return;
    const waiting = this.#waiting.get(key);
    if (waiting) waiting.push(entry);
    else {
      this.#waiting.set(key, [entry]);
      this.#run(key, proto, family, port);
    }
  }

  #fresh(key: string): boolean | null {
    const c = this.#cache.get(key);
    if (!c) return null;
    if (c.until > this.#clock.now()) return c.inUse;
    this.#cache.delete(key);
    return null;
  }

  #run(key: string, proto: WatchProto, family: 4 | 6, port: number): void {
    let answer: boolean | Promise<boolean>;
    try {
      answer = this.#test(proto, family, port);
    } catch {
      answer = false;
    }
    if (typeof answer === 'boolean') this.#answer(key, answer);
    else void answer.catch(() => false).then((inUse) => this.#answer(key, inUse));
  }

  #answer(key: string, inUse: boolean): void {
    const waiting = this.#waiting.get(key) ?? [];
    this.#waiting.delete(key);
    // Bounded by the key space (2 protocols x 2 families x 65536 ports); expired entries go on lookup.
    this.#cache.set(key, { until: this.#clock.now() + this.#ttlMs, inUse });
    for (const e of waiting) {
      e.done = true;
      e.inUse = inUse;
    }
    this.#drain();
  }

  #drain(): void {
    while (this.#head < this.#queue.length) {
      const e = this.#queue[this.#head] as Entry<T>;
      if (!e.done) break;
      this.#head++;
      this.#settle(e.item, e.inUse);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #settle(item: T, inUse: boolean): void {
    if (inUse) {
      this.inUse++;
      this.#discard(item);
      return;
    }
    this.#deliver(item);
  }
}

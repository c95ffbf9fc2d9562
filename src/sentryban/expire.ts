import type { Clock, Instant } from '../core/clock.js';

// Timed expiry without cron: one timer, on the earliest expiry, re-armed on every change. Waits are cut into
// steps of at most `maxStepMs`, so a wall-clock jump forward is noticed within a step and a jump backward
// only re-arms (a ban never ends before its wall-clock end). Node's 2^31-1 ms limit is never reached.
export class Expiry {
  readonly #clock: Clock;
  readonly #onDue: (keys: string[], now: Instant) => void;
  readonly #maxStepMs: number;
  readonly #ends = new Map<string, Instant>();
  #heap: { at: Instant; key: string }[] = [];
  #cancel: (() => void) | null = null;
  #armedAt: Instant | null = null;
  #stopped = false;

  constructor(clock: Clock, onDue: (keys: string[], now: Instant) => void, maxStepMs = 30_000) {
    this.#clock = clock;
    this.#onDue = onDue;
    this.#maxStepMs = maxStepMs;
  }

  // Permanent bans (null) are never scheduled.
  set(key: string, at: Instant | null): void {
    if (at === null) {
      this.delete(key);
      return;
    }
    this.#ends.set(key, at);
    this.#push({ at, key });
    this.#arm();
  }
  delete(key: string): void {
    this.#ends.delete(key);
  }
  get size(): number {
    return this.#ends.size;
  }
  next(): Instant | null {
    this.#prune();
    return this.#heap[0]?.at ?? null;
  }
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = null;
  }

  // Fire everything due now; used by the timer and at start (bans that ended while the daemon was down).
  runDue(): void {
    const now = this.#clock.now();
    const due: string[] = [];
    for (;;) {
      this.#prune();
      const top = this.#heap[0];
      if (!top || top.at > now) break;
      this.#pop();
      this.#ends.delete(top.key);
      due.push(top.key);
    }
    if (due.length > 0) this.#onDue(due, now);
    this.#arm(true);
  }

  #arm(force = false): void {
    if (this.#stopped) return;
    const next = this.next();
    if (next === null) {
      this.#cancel?.();
      this.#cancel = null;
      this.#armedAt = null;
      return;
    }
    const wake = Math.min(next, this.#clock.now() + this.#maxStepMs);
    if (!force && this.#armedAt !== null && this.#armedAt <= wake) return;
    this.#cancel?.();
    this.#armedAt = wake;
    this.#cancel = this.#clock.at(wake, () => {
      this.#cancel = null;
      this.#armedAt = null;
      this.runDue();
    });
  }

  // Drop heap entries that no longer match the key's current end (deleted or rescheduled).
  #prune(): void {
    for (let top = this.#heap[0]; top && this.#ends.get(top.key) !== top.at; top = this.#heap[0]) this.#pop();
  }
  #push(e: { at: Instant; key: string }): void {
    const h = this.#heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as typeof e).at <= e.at) break;
      h[i] = h[parent] as typeof e;
      h[parent] = e;
      i = parent;
    }
  }
  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && (h[l] as typeof last).at < (h[m] as typeof last).at) m = l;
      if (r < h.length && (h[r] as typeof last).at < (h[m] as typeof last).at) m = r;
      if (m === i) break;
      const t = h[i] as typeof last; // (not a destructuring swap: an array per step)
      h[i] = h[m] as typeof last;
      h[m] = t;
      i = m;
    }
  }
}

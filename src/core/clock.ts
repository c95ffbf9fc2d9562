// One clock, injected everywhere. Times are epoch milliseconds.
export type Instant = number;

export interface Clock {
  now(): Instant;
  // Run fn at (or soon after) the given instant; returns a cancel function. Long delays are re-armed in steps.
  at(when: Instant, fn: () => void): () => void;
}

// Node's setTimeout fires at once past 2^31-1 ms, so longer waits are chained.
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  at(when, fn) {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      if (cancelled) return;
      const wait = when - Date.now();
      if (wait <= 0) {
        fn();
        return;
      }
      handle = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
      handle.unref?.();
    };
    arm();
    return () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    };
  },
};

// A clock tests drive by hand: advance() fires due timers in order.
export class ManualClock implements Clock {
  #now: Instant;
  #timers: { when: Instant; fn: () => void; id: number }[] = [];
  #next = 0;
  constructor(start: Instant = 0) {
    this.#now = start;
  }
  now(): Instant {
    return this.#now;
  }
  at(when: Instant, fn: () => void): () => void {
    const id = this.#next++;
    this.#timers.push({ when, fn, id });
    return () => {
      this.#timers = this.#timers.filter((t) => t.id !== id);
    };
  }
  set(to: Instant): void {
    this.advance(to - this.#now);
  }
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.when <= target).sort((a, b) => a.when - b.when || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t.id !== due.id);
      this.#now = Math.max(this.#now, due.when);
      due.fn();
    }
    this.#now = target;
  }
  pending(): number {
    return this.#timers.length;
  }
}

// BLOCK_RATE_MAX: at most `max` blocks start in any one-second window (a sliding window over the start times of
// the last `max` blocks, so the ceiling holds exactly, with no burst allowance on top). Blocks past it wait in a
// bounded first-in first-out queue, one entry per host. Pure: time arrives as a number (epoch ms).
export const RATE_WINDOW_MS = 1000;
export const BLOCK_QUEUE_MAX = 16384;

export class BlockRate {
  readonly max: number;
  readonly #starts: Float64Array;
  #count = 0;
  #next = 0;

  constructor(max: number) {
    this.max = max;
    this.#starts = new Float64Array(max);
  }

  // Milliseconds from `now` until a block may start (0: at once).
  wait(now: number): number {
    if (this.#count < this.max) return 0;
    const oldest = this.#starts[this.#next] as number;
    return Math.max(0, oldest + RATE_WINDOW_MS - now);
  }

  // A block starts now (the caller asked wait() first).
  take(now: number): void {
    this.#starts[this.#next] = now;
    this.#next = (this.#next + 1) % this.max;
    if (this.#count < this.max) this.#count++;
  }
}

export type Push = 'queued' | 'duplicate' | 'full';

// Hosts waiting for their block, in arrival order; a host is in it at most once. Past `capacity` a host is refused
// ('full'): the caller logs it, and the host is not recorded as blocked, so its next probe tries again.
export class BlockQueue<T> {
  readonly capacity: number;
  readonly #items = new Map<string, T>();
  // Longest wait seen since the queue was last empty, and how many went through meanwhile (for the drained line).
  #since: { queued: number; longestMs: number } = { queued: 0, longestMs: 0 };
  readonly #at = new Map<string, number>();

  constructor(capacity = BLOCK_QUEUE_MAX) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.size;
  }
  has(key: string): boolean {
    return this.#items.has(key);
  }

  push(key: string, item: T, now: number): Push {
    if (this.#items.has(key)) return 'duplicate';
    if (this.#items.size >= this.capacity) return 'full';
    this.#items.set(key, item);
    this.#at.set(key, now);
    this.#since.queued++;
    return 'queued';
  }

  // The first host in line (a Map iterates in insertion order).
  shift(now: number): T | undefined {
    const first = this.#items.entries().next();
    if (first.done) return undefined;
    const [key, item] = first.value;
    this.#items.delete(key);
    this.#since.longestMs = Math.max(this.#since.longestMs, now - (this.#at.get(key) ?? now));
    this.#at.delete(key);
    return item;
  }

  // What went through since the queue was last empty; resets the tally.
  takeTally(): { queued: number; longestMs: number } {
    const t = this.#since;
    this.#since = { queued: 0, longestMs: 0 };
    return t;
  }

  clear(): T[] {
    const all = [...this.#items.values()];
    this.#items.clear();
    this.#at.clear();
    return all;
  }
}

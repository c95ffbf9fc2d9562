import { describe, expect, it } from '@jest/globals';
import { ManualClock, MAX_TIMER_MS, type Clock } from '../../src/core/clock.js';
import { Expiry } from '../../src/sentryban/expire.js';

// A clock whose wall time can jump, while its timers run on elapsed time (as setTimeout does).
class JumpyClock implements Clock {
  readonly inner = new ManualClock(0);
  offset = 0;
  now(): number {
    return this.inner.now() + this.offset;
  }
  at(when: number, fn: () => void): () => void {
    return this.inner.at(this.inner.now() + (when - this.now()), fn);
  }
}

describe('Expiry: one timer on the earliest end', () => {
  it('fires in order, re-arms on change, never runs permanent bans', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    const ex = new Expiry(clock, (keys) => fired.push(...keys));
    ex.set('b', 5000);
    ex.set('a', 3000);
    ex.set('p', null);
    ex.set('c', 4000);
    ex.set('c', 9000);
    ex.delete('b');
    clock.advance(10_000);
    expect(fired).toEqual(['a', 'c']);
    expect(ex.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });
  it('keeps at most one timer pending', () => {
    const clock = new ManualClock(0);
    const ex = new Expiry(clock, () => {});
    for (let i = 0; i < 1000; i++) ex.set(`k${i}`, 1_000_000 - i);
    expect(clock.pending()).toBe(1);
  });
  it('handles bantimes beyond 2^31-1 ms', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const ex = new Expiry(clock, (_k, now) => fired.push(now), MAX_TIMER_MS * 10);
    const end = 40 * 86_400_000; // 40 days
    ex.set('x', end);
    clock.advance(end - 1);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([end]);
  });
  it('a wall-clock jump forward expires within one step; backward never early', () => {
    const clock = new JumpyClock();
    const fired: string[] = [];
    const ex = new Expiry(clock, (keys) => fired.push(...keys), 30_000);
    ex.set('hour', 3_600_000);
    clock.offset = 3_600_000; // wall clock jumps an hour ahead
    clock.inner.advance(30_000);
    expect(fired).toEqual(['hour']);
    ex.set('later', clock.now() + 60_000);
    clock.offset -= 600_000; // jumps ten minutes back
    clock.inner.advance(60_000);
    expect(fired).toEqual(['hour']);
    clock.inner.advance(600_000);
    expect(fired).toEqual(['hour', 'later']);
  });
});

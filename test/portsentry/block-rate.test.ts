import { describe, expect, it } from '@jest/globals';
import { BlockQueue, BlockRate } from '../../src/portsentry/block-rate.js';

describe('BlockRate: at most max starts in any one-second window', () => {
  it('lets max through at once, then waits for the oldest start to leave the window', () => {
    const r = new BlockRate(3);
    for (const t of [0, 10, 20]) {
      expect(r.wait(t)).toBe(0);
      r.take(t);
    }
    expect(r.wait(20)).toBe(980);
    expect(r.wait(999)).toBe(1);
    expect(r.wait(1000)).toBe(0);
    r.take(1000);
    expect(r.wait(1000)).toBe(10);
  });
  it('never more than max in a window over a long run', () => {
    const r = new BlockRate(5);
    const starts: number[] = [];
    for (let t = 0; t < 10000; t += 7)
      if (r.wait(t) === 0) {
        r.take(t);
        starts.push(t);
      }
    const most = Math.max(...starts.map((s) => starts.filter((x) => x >= s && x < s + 1000).length));
    expect(most).toBe(5);
    expect(starts.length).toBeGreaterThanOrEqual(50);
  });
});

describe('BlockQueue', () => {
  it('first in, first out, one entry per host, refuses past capacity', () => {
    const q = new BlockQueue<string>(2);
    expect(q.push('a', 'A', 0)).toBe('queued');
    expect(q.push('a', 'A2', 1)).toBe('duplicate');
    expect(q.push('b', 'B', 2)).toBe('queued');
    expect(q.push('c', 'C', 3)).toBe('full');
    expect(q.shift(500)).toBe('A');
    expect(q.push('c', 'C', 600)).toBe('queued');
    expect([q.shift(700), q.shift(2600), q.shift(2700)]).toEqual(['B', 'C', undefined]);
    expect(q.takeTally()).toEqual({ queued: 3, longestMs: 2000 });
    expect(q.takeTally()).toEqual({ queued: 0, longestMs: 0 });
  });
});

import { describe, expect, it } from '@jest/globals';
import { backoffMs, guarded } from '../../../src/sentryban/actions/retry.js';

// The repair schedule's pieces (the schedule itself: test/sentryban/daemon/repair.test.ts).
describe('retry with backoff', () => {
  it('delays double up to the cap', () => {
    const policy = { baseMs: 1000, maxMs: 60000, factor: 2 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => backoffMs(policy, a))).toEqual([
      0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
    ]);
  });

  it('a throw from a backend is a failure value, never a crash', async () => {
    const r = await guarded(async () => {
      throw new Error('bug');
    }, 'action');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure.stderr).toBe('threw: bug');
  });
});

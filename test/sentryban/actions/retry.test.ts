import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { applyWithRetry, backoffMs, DEFAULT_RETRY } from '../../../src/sentryban/actions/retry.js';
import type { ActionOutcome } from '../../../src/sentryban/types.js';

const fail = (n: number): ActionOutcome => ({ ok: false, failure: { kind: 'ActionFailed', backend: 'x', argv: ['nft'], exitCode: n, stderr: 'no' } });

// Drive the manual clock until the promise settles (bounded).
const settle = async <T>(clock: ManualClock, p: Promise<T>): Promise<T> => {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 1000 && !done; i++) { await new Promise((r) => setImmediate(r)); clock.advance(1000); }
  return p;
};

describe('retry with backoff', () => {
  it('delays double up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => backoffMs(DEFAULT_RETRY, a))).toEqual([0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  });

  it('retries with a repair in between until the action succeeds, reporting each failure', async () => {
    const clock = new ManualClock(0);
    const results = [fail(1), fail(4), { ok: true } as ActionOutcome];
    const seen: string[] = [];
    let repairs = 0;
    const r = await settle(clock, applyWithRetry(async () => { seen.push(`try@${clock.now()}`); return results.shift()!; }, {
      clock, repair: async () => { repairs++; return { ok: true }; }, onFailure: (f, a, next) => { seen.push(`fail ${f.exitCode} #${a} next ${next}`); },
    }));
    expect(r.outcome).toEqual({ ok: true });
    expect(r.attempts).toBe(3);
    expect(repairs).toBe(2);
    expect(seen).toEqual(['try@0', 'fail 1 #1 next 1000', 'try@1000', 'fail 4 #2 next 2000', 'try@3000']);
  });

  it('gives up after the last attempt with the last failure; a throw is a failure value', async () => {
    const clock = new ManualClock(0);
    const r = await settle(clock, applyWithRetry(async () => { throw new Error('bug'); }, { clock, policy: { attempts: 3, baseMs: 10, maxMs: 100, factor: 2 } }));
    expect(r.outcome.ok).toBe(false);
    expect(r.failures).toHaveLength(3);
    if (!r.outcome.ok) expect(r.outcome.failure.stderr).toBe('threw: bug');
  });
});

import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { SmartVerifier, type BindTest } from '../../../src/portsentry/sensors/smart-verify.js';

// A bind test whose answers the test releases by hand, to observe ordering.
const controlled = (inUse: Set<number>) => {
  const calls: { port: number; release: () => void }[] = [];
  const test: BindTest = (_p, _f, port) =>
    new Promise((resolve) => {
      calls.push({ port, release: () => resolve(inUse.has(port)) });
    });
  return { test, calls };
};
const flush = () => new Promise((r) => setImmediate(r));

describe('SmartVerifier', () => {
  it('drops packets to a port held now, passes the others, in arrival order', async () => {
    const clock = new ManualClock(0);
    const { test, calls } = controlled(new Set([21]));
    const out: string[] = [];
    const v = new SmartVerifier<string>({ test, clock }, (x) => out.push(x));
    v.push('a:1', 'tcp', 4, 1);
    v.push('b:21', 'tcp', 4, 21);
    v.push('c:2', 'tcp', 4, 2);
    v.push('d:1', 'tcp', 4, 1);
    expect(calls.map((c) => c.port)).toEqual([1, 21, 2]);
    calls[2]?.release();
    await flush();
    expect(out).toEqual([]);
    calls[0]?.release();
    await flush();
    expect(out).toEqual(['a:1']);
    calls[1]?.release();
    await flush();
    expect(out).toEqual(['a:1', 'c:2', 'd:1']);
    expect(v.inUse).toBe(1);
    expect(v.pending).toBe(0);
  });

  it('reuses an answer for ttlMs, then asks again (a listener opened later is seen)', async () => {
    const clock = new ManualClock(0);
    const inUse = new Set<number>();
    const { test, calls } = controlled(inUse);
    const out: number[] = [];
    const v = new SmartVerifier<number>({ test, clock, ttlMs: 200 }, (x) => out.push(x));
    v.push(1, 'udp', 6, 53);
    calls[0]?.release();
    await flush();
    v.push(2, 'udp', 6, 53);
    expect(calls).toHaveLength(1);
    expect(out).toEqual([1, 2]);
    inUse.add(53);
    clock.advance(201);
    v.push(3, 'udp', 6, 53);
    expect(calls).toHaveLength(2);
    calls[1]?.release();
    await flush();
    expect(out).toEqual([1, 2]);
  });

  it('keeps separate answers per protocol and family, and bounds its queue', async () => {
    const clock = new ManualClock(0);
    const { test, calls } = controlled(new Set());
    const v = new SmartVerifier<number>({ test, clock, maxQueue: 3 }, () => {});
    v.push(1, 'tcp', 4, 9);
    v.push(2, 'tcp', 6, 9);
    v.push(3, 'udp', 4, 9);
    v.push(4, 'udp', 4, 9);
    expect(calls).toHaveLength(3);
    expect(v.dropped).toBe(1);
    for (const c of calls) c.release();
    await flush();
    expect(v.pending).toBe(0);
  });

  it('keeps one cached answer per port, however many packets', async () => {
    const clock = new ManualClock(0);
    const { test, calls } = controlled(new Set());
    const out: number[] = [];
    const v = new SmartVerifier<number>({ test, clock }, (x) => out.push(x));
    for (let i = 0; i < 3000; i++) v.push(i, 'tcp', 4, 1000 + (i % 3));
    expect(calls.length).toBe(3);
    for (const c of calls) c.release();
    await flush();
    expect(out.length).toBe(3000);
    expect(v.cached).toBe(3);
    expect(v.pending).toBe(0);
  });

  it('a synchronous bind test settles in the same turn, behind packets still waiting for an asynchronous answer', async () => {
    const clock = new ManualClock(0);
    const pending: (() => void)[] = [];
    const asked: number[] = [];
    // Port 1 answers through a promise, every other port at once; port 21 is held, port 66 makes the test throw.
    const test: BindTest = (_p, _f, port) => {
      asked.push(port);
      if (port === 66) throw new Error('bind test failed');
      if (port === 1)
        return new Promise((r) => {
          pending.push(() => r(false));
        });
      return port === 21;
    };
    const out: string[] = [];
    const dropped: string[] = [];
    const v = new SmartVerifier<string>(
      { test, clock },
      (x) => out.push(x),
      (x) => dropped.push(x),
    );
    v.push('a:2', 'tcp', 4, 2);
    v.push('b:21', 'tcp', 4, 21);
    v.push('c:66', 'tcp', 4, 66);
    expect(out).toEqual(['a:2', 'c:66']); // no await: same turn; a throwing test answers "free"
    expect(dropped).toEqual(['b:21']);
    v.push('d:1', 'tcp', 4, 1);
    v.push('e:3', 'tcp', 4, 3);
    expect(out).toEqual(['a:2', 'c:66']); // e waits behind d: arrival order is kept
    expect(v.pending).toBe(2);
    pending[0]?.();
    await flush();
    expect(out).toEqual(['a:2', 'c:66', 'd:1', 'e:3']);
    v.push('f:2', 'tcp', 4, 2);
    expect(out.at(-1)).toBe('f:2');
    expect(asked).toEqual([2, 21, 66, 1, 3]); // port 2's answer was reused
    expect(v.pending).toBe(0);
  });
});

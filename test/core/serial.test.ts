import { describe, expect, it } from '@jest/globals';
import { Serial } from '../../src/core/serial.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Serial (core/serial.ts), the one job queue', () => {
  it('runs jobs one at a time in order; a failed job does not stop the next', async () => {
    const s = new Serial();
    const seen: string[] = [];
    let running = 0;
    const job =
      (name: string, fail = false) =>
      async (): Promise<string> => {
        expect(++running).toBe(1);
        seen.push(`start ${name}`);
        await tick();
        seen.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      };
    const a = s.run(job('a'));
    const b = s.run(job('b', true));
    const c = s.run(job('c'));
    await expect(a).resolves.toBe('a');
    await expect(b).rejects.toThrow('b');
    await expect(c).resolves.toBe('c');
    expect(seen).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('starts a job inside the caller when idle, and waits in line otherwise', async () => {
    const s = new Serial();
    let first = false;
    void s.run(() => {
      first = true;
    });
    expect(first).toBe(true); // no promise hop
    let gate!: () => void;
    const held = s.run(() => new Promise<void>((r) => (gate = r)));
    let second = false;
    const next = s.run(() => {
      second = true;
    });
    await tick();
    expect(second).toBe(false);
    gate();
    await held;
    await next;
    expect(second).toBe(true);
  });

  it('a synchronous throw is the job failing, not the caller', async () => {
    const s = new Serial();
    const p = s.run(() => {
      throw new Error('sync');
    });
    await expect(p).rejects.toThrow('sync');
    await expect(s.run(() => 1)).resolves.toBe(1);
  });

  it('calls after() then onIdle once the last job settled, before its promise and before the next job', async () => {
    const events: string[] = [];
    const s = new Serial(() => events.push('idle'));
    const a = s.run(
      () => events.push('a'),
      () => events.push('after a'),
    );
    const inner: Promise<unknown>[] = [];
    const b = s.run(
      () => {
        events.push('b');
        inner.push(s.run(() => events.push('queued from b')));
      },
      () => events.push('after b'),
    );
    await Promise.all([a, b]);
    await Promise.all(inner);
    expect(events).toEqual(['a', 'after a', 'b', 'after b', 'queued from b', 'idle']);
    expect(s.idle).toBe(true);
  });
});

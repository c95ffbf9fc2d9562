import { describe, expect, it } from '@jest/globals';
import { OwnBatches } from '../../../src/sentryban/fleet/own-batches.js';

describe('own batches: the reader moves past its own published batches unread', () => {
  it('skips only batches that follow the position directly, in order', () => {
    const o = new OwnBatches();
    o.sent('10-0', '10-5');
    o.sent('10-5', '11-2'); // the next batch right after the first
    o.sent('12-0', '12-3'); // another host's entry 11-9..12-0 lies before this one
    expect(o.positionPast('9-0')).toBe('9-0'); // entries of others between the position and the batch: read them
    expect(o.positionPast('10-0')).toBe('11-2');
    expect(o.positionPast('11-2')).toBe('11-2');
    expect(o.positionPast('12-0')).toBe('12-3'); // once the reader has read up to the entry before it
  });

  it('drops ranges the position has passed, and ignores a batch into an empty stream', () => {
    const o = new OwnBatches();
    o.sent('', '1-0');
    o.sent('2-0', '2-4');
    o.sent('3-0', '3-1');
    expect(o.positionPast('2-7')).toBe('2-7'); // past the first range: dropped, the second is ahead
    expect(o.positionPast('3-0')).toBe('3-1');
    expect(o.positionPast('1-0')).toBe('1-0');
  });

  it('settles when the batch on its way has its reply, or after the bound', async () => {
    const o = new OwnBatches();
    await o.settled(10); // nothing on its way
    let reply: (v: number) => void = () => {};
    const sent = o.sending(new Promise<number>((r) => (reply = r)));
    let settled = false;
    const s = o.settled(5_000).then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    reply(1);
    expect(await sent).toBe(1);
    await s;
    expect(settled).toBe(true);
    const never = o.sending(new Promise<number>(() => {}));
    const t0 = Date.now();
    await o.settled(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    void never;
  });
});

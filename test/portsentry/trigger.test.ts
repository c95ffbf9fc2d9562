import { describe, expect, it } from '@jest/globals';
import { parseAddr, type Addr } from '../../src/core/addr.js';
import { StateEngine } from '../../src/portsentry/trigger.js';

const a = (s: string): Addr => parseAddr(s) as Addr;
const A = a('192.0.2.2');
const run = (t: number, hits: Addr[]): boolean[] => {
  const e = new StateEngine(t);
  return hits.map((h) => e.hit(h).alarm);
};

describe('SCAN_TRIGGER state engine (1.2: 50-slot ring of hits)', () => {
  it('0 and 1 alarm on the first hit', () => {
    expect(run(0, [A, A])).toEqual([true, true]);
    expect(run(1, [A, A])).toEqual([true, true]);
  });
  it('3 alarms on the third hit and every hit after, same port or not', () => {
    expect(run(3, [A, A, A, A])).toEqual([false, false, true, true]);
  });
  it('counts per address', () => {
    const B = a('192.0.2.3');
    expect(run(2, [A, B, A, B])).toEqual([false, false, true, true]);
  });
  it('forgets a hit once 50 newer hits went through the ring', () => {
    const others = Array.from({ length: 50 }, (_, i) => a(`198.51.100.${i + 1}`));
    expect(run(2, [A, ...others, A]).at(-1)).toBe(false);
    expect(run(2, [A, ...others.slice(1), A]).at(-1)).toBe(true);
  });
  it('a trigger above 50 alarms anyway with 1.2 warnings', () => {
    const r = new StateEngine(51).hit(A);
    expect(r.alarm).toBe(true);
    expect(r.syslog).toHaveLength(3);
  });
  it('negative trigger alarms', () => {
    expect(run(-1, [A])).toEqual([true]);
  });
});

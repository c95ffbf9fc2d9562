import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Admission } from '../../../src/portsentry/sensors/admission.js';

describe('Admission (bounded probe backlog)', () => {
  it('admits everything below the pressure mark', () => {
    const a = new Admission({ max: 10, pressure: 5, perSource: 2 });
    expect([1, 2, 3, 4, 5].map(() => a.admit('198.51.100.1'))).toEqual([true, true, true, true, true]);
  });

  it('under pressure refuses a busy source but still takes a new one, and never exceeds max', () => {
    const a = new Admission({ max: 8, pressure: 4, perSource: 2 });
    for (let i = 0; i < 4; i++) expect(a.admit('198.51.100.1')).toBe(true);
    expect(a.admit('198.51.100.1')).toBe(false);
    expect(a.admit('203.0.113.7')).toBe(true);
    expect(a.admit('203.0.113.7')).toBe(true);
    expect(a.admit('203.0.113.7')).toBe(false);
    expect(a.admit('203.0.113.8')).toBe(true);
    expect(a.admit('203.0.113.9')).toBe(true);
    expect(a.waiting).toBe(8);
    expect(a.admit('203.0.113.10')).toBe(false);
    a.release('198.51.100.1');
    expect(a.admit('203.0.113.10')).toBe(true);
    expect(a.refused).toBe(3);
  });

  it('keeps waiting within max and its table empty once everything is released', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 })), { maxLength: 500 }), (ops) => {
        const a = new Admission({ max: 16, pressure: 8, perSource: 3 });
        const held: string[] = [];
        for (const [add, n] of ops) {
          if (add) {
            const s = `198.51.100.${n}`;
            if (a.admit(s)) held.push(s);
          } else if (held.length) a.release(held.splice(n % held.length, 1)[0] as string);
          expect(a.waiting).toBeLessThanOrEqual(16);
          expect(a.waiting).toBe(held.length);
        }
        for (const s of held) a.release(s);
        expect(a.waiting).toBe(0);
        expect(a.sources).toBe(0);
      }),
    );
  });
});

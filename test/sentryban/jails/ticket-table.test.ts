import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { addToTicket, TicketTable, type Ticket } from '../../../src/sentryban/jails/ticket.js';

// The compact table must count exactly as addToTicket on one object per id does, through growth past its
// initial 64 slots and through deletes whose slots are reused.
describe('TicketTable', () => {
  it('counts like one Ticket object per id, with deletes and slot reuse', () => {
    const op = fc.record({
      id: fc.integer({ min: 0, max: 99 }),
      dt: fc.integer({ min: 0, max: 5000 }),
      weight: fc.integer({ min: 1, max: 3 }),
      del: fc.integer({ min: 0, max: 5 }).map((d) => d === 0),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 200, maxLength: 600, size: 'max' }), (ops) => {
        const table = new TicketTable();
        const plain = new Map<string, Ticket>();
        let time = 1_764_000_000_000;
        for (const o of ops) {
          const key = `2001:db8::${o.id.toString(16)}`;
          time += o.dt;
          if (o.del) {
            table.delete(key);
            plain.delete(key);
            continue;
          }
          const want = addToTicket(plain.get(key), time, o.weight, 600_000);
          plain.set(key, want);
          expect(table.add(key, time, o.weight, 600_000)).toEqual(want);
        }
        expect(table.size).toBe(plain.size);
      }),
      { seed: 6, numRuns: 60 },
    );
  });
});

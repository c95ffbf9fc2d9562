import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

  // Memory per counted id, in V8's heap (the three Float64Arrays live outside it), ids as the matcher hands them
  // over: text built of parts (a rope), as ipaddr.js prints IPv6. Held as they came, each id cost ~165 bytes:
  // the rope's head and pieces stay in front of the flat text V8 makes when the Map hashes it. A flat copy: ~85.
  it('keeps a flat copy of each key: under 100 bytes of heap per counted IPv6 id', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = (): number => getHeapStatistics().used_heap_size;
    const N = 20_000;
    gc();
    const before = used();
    const ids = Array.from(
      { length: N },
      (_, i) => '2001:db8:' + (i >> 12).toString(16) + ':' + (i & 0xfff).toString(16) + '::1',
    );
    gc();
    gc(); // old now, as the daemon's ids are by the time a burst is counted (a young rope is undone by the scavenger)
    const table = new TicketTable();
    for (let i = 0; i < N; i++) table.add(ids[i] ?? '', 1_764_000_000_000 + i, 1, 600_000);
    ids.length = 0; // only the table holds them now
    gc();
    expect(table.size).toBe(N);
    expect((used() - before) / N).toBeLessThan(100);
  });

  // What the ban manager does (manager.ts #forget): failures older than one findtime before `now` are not counted,
  // and every so often tickets whose last failure is two findtimes before `now` are forgotten. Every count must
  // come out as if nothing had been forgotten, and the table must hold only what can still count.
  it('forgetting tickets two findtimes old changes no count', () => {
    const F = 60_000;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('fail' as const), id: fc.integer({ min: 0, max: 30 }), back: fc.nat(F) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3 * F }) }),
      fc.record({ kind: fc.constant('forget' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 400 }), (ops) => {
        const table = new TicketTable();
        const plain = new Map<string, Ticket>();
        let now = 1_764_000_000_000;
        for (const o of ops) {
          if (o.kind === 'wait') now += o.ms;
          else if (o.kind === 'forget') table.forget(now - 2 * F);
          else {
            const key = `198.51.100.${o.id}`;
            const time = now - o.back; // not before now - F: older failures are not counted
            const want = addToTicket(plain.get(key), time, 1, F);
            plain.set(key, want);
            expect(table.add(key, time, 1, F)).toEqual(want);
          }
        }
        table.forget(now - 2 * F);
        const live = [...plain.values()].filter((t) => t.last >= now - 2 * F).length;
        expect(table.size).toBe(live);
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});

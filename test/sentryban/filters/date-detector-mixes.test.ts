import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { templatesFor } from '../../../src/sentryban/filters/date/defaults.js';
import { DateDetector } from '../../../src/sentryban/filters/date/detector.js';
import type { DateTemplate } from '../../../src/sentryban/filters/date/template.js';

// Logs that mix date formats line by line (hosts with different rsyslog templates, aggregated). The detector
// keeps one conversion per template and reuses it when the fields the time reads are the same (a fraction of a
// second differs); lines its group of line-anchored templates take in any order leave the same state key. These
// properties hold both to fail2ban's results: each line's date, template and time are those of a plain
// conversion, and a detector warmed up on a later part of the log agrees with one that read it all.
const NOW = Date.UTC(2026, 11, 7, 1);
const UTC = { kind: 'fixed' as const, offsetMin: 0 };
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const p2 = (n: number): string => String(n).padStart(2, '0');

// A few instants (repeats make conversions reusable), each written in one of the formats below.
type Stamp = { sec: number; frac: number; fmt: number };
const FORMATS: ReadonlyArray<(d: Date, frac: number) => string> = [
  (d) => `${MON[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms(d)} host sshd[7]: x`,
  (d, f) => `${iso(d)}T${hms(d)}.${String(f).padStart(6, '0')}+00:00 host sshd[7]: x`,
  (d, f) => `${iso(d)} ${hms(d)},${String(f % 1000).padStart(3, '0')} host sshd[7]: x`,
  (d) => `${DAY[d.getUTCDay()]} ${MON[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${hms(d)} ${d.getUTCFullYear()} host x`,
  (d, f) => `${Math.floor(d.getTime() / 1000)}.${String(f).padStart(6, '0')} host x`,
  (d) => `[${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${hms(d)} -0500] "GET /"`,
  (d, f) => `${MON[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${hms(d)}.${String(f % 1000).padStart(3, '0')} host x`,
];
// Formats two line-anchored templates both take (day-month and month-day; and each of them alone), found away
// from the line's start, a time of day alone, and lines without a date.
const AMBIGUOUS: ReadonlyArray<(d: Date, frac: number) => string> = [
  (d) => `${p2(d.getUTCDate() % 12 || 12)}-${p2(d.getUTCMonth() + 1)}-${d.getUTCFullYear()} ${hms(d)} x`,
  (d) => `${p2(d.getUTCMonth() + 1)}-${13 + (d.getUTCSeconds() % 15)}-${d.getUTCFullYear()} ${hms(d)} x`,
  (d) => `${13 + (d.getUTCSeconds() % 15)}-${p2(d.getUTCMonth() + 1)}-${d.getUTCFullYear()} ${hms(d)} x`,
  (d) => `host x: ${MON[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${hms(d)} y`,
  (d) => `${hms(d)} x`,
  () => 'no date here',
];
const hms = (d: Date): string => `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
const iso = (d: Date): string => `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;

const lineOf = (s: Stamp, formats: ReadonlyArray<(d: Date, frac: number) => string>): string =>
  (formats[s.fmt % formats.length] as (d: Date, f: number) => string)(
    new Date(Date.UTC(2026, 11, 6, 23, 59, 0) + s.sec * 1000),
    s.frac,
  );
const stamps = (fmts: number, min: number, max: number): fc.Arbitrary<Stamp[]> =>
  fc.array(
    fc.record({
      sec: fc.integer({ min: 0, max: 90 }),
      frac: fc.integer({ min: 0, max: 999_999 }),
      fmt: fc.integer({ min: 0, max: fmts - 1 }),
    }),
    { minLength: min, maxLength: max, size: 'max' },
  );

type Found = { start: number; end: number; time: number | null; template: string } | null;
// (jest's deep equality costs about as much as the detector: only a difference goes through expect)
const same = (a: Found, b: Found): boolean =>
  a === null || b === null
    ? a === b
    : a.start === b.start && a.end === b.end && a.time === b.time && a.template === b.template;
const run = (d: DateDetector, line: string): Found =>
  d.locate(line, NOW)
    ? { start: d.start, end: d.end, time: d.time, template: (d.lastTemplate as DateTemplate).name }
    : null;

// The time a detector that knows only this template and has converted nothing finds for the date text alone.
const plainTime = (templates: readonly DateTemplate[], f: NonNullable<Found>, line: string): number | null => {
  const t = templates.find((x) => x.name === f.template) as DateTemplate;
  return new DateDetector([t], UTC).find(line.slice(f.start, f.end), NOW)?.time ?? null;
};

describe('date detection on logs that mix formats', () => {
  it('finds each line the date, template and time of a plain scan and conversion', () => {
    const templates = templatesFor([], 2026);
    const all = [...FORMATS, ...AMBIGUOUS];
    let converted = 0;
    fc.assert(
      fc.property(stamps(all.length, 1, 300), (ss) => {
        const fast = new DateDetector(templates, UTC);
        // plain: no test()-only placing, and a fresh conversion of every date
        const plain = new DateDetector(
          templates.map((t) => ({ ...t, spanTest: 0 as const })),
          UTC,
        );
        for (const s of ss) {
          const line = lineOf(s, all);
          const got = run(fast, line);
          const want = run(plain, line);
          if (!same(got, want)) expect({ line, got }).toEqual({ line, got: want });
          if (got === null || got.start === got.end) continue;
          const time = plainTime(templates, got, line);
          if (got.time !== time) expect({ line, time: got.time }).toEqual({ line, time });
          converted++;
        }
      }),
      { numRuns: 150 },
    );
    expect(converted).toBeGreaterThan(10_000);
  });

  // What `sentryban regex` relies on to take a worker thread's piece (see regex-parallel.ts): a detector that
  // replayed only the lines just before a piece, when its key is the key of the one that read everything before,
  // finds the same dates in the piece and ends with the same key, unless it counted a reorder.
  const agrees = (ss: Stamp[], formats: ReadonlyArray<(d: Date, frac: number) => string>, cuts: number[][]) => {
    const templates = templatesFor([], 2026);
    const lines = ss.map((s) => lineOf(s, formats));
    const whole = new DateDetector(templates, UTC);
    const keys = [whole.stateKey()];
    const found = lines.map((l) => {
      const f = run(whole, l);
      keys.push(whole.stateKey());
      return f;
    });
    let taken = 0;
    let sameKey = 0;
    for (const [a, b] of cuts) {
      const at = Math.min(a as number, b as number) % (lines.length + 1);
      const from = Math.max(a as number, b as number) % (lines.length + 1);
      const warm = new DateDetector(templates, UTC);
      for (const l of lines.slice(at, from)) warm.locate(l, NOW);
      if (warm.stateKey() !== keys[from]) continue;
      sameKey++;
      const r0 = warm.reorders;
      let j = from;
      for (; j < lines.length; j++) {
        const f = run(warm, lines[j] as string);
        if (warm.reorders !== r0) break;
        if (!same(f, found[j] as Found)) expect({ line: lines[j], f }).toEqual({ line: lines[j], f: found[j] });
        const key = warm.stateKey();
        if (key !== keys[j + 1]) expect({ line: lines[j], key }).toEqual({ line: lines[j], key: keys[j + 1] });
      }
      if (j === lines.length) taken++;
    }
    return { taken, sameKey, moves: whole.reorders };
  };
  const cuts = fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 });

  it('a detector warmed up on the lines before a piece agrees with the one that read all of them', () => {
    let sameKey = 0;
    fc.assert(
      fc.property(stamps(FORMATS.length + AMBIGUOUS.length, 1, 200), cuts, (ss, c) => {
        sameKey += agrees(ss, [...FORMATS, ...AMBIGUOUS], c).sameKey;
      }),
      { numRuns: 200 },
    );
    expect(sameKey).toBeGreaterThan(100);
  });

  it('lines alternating between formats leave nothing to re-run', () => {
    // Formats each taken by one line-anchored template, in any mix: once a warm-up has seen each of them, its
    // key is the key of the whole and it counts no reorder, though the templates keep swapping places.
    let taken = 0;
    fc.assert(
      fc.property(fc.integer({ min: 2, max: FORMATS.length }), fc.array(fc.nat(), { maxLength: 6 }), (k, extra) => {
        const n = 400;
        const ss: Stamp[] = Array.from({ length: n }, (_, i) => ({
          sec: Math.floor(i / 7),
          frac: (i * 7919) % 1_000_000,
          fmt: (i + (extra[i % (extra.length || 1)] ?? 0)) % k,
        }));
        const r = agrees(ss, FORMATS.slice(0, k), [
          [60, 200],
          [100, 300],
        ]);
        expect(r.taken).toBe(2);
        taken += r.taken;
      }),
      { numRuns: 30 },
    );
    expect(taken).toBe(60);
  });
});

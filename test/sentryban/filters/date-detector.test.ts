import { describe, expect, it } from '@jest/globals';
import { templatesFor } from '../../../src/sentryban/filters/date/defaults.js';
import { DateDetector } from '../../../src/sentryban/filters/date/detector.js';

// now = 2026-11-25T05:00:00Z; host zone fixed to UTC+1 where it matters.
const NOW = Date.UTC(2026, 10, 25, 5);
const detect = (line: string, patterns: string[] = [], tz = { kind: 'fixed' as const, offsetMin: 60 }) => {
  const d = new DateDetector(templatesFor(patterns, 2026), tz);
  const f = d.find(line, NOW);
  return f ? { text: line.slice(f.start, f.end), time: f.time } : null;
};

describe('date detection (fail2ban default templates)', () => {
  it.each([
    ['Nov 25 04:05:19 vm sshd[1]: x', 'Nov 25 04:05:19', Date.UTC(2026, 10, 25, 3, 5, 19) / 1000],
    ['Dec 31 23:00:00 vm x', 'Dec 31 23:00:00', Date.UTC(2025, 11, 31, 22) / 1000], // more than a day ahead: last year
    [
      '2026-11-25T04:27:41.465322+00:00 vm x',
      '2026-11-25T04:27:41.465322+00:00',
      Date.UTC(2026, 10, 25, 4, 27, 41) / 1000,
    ],
    ['[25/Nov/2026:04:05:19 -0500] "GET /"', '25/Nov/2026:04:05:19 -0500', Date.UTC(2026, 10, 25, 9, 5, 19) / 1000],
    ['1795579519 - 11/25/2026 04:05:19 Host: x', '1795579519', 1795579519],
    ['@4000000068a0b0c00000000a x', '@4000000068a0b0c00000000a', 0x68a0b0c0], // TAI64N label 2^62 + seconds
  ])('%s', (line, text, time) => {
    const r = detect(line);
    expect(r?.text).toBe(text);
    expect(r?.time).toBe(time);
  });

  it('cuts nothing and finds no time in a line without a date', () => {
    expect(detect('no date here at all')).toBeNull();
  });

  it('honours a custom %-pattern with {^LN-BEG} and refuses a stray %', () => {
    expect(detect('2026/11/25 04:05:19 [error] x', ['{^LN-BEG}%Y/%m/%d %H:%M:%S'])?.time).toBe(
      Date.UTC(2026, 10, 25, 3, 5, 19) / 1000,
    );
    expect(() => templatesFor(['%Y %q'], 2026)).toThrow(/unknown %-token/);
  });

  it('converts a date text again when the clock has moved since (the year it assumes can change)', () => {
    // Dec 8 00:30 without a year: more than a day ahead of Dec 7 00:00, so last year; an hour later, this year.
    const d = new DateDetector(templatesFor([], 2026), { kind: 'fixed', offsetMin: 0 });
    const line = 'Dec  8 00:30:00 vm sshd[1]: x';
    const at = Date.UTC(2026, 11, 7);
    expect(d.find(line, at)?.time).toBe(Date.UTC(2025, 11, 8, 0, 30) / 1000);
    expect(d.find(line, at + 30_000)?.time).toBe(Date.UTC(2025, 11, 8, 0, 30) / 1000);
    expect(d.find(line, at + 3_600_000)?.time).toBe(Date.UTC(2026, 11, 8, 0, 30) / 1000);
  });

  it('keeps using the template that matched last', () => {
    const d = new DateDetector(templatesFor([], 2026), { kind: 'fixed', offsetMin: 0 });
    for (let i = 0; i < 3; i++)
      expect(d.find(`Nov 25 04:05:1${i} vm x`, NOW)?.time).toBe(Date.UTC(2026, 10, 25, 4, 5, 10 + i) / 1000);
    expect(d.templateNames[0]).toMatch(/^\{\^LN-BEG\}\(\?:%a \)\?%b %d %k/);
  });
});

describe('dates differing only in their fraction of a second (DateTemplate.fraction)', () => {
  const UTC = { kind: 'fixed' as const, offsetMin: 0 };
  it('is known for the default patterns that write `[.,]%f` or `\\.%f`, not for a fraction without separator', () => {
    const withF = templatesFor([], 2026).filter((t) => t.name.includes('%f'));
    expect(withF.length).toBeGreaterThan(4);
    for (const t of withF) expect([t.name, t.fraction !== null]).toEqual([t.name, t.fast !== null]);
    expect(templatesFor(['%H:%M:%S%f'], 2026).every((t) => t.fraction === null)).toBe(true);
  });

  it('a date of one length that differs in anything but the fraction digits is converted again', () => {
    const d = new DateDetector(templatesFor([], 2026), UTC);
    const at = (line: string) => (d.locate(line, NOW) ? [line.slice(d.start, d.end), d.time] : null);
    const t0 = Date.UTC(2026, 10, 25, 4, 27, 41) / 1000;
    expect(at('2026-11-25T04:27:41.465322+00:00 vm x')).toEqual(['2026-11-25T04:27:41.465322+00:00', t0]);
    expect(at('2026-11-25T04:27:41.999999+00:00 vm x')).toEqual(['2026-11-25T04:27:41.999999+00:00', t0]);
    // the seconds, the zone, the digit before the separator (same length each time): a new time
    expect(at('2026-11-25T04:27:42.999999+00:00 vm x')?.[1]).toBe(t0 + 1);
    expect(at('2026-11-25T04:27:42.465322+00:00 vm x')?.[1]).toBe(t0 + 1);
    expect(at('2026-11-25T04:27:42.465322+01:00 vm x')?.[1]).toBe(t0 + 1 - 3600);
    expect(at('2026-11-25T04:27:42,465322+01:00 vm x')?.[1]).toBe(t0 + 1 - 3600);
    expect(at('2026-11-25T04:27:43.000001+01:00 vm x')?.[1]).toBe(t0 + 2 - 3600);
    // a shorter fraction and a space before the zone keep the length: not the fraction's digits any more
    expect(at('2026-11-25T04:27:43.00001 +01:00 vm x')).toEqual(['2026-11-25T04:27:43.00001 +01:00', t0 + 2 - 3600]);
    expect(at('2026-11-25T04:27:43.00001 +01:30 vm x')).toEqual(['2026-11-25T04:27:43.00001 +01:30', t0 + 2 - 5400]);
    // BSD with milliseconds
    const b0 = Date.UTC(2026, 10, 25, 4, 5, 19) / 1000;
    expect(at('Nov 25 04:05:19.123 vm x')).toEqual(['Nov 25 04:05:19.123', b0]);
    expect(at('Nov 25 04:05:19.456 vm x')).toEqual(['Nov 25 04:05:19.456', b0]);
    expect(at('Nov 25 04:05:20.456 vm x')).toEqual(['Nov 25 04:05:20.456', b0 + 1]);
  });
});

describe('dates differing only in their seconds (DateTemplate.seconds)', () => {
  const UTC = { kind: 'fixed' as const, offsetMin: 0 };
  it('is known for the default patterns that write `%M:%S` (checked by hand), not for custom ones', () => {
    const all = templatesFor([], 2026);
    const withS = all.filter((t) => t.seconds !== null).map((t) => t.name.replace(/^\{\^LN-BEG\}/, ''));
    expect(new Set(withS).size).toBe(14); // the 17 defaults but %ExS, EPOCH and TAI64N
    for (const n of withS) expect(all.some((t) => t.name === n || t.name === `{^LN-BEG}${n}`)).toBe(true);
    for (const p of ['%H:%M:%S', '%H:%M:%S%f', '{^LN-BEG}%Y/%m/%d %H:%M:%S', '%H:%M:%S\\d', '{UNB}%H:%M:%S'])
      expect(templatesFor([p], 2026).every((t) => t.seconds === null)).toBe(true);
  });

  it('a new second of a converted minute takes its time from the minute; anything else is converted again', () => {
    const d = new DateDetector(templatesFor([], 2026), UTC);
    const at = (line: string) => (d.locate(line, NOW) ? [line.slice(d.start, d.end), d.time] : null);
    const b0 = Date.UTC(2026, 10, 25, 4, 5, 19) / 1000;
    expect(at('Nov 25 04:05:19 vm x')).toEqual(['Nov 25 04:05:19', b0]);
    expect(at('Nov 25 04:05:59 vm x')?.[1]).toBe(b0 + 40);
    expect(at('Nov 25 04:05:07 vm x')?.[1]).toBe(b0 - 12);
    expect(at('Nov 25 04:05:60 vm x')?.[1]).toBeNull(); // as fail2ban: no second 60
    expect(at('Nov 25 04:05:08 vm x')?.[1]).toBe(b0 - 11);
    expect(at('Nov 25 04:06:08 vm x')?.[1]).toBe(b0 + 49);
    expect(at('Nov 25 05:06:08 vm x')?.[1]).toBe(b0 + 3649);
    expect(at('Nov 24 05:06:09 vm x')?.[1]).toBe(b0 - 86400 + 3650);
    expect(at('Nov 24 05:06:9 vm x')?.[1]).toBe(b0 - 86400 + 3650); // one digit: converted again
    // ISO with microseconds and a zone: seconds and fraction differ, the zone too
    const i0 = Date.UTC(2026, 10, 25, 4, 27, 41) / 1000;
    expect(at('2026-11-25T04:27:41.465322+00:00 vm x')?.[1]).toBe(i0);
    expect(at('2026-11-25T04:27:05.000001+00:00 vm x')?.[1]).toBe(i0 - 36);
    expect(at('2026-11-25T04:27:05.000001+01:00 vm x')?.[1]).toBe(i0 - 36 - 3600);
    expect(at('2026-11-25T04:27:59.999999+01:00 vm x')?.[1]).toBe(i0 + 18 - 3600);
  });

  it('a minute in which the assumed day changes is converted second by second', () => {
    // A time of day alone is today, or yesterday when it is ahead of the clock (05:00:30): 05:00:50 is yesterday.
    const now = Date.UTC(2026, 10, 25, 5, 0, 30);
    const d = new DateDetector(templatesFor([], 2026), UTC);
    expect(d.find('05:00:10 x', now)?.time).toBe(Date.UTC(2026, 10, 25, 5, 0, 10) / 1000);
    expect(d.find('05:00:50 x', now)?.time).toBe(Date.UTC(2026, 10, 24, 5, 0, 50) / 1000);
    expect(d.find('05:00:20 x', now)?.time).toBe(Date.UTC(2026, 10, 25, 5, 0, 20) / 1000);
  });
});

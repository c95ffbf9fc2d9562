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

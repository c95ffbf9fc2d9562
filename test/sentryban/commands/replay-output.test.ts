import { describe, expect, it } from '@jest/globals';
import { formatTime } from '../../../src/sentryban/commands/replay-output.js';

// The timeline's times are Date's ISO text without ".000": the minutes kept must never show a stale minute.
const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

describe('formatTime', () => {
  it('writes what Date writes, across alternating, repeated and new minutes', () => {
    const start = Date.UTC(2026, 11, 6, 23, 58, 1);
    const times: number[] = [];
    // A ban at t and its end 600 s later, then an unban of an earlier ban: three minutes interleaved.
    for (let i = 0; i < 400; i++) {
      const t = start + i * 7919;
      times.push(t, t + 600_000, t - 1_234, t + 600_000 + 59_999, t + 61);
    }
    for (const t of times) expect(formatTime(t)).toBe(iso(t));
  });
  it('writes milliseconds only when there are some, and the slow forms as Date does', () => {
    const t = Date.UTC(2026, 0, 1, 0, 0, 5, 7);
    expect(formatTime(t)).toBe('2026-01-01T00:00:05.007Z');
    expect(formatTime(t - 7)).toBe('2026-01-01T00:00:05Z');
    // A fraction of a millisecond, in a minute already kept: Date's text (whole milliseconds).
    expect(formatTime(t + 0.5)).toBe(iso(t + 0.5));
    const far = Date.UTC(12000, 0, 1, 0, 0, 1);
    expect(formatTime(far)).toBe(iso(far));
    expect(formatTime(t)).toBe('2026-01-01T00:00:05.007Z');
  });
});

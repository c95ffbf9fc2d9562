import { describe, expect, it } from '@jest/globals';
import { computeBantime, failureWeight } from '../../../src/sentryban/jails/bantime.js';
import type { IncrementConfig } from '../../../src/sentryban/jails/config.js';
import { compileFormula } from '../../../src/sentryban/jails/formula.js';

const NAMES = ['ban.Time', 'ban.Count', 'banFactor'];
const inc = (over: Partial<IncrementConfig> = {}): IncrementConfig => ({
  factor: 1,
  formula: null,
  multipliers: [],
  maxtimeSec: null,
  rndtimeSec: null,
  overalljails: false,
  ...over,
});

describe('bantime.formula (Python arithmetic subset)', () => {
  it.each([
    [
      'ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor',
      { 'ban.Time': 600, 'ban.Count': 3, banFactor: 1 },
      4800,
    ],
    [
      'ban.Time * math_free if 0 else ban.Time * 2 ** ban.Count',
      { 'ban.Time': 10, 'ban.Count': 2, banFactor: 1, math_free: 0 },
      40,
    ],
    ['max(ban.Time, ban.Count * 100) // 3', { 'ban.Time': 10, 'ban.Count': 2, banFactor: 1 }, 66],
    ['-7 % 3 + round(2.5) + int(3.9)', {}, 2 + 2 + 3],
    ['ban.Count > 1 and ban.Time or 5', { 'ban.Time': 9, 'ban.Count': 1, banFactor: 1 }, 5],
  ])('%s', (text, vars, want) => {
    const r = compileFormula(text, Object.keys(vars));
    expect(r.ok && r.formula.evaluate(vars)).toBe(want);
  });
  it.each([
    ['__import__(1)', 'not allowed'],
    ['open("x")', 'unexpected'],
    ['ban.Time +', 'expected'],
    ['ban.Tim * 2', 'unknown name "ban.Tim"'],
    ['a; b', 'unexpected'],
  ])('refuses %s', (text, msg) => {
    const r = compileFormula(text, NAMES);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(msg);
  });
});

describe('bantime increment as fail2ban computes it', () => {
  it('default formula doubles per earlier ban, capped at 2^20', () => {
    expect([0, 1, 2, 3, 25].map((c) => computeBantime(600, c, inc(), () => 0).sec)).toEqual([
      600,
      1200,
      2400,
      4800,
      600 * 2 ** 20,
    ]);
  });
  it('multipliers index the earlier-ban count, the last repeats, factor applies', () => {
    expect(
      [1, 2, 3, 9].map((c) => computeBantime(60, c, inc({ multipliers: [1, 2, 4], factor: 3 }), () => 0).sec),
    ).toEqual([360, 720, 720, 720]);
  });
  it('maxtime caps before rndtime adds', () => {
    expect(computeBantime(600, 5, inc({ maxtimeSec: 3600, rndtimeSec: 100 }), () => 0.25).sec).toBe(3625);
  });
  it('formula never goes below bantime; permanent stays permanent', () => {
    const f = compileFormula('ban.Time / 10', NAMES);
    if (!f.ok) throw new Error(f.message);
    expect(computeBantime(600, 2, inc({ formula: f.formula }), () => 0).sec).toBe(600);
    expect(computeBantime(-1, 4, inc(), () => 0).sec).toBe(-1);
  });
  it('a known-bad failure weighs 2^c/2+1, capped at maxretry', () => {
    expect([0, 1, 2, 3, 4].map((c) => failureWeight(c, 8, inc()))).toEqual([1, 2, 3, 5, 8]);
    expect(failureWeight(3, 8, null)).toBe(1);
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { keepGroups, numberGroups } from '../../../src/sentryban/filters/regex/numbered.js';
import { makeTemplate } from '../../../src/sentryban/filters/date/template.js';

// keepGroups: the same regex capturing fewer groups. A group a backreference names stays a group (renumbered
// with its backreference), so that the regex matches exactly what it matched before.
describe('keepGroups', () => {
  it('keeps a group a backreference names and renumbers the backreference', () => {
    const k = keepGroups(String.raw`(a)(\d+)([-/])(\d+)(?:\3)(\d+)`, new Set([1, 2]));
    expect(k?.source).toBe(String.raw`(a)(\d+)([-/])(?:\d+)(?:\3)(?:\d+)`);
    expect([...(k?.numbers ?? [])]).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const late = keepGroups(String.raw`(x)(y)(z)(q)\4`, new Set([1]));
    expect(late?.source).toBe(String.raw`(x)(?:y)(?:z)(q)\2`);
  });

  it('refuses named groups, \\k and a backreference past the last group (an octal escape)', () => {
    expect(keepGroups('(?<a>x)', new Set([1]))).toBeNull();
    expect(keepGroups(String.raw`(x)\k<a>`, new Set([1]))).toBeNull();
    expect(keepGroups(String.raw`(x)\2`, new Set([1]))).toBeNull();
  });

  it('matches what the full regex matches, at the same place and length', () => {
    const src = numberGroups(String.raw`(^\W{0,2})((\d{4})(?<sep>[-/.])(\d\d)\k<sep>(\d\d)[T ](\d\d):(\d\d))`).source;
    const full = new RegExp(src);
    const k = keepGroups(src, new Set([1, 2]));
    if (k === null) throw new Error('not kept');
    const fast = new RegExp(k.source);
    const pick = (...xs: string[]) => fc.constantFrom(...xs);
    const seps = pick('--', '//', '..', '-/', '::', '');
    const line = fc
      .tuple(pick('', '[', 'x '), pick('2026', '2026', '202'), seps, pick('12', '12', '1'), pick('07', '07', '7x'))
      .map(([pre, y, s2, m, d]) => `${pre}${y}${s2.slice(0, 1)}${m}${s2.slice(1)}${d}`)
      .chain((head) =>
        fc.tuple(fc.constant(head), pick('T', ' ', '  '), pick('01', '1'), pick(':', ':', '-'), pick('02', 'ab')),
      )
      .map((parts) => parts.join(''));
    let matched = 0;
    fc.assert(
      fc.property(line, (text) => {
        const a = full.exec(text);
        const b = fast.exec(text);
        if (a) matched++;
        expect(b?.index).toBe(a?.index);
        expect(b?.[0]).toBe(a?.[0]);
        expect(b?.[1]).toBe(a?.[1]);
        expect(b?.[2]).toBe(a?.[2]);
      }),
      { numRuns: 5000 },
    );
    expect(matched).toBeGreaterThan(10); // both outcomes were tried (about 1% of the lines match)
  });

  it('gives the ISO template (a backreference between its fields) a fast regex placed by test()', () => {
    const t = makeTemplate('{^LN-BEG}%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\\s*%z)?', 2026);
    expect(t.fast).not.toBeNull();
    expect(t.spanTest).toBe(1);
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { translatePyRegex } from '../../../src/sentryban/filters/regex/to-js.js';
import { numberGroups } from '../../../src/sentryban/filters/regex/numbered.js';
import { POSSESSIVE_GROUP } from '../../../src/sentryban/filters/regex/possessive.js';

// A translated regex, numbered as the matcher numbers it, and the numbers of its own groups (possessive ones out).
const compile = (py: string, possessive: boolean): { re: RegExp; own: number[]; source: string } => {
  const t = translatePyRegex(py, false, possessive);
  if (!t.ok) throw new Error(`${py}: ${t.error.message}`);
  const num = numberGroups(t.value.source);
  const poss = new Set([...num.index].filter(([n]) => POSSESSIVE_GROUP.test(n)).flatMap(([, ns]) => ns));
  const total = new RegExp(`${num.source}|`).exec('')?.length ?? 1;
  const own = Array.from({ length: total - 1 }, (_, i) => i + 1).filter((i) => !poss.has(i));
  return { re: new RegExp(num.source, t.value.flags), own, source: t.value.source };
};

const outcome = (c: { re: RegExp; own: number[] }, text: string): unknown => {
  const m = c.re.exec(text);
  return m && { index: m.index, groups: c.own.map((i) => m[i]) };
};

// Patterns from pieces that make runs meet what follows them in every way: the same class, a disjoint one, an
// optional item, a tail to the end of the line, alternations, repeats, lookaheads, anchors.
const ATOMS = ['a', 'b', ' ', '1', '\\d', '\\S', '\\s', '\\w', '[ab]', '[^a]', '[^\\n]', '.', '[1 ]'];
const atom = fc.constantFrom(...ATOMS);
const piece: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(atom, fc.constantFrom('*', '+', '?', '*?', '+?', '{2,}', '{0,2}')).map(([a, q]) => a + q),
    fc.tuple(tie('p'), tie('p')).map(([a, b]) => a + b),
    fc.tuple(tie('p'), tie('p')).map(([a, b]) => `(?:${a}|${b})`),
    tie('p').map((a) => `(${a})`),
    tie('p').map((a) => `(?:${a})*`),
    tie('p').map((a) => `(?:${a}){0,2}`),
    fc.constantFrom('(?:(?!a ).)*', '(?:(?! 1)[^\\n])*', '$', '\\Z', '(?=b)', '(?<=1)'),
  ),
})).p;
// Half end in a tail that scans to the end, the case the pass is for.
const TAILS = ['', '', '(?:(?!a ).)*$', '.*$', '[^1]*\\Z', '(?:(?! 1)[^\\n])*b?$', '\\S*(?: a)?$'];
const pattern = fc
  .tuple(fc.boolean(), fc.array(piece, { minLength: 1, maxLength: 4 }), fc.constantFrom(...TAILS))
  .map(([anchored, ps, tail]) => `${anchored ? '^' : ''}${ps.join('')}${tail}`);
const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '1', '2', '\n', 'é'), maxLength: 14 });

describe('possessive runs (regex/possessive.ts)', () => {
  it('never change a match: same position, same groups, with and without, on random patterns and lines', () => {
    let madePossessive = 0;
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 8 }), (py, texts) => {
        const plain = compile(py, false);
        const poss = compile(py, true);
        if (poss.source.includes('__poss')) madePossessive++;
        for (const t of texts) expect(outcome(poss, t)).toEqual(outcome(plain, t));
      }),
      { numRuns: 3000, seed: 20261207 },
    );
    // The property says something only if the pass fired often (and it is checked both ways in the cases below).
    expect(madePossessive).toBeGreaterThan(200);
  });

  it.each<[string, boolean]>([
    ['^a\\d+ b', false], // safe (the next item cannot start with a digit), but giving back fails at once: left
    ['^a\\d+\\d', false], // not safe: giving back a digit is how this matches "a12"
    ['^x\\S+(?: \\d+)?(?:(?! from ).)*$', true], // a tail to the end of the line absorbs what is given back
    ['^x\\S+(?:(?! from ).)*y', false], // ... unless what follows it may start with a character of the run
    ['^x(\\d+)(?:,\\d+)*(?:(?!,).)*$', true], // a repeat that cannot start with a digit, then a tail
    ['^x(\\d+)(?:\\d,)*.*$', false],
    ['^(?P<u>a)a\\d+(?:(?!-).)*$', true],
    ['^(?P<u>a)(?P=u)\\d+(?:(?!-).)*$', false], // the same with a backreference: left alone
    ['^x(?=\\d+)1', false], // at the end of a lookahead: left alone
  ])('%s: made possessive %s', (py, expected) => {
    expect(compile(py, true).source.includes('__poss')).toBe(expected);
  });

  it('makes the stock sshd tail linear: `port \\d+` before `(?:(?! from ).)*$` is possessive', () => {
    const py =
      '^Failed \\S+ for (?P<cond_inv>invalid user )?(?P<user>(?:(?! from ).)*?) from (?P<ip4>(?:\\d{1,3}\\.){3}' +
      '\\d{1,3})(?: (?:port \\d+|on \\S+)){0,2}(?: ssh\\d*)?(?:(?:(?! from ).)*)$';
    const poss = compile(py, true);
    expect(poss.source).toMatch(/port \(\?=\(\?<__poss\d+>\\d\+\)\)/);
    const line = `Failed password for invalid user x from 192.0.2.7 port ${'9'.repeat(3000)} from 198.51.100.9`;
    // Both say "no match" (the tail meets a second " from "); the plain one after some 3000^2/2 steps.
    expect(outcome(poss, line)).toBeNull();
    expect(outcome(compile(py, false), line)).toBeNull();
    expect(outcome(poss, 'Failed password for root from 192.0.2.7 port 22 ssh2')).toEqual(
      outcome(compile(py, false), 'Failed password for root from 192.0.2.7 port 22 ssh2'),
    );
  });
});

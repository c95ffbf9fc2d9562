import { describe, expect, it } from '@jest/globals';
import { translatePyRegex } from '../../../src/sentryban/filters/regex/to-js.js';

const js = (py: string, ml = false): RegExp => {
  const t = translatePyRegex(py, ml);
  if (!t.ok) throw new Error(t.error.message);
  return new RegExp(t.value.source, t.value.flags);
};

describe('Python -> JavaScript regex translation', () => {
  it.each<[string, string, boolean]>([
    ['(?P<u>\\w+)-(?P=u)', 'ab-ab', true],
    ['(?P<u>\\w+)-(?P=u)$', 'ab-ac', false],
    ['a$', 'a\n', true], // Python $ matches before a final newline
    ['a\\Z', 'a\n', false],
    ['^x{,2}y$', 'xxy', true],
    ['^x{,2}y$', 'x{,2}y', false],
    ['^[^]]+$', 'ab', true],
    ['^[]a]+$', ']a', true],
    ['^(?i:ab)c$', 'ABc', true],
    ['^(?i:ab)c$', 'ABC', false],
    ['^((?i)ab)c$', 'aBc', true],
    ['(?iu)^mon$', 'MON', true],
    ['^a.b$', 'a\nb', false],
    ['^a.b$', 'a\rb', true], // Python . matches \r, JS . does not
    ['^(?P<q>")?x(?(q)"|)$', '"x"', true],
    ['^(?P<q>")?x(?(q)"|)$', '"x', false],
    ['^(?P<q>")?x(?(q)"|)$', 'x', true],
    ['^(?P<q>")?x(?(q)"|!)$', 'x!', true],
  ])('%s on %j -> %s', (py, text, want) => {
    expect(js(py).test(text)).toBe(want);
  });

  it('MULTILINE (maxlines > 1) anchors at every line', () => {
    expect(js('^b$', true).test('a\nb\n')).toBe(true);
    expect(js('^b$').test('a\nb\n')).toBe(false);
  });

  it.each([
    ['(?>a)', 'atomic'],
    ['a*+', 'possessive'],
    ['(?x) a', 'verbose'],
    ['a(?i)b', 'global flags'],
    ['(?(1)a|b)(x)', 'numbered'],
    ['(a', 'missing )'],
    ['\\q', 'bad escape'],
  ])('refuses %s (%s) instead of changing its meaning', (py, why) => {
    const t = translatePyRegex(py);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.error.message.toLowerCase()).toContain(why.split(' ')[0]?.toLowerCase().slice(0, 5));
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { corpusLines } from '../../../bench/lib/corpus.js';
import { AltPick, mandatoryTexts } from '../../../src/sentryban/filters/alt-pick.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { itReal } from '../../helpers/real.js';

// A failregex's top-level alternatives that lack a text of theirs are turned off (alt-pick.ts): the copy run must
// give exactly the match (index, every group) the regex gives, on any text.
const view = (m: RegExpExecArray | null) => (m === null ? null : { index: m.index, groups: [...m] });
const picked = (p: AltPick, text: string) => {
  const re = p.pick(text);
  return re === null ? null : re.exec(text);
};

describe('mandatoryTexts', () => {
  it('reads the literal runs every match of each alternative has', () => {
    expect(mandatoryTexts('(?:^ab c(d)e)|(?:xy?z)')).toEqual([
      ['ab c', 'd', 'e'],
      ['x', 'z'],
    ]);
    // optional, repeated and alternating parts, classes, lookarounds and escapes are not mandatory
    expect(mandatoryTexts('ab*c|a(?:bc)?d|a(?:b|c)d|a[bc]d|a(?=bc)d|a(?<!x)d|a\\d+e|a\\.b')).toEqual([
      ['a', 'c'],
      ['a', 'd'],
      ['a', 'd'],
      ['a', 'd'],
      ['a', 'd'],
      ['a', 'd'],
      ['a', 'e'],
      ['a.b'],
    ]);
    // quantifiers in braces drop their atom; backreferences and coded characters are not texts
    expect(mandatoryTexts('ab{2}c|(x)\\1y|\\x41bc|(?<n>q)\\k<n>r|a{1,}b')).toEqual([
      ['a', 'c'],
      ['x'],
      [],
      ['q'],
      ['b'],
    ]);
    // a brace that is not a quantifier, an unbalanced group: not followed
    expect(mandatoryTexts('a{x}|b')).toBeNull();
    expect(mandatoryTexts('a)|b')).toBeNull();
  });
});

// Regexes of the shapes conditional expansion writes, and a few that stress the reader.
const REGEXES = [
  /(?:^F (?:(pk)|\S+) for (inv )((\S+)) from (\d+)(?: p \d+){0,2}: )|(?:^F (?:(pk)|\S+) for (inv )((?!)|(?:(?! from )[^\n])*?) from (\d+)(?:(?:(?! from )[^\n])*)(?=\n?$))|(?:^F (?:(pk)|\S+) for (?:(?!))?((\S+)) from (\d+)(?: p \d+){0,2}: )|(?:^F (?:(pk)|\S+) for (?:(?!))?((?!)|[^:]+) from (\d+)(?:(?:(?! from )[^\n])*)(?=\n?$))/,
  /xy?z|a(b)c|a(b)?d|(x)\3y|ab{2}z|q\.r|ab|a/,
  /(?:(a)b|c)d|ab(?=c)|b(?<=ab)c|(?:ac)+/,
];
const ALPHABET = ['F ', 'pk', ' for ', 'inv ', ' from ', ': ', ' p ', '1', '2', 'a', 'b', 'c', 'd', 'x', 'y', 'z'];
const ALPHA2 = ['.', 'q', 'r', ' ', ':', '\n'];

describe('AltPick', () => {
  it('finds the match the regex finds, on any text', () => {
    const picks = REGEXES.map((re) => AltPick.of(re) as AltPick);
    for (const p of picks) expect(p).not.toBeNull();
    const texts = fc
      .array(fc.constantFrom(...ALPHABET, ...ALPHA2), { maxLength: 14 })
      .map((parts) => `${parts.join('')}\n`);
    fc.assert(
      fc.property(texts, (text) => {
        REGEXES.forEach((re, k) => {
          expect({ k, text, m: view(picked(picks[k] as AltPick, text)) }).toEqual({ k, text, m: view(re.exec(text)) });
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('is not made for a regex it cannot tell alternatives apart in, or whose flags change literals', () => {
    expect(AltPick.of(/abc/)).toBeNull();
    expect(AltPick.of(/ab|ab/)).toBeNull();
    expect(AltPick.of(/ab|cd/i)).toBeNull();
    expect(AltPick.of(/a{x}|b/)).toBeNull();
  });

  itReal({ commands: ['fail2ban-regex'] })('gives the stock sshd filter the same matches on the varied corpus', () => {
    const f = loadFilter('/etc/fail2ban/filter.d/sshd.conf');
    if (!f.ok) throw new Error(JSON.stringify(f.errors));
    let n = 0;
    for (const r of f.value.failregex) {
      const p = AltPick.of(r.re);
      if (p === null) continue;
      n++;
      for (const line of [...corpusLines('sshd', 3000, 3, 'bsd'), ...corpusLines('sshd', 3000, 4, 'iso')]) {
        const text = `${line.slice(line.indexOf(': ') + 2)}\n`;
        expect(view(picked(p, text))).toEqual(view(r.re.exec(text)));
      }
    }
    expect(n).toBeGreaterThan(0);
  });
});

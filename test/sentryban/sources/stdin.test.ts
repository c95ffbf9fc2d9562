import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { readLines } from '../../../src/sentryban/sources/stdin.js';

describe('stdin source', () => {
  it('yields each line (CRLF too, last line without newline included) with the read time', async () => {
    const got: Array<[string, string, number | undefined]> = [];
    for await (const l of readLines(Readable.from(['a\r\nb', '\nc']), () => 42)) got.push([l.text, l.source, l.at]);
    expect(got).toEqual([
      ['a', 'stdin', 42],
      ['b', 'stdin', 42],
      ['c', 'stdin', 42],
    ]);
  });
});

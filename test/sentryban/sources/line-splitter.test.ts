import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LineSplitter } from '../../../src/sentryban/sources/file/line-splitter.js';

// The one line splitter, line by line (the file follower) and block by block (sentryban regex): the same lines,
// cut the same way, however the bytes are chunked.
const chunked = (bytes: Buffer, cuts: number[]): Buffer[] => {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
};
const byLine = (chunks: Buffer[], max: number): string[] => {
  const s = new LineSplitter(max);
  let offset = 0;
  const lines: string[] = [];
  for (const c of chunks) {
    lines.push(...s.push(c, offset).map((l) => l.bytes.toString('latin1')));
    offset += c.length;
  }
  return lines;
};
const byBlock = (chunks: Buffer[], max: number): string[] => {
  const s = new LineSplitter(max);
  const lines: string[] = [];
  for (const c of chunks) {
    // A reader reuses its buffer: the block must be read before the next chunk.
    const block = s.pushBlock(Buffer.from(c));
    if (block) lines.push(...block.toString('latin1').split('\n').slice(0, -1));
  }
  return lines;
};

describe('LineSplitter', () => {
  it('push and pushBlock give the same lines for any chunking and any line limit', () => {
    const text = fc.array(fc.constantFrom('a', 'b', '\n', '\r', 'é'), { maxLength: 200 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 1, max: 12 }), (t, cuts, max) => {
        const chunks = chunked(Buffer.from(t, 'latin1'), cuts);
        expect(byBlock(chunks, max)).toEqual(byLine(chunks, max));
        const whole = t.split('\n').slice(0, -1);
        expect(byBlock(chunks, Infinity)).toEqual(whole);
        expect(byLine(chunks, max)).toEqual(whole.map((l) => l.slice(0, max)));
      }),
      { numRuns: 500 },
    );
  });

  it('a block without a carried line is the chunk itself (no copy); the partial line waits', () => {
    const s = new LineSplitter(Infinity);
    const chunk = Buffer.from('one\ntwo\nthr');
    const block = s.pushBlock(chunk);
    expect(block?.buffer).toBe(chunk.buffer);
    expect(block?.toString()).toBe('one\ntwo\n');
    expect(s.pendingBytes).toBe(3);
    chunk.fill(0); // the reader reuses its buffer: the kept bytes are a copy
    expect(s.pushBlock(Buffer.from('ee\n'))?.toString()).toBe('three\n');
    expect(s.pushBlock(Buffer.from('no newline'))).toBeNull();
  });
});

import { describe, expect, it } from '@jest/globals';
import { compareIds, idBefore } from '../../../src/sentryban/fleet/stream-id.js';

describe('stream ids', () => {
  it('steps back one id, across a millisecond and at the largest sequence', () => {
    expect(idBefore('1796657963214-3')).toBe('1796657963214-2');
    expect(idBefore('1796657963214-0')).toBe('1796657963213-18446744073709551615');
    expect(idBefore('0-1')).toBe('0-0');
    expect(idBefore('5-18446744073709551615')).toBe('5-18446744073709551614');
    expect(idBefore('0-0')).toBeNull();
    for (const bad of ['', '12', '1-2-3', '-1-0', 'a-0', '1-0 ']) expect(idBefore(bad)).toBeNull();
  });

  it('compares as numbers, past 2^53 too', () => {
    expect(compareIds('9-0', '10-0')).toBe(-1);
    expect(compareIds('10-2', '10-10')).toBe(-1);
    expect(compareIds('10-18446744073709551615', '10-18446744073709551614')).toBe(1);
    expect(compareIds('7-7', '7-7')).toBe(0);
    for (const id of ['1796657963214-0', '1-5']) expect(compareIds(idBefore(id)!, id)).toBe(-1);
  });
});

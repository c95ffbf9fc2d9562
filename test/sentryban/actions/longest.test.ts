import { describe, expect, it } from '@jest/globals';
import { parseAddr } from '../../../src/core/addr.js';
import { LongestTimeouts } from '../../../src/sentryban/actions/longest.js';

const addr = (t: string) => parseAddr(t)!;

// Against a plain Map of the same decisions: the table must agree whatever the collisions.
describe('LongestTimeouts', () => {
  it('first sight and strictly longer timeouts pass; 0 (none) is the longest; IPv4 and IPv6 alike', () => {
    const l = new LongestTimeouts(8);
    expect(l.longer(addr('192.0.2.1'), 60)).toBe(true);
    expect(l.longer(addr('192.0.2.1'), 60)).toBe(false);
    expect(l.longer(addr('192.0.2.1'), 30)).toBe(false);
    expect(l.longer(addr('192.0.2.1'), 90)).toBe(true);
    expect(l.longer(addr('192.0.2.1'), 0)).toBe(true);
    expect(l.longer(addr('192.0.2.1'), 99999)).toBe(false);
    expect(l.longer(addr('0.0.0.0'), 5)).toBe(true);
    expect(l.longer(addr('0.0.0.0'), 5)).toBe(false);
    expect(l.longer(addr('::ffff:192.0.2.1'), 100)).toBe(false); // the same host as 192.0.2.1
    expect(l.longer(addr('2001:db8::1'), 10)).toBe(true);
    expect(l.longer(addr('2001:db8::1'), 10)).toBe(false);
    expect(l.longer(addr('2001:db8::1'), 0)).toBe(true);
  });

  it('a full table of colliding keys agrees with a Map', () => {
    const n = 5000;
    const l = new LongestTimeouts(n);
    const m = new Map<string, number>();
    let x = 12345;
    for (let i = 0; i < 4 * n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const a = addr(`198.51.${(x >>> 8) & 7}.${x & 255}`);
      const k = (x >>> 16) % 50;
      const prev = m.get(a.text);
      const want = prev === undefined || (prev !== 0 && (k === 0 || k > prev));
      if (want) m.set(a.text, k);
      expect(l.longer(a, k)).toBe(want);
    }
  });
});

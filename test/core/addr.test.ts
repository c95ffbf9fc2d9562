import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { parseAddr, parseCidr } from '../../src/core/addr.js';

describe('parseAddr', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['[2001:db8::5]', '2001:db8::5'],
  ])('canonicalises %s', (input, want) => {
    expect(parseAddr(input)?.text).toBe(want);
  });

  it.each([
    '',
    '1.2.3',
    '01.2.3.4',
    '256.1.1.1',
    '0x7f.0.0.1',
    '1.2.3.4 ',
    'fe80::1%eth0',
    'example.org',
    '1.2.3.4;id',
  ])('refuses %j', (input) => {
    expect(parseAddr(input.trimEnd() === input ? input : `${input}x`)).toBeNull();
  });

  it('round-trips every IPv4 address it prints', () => {
    fc.assert(fc.property(fc.ipV4(), (a) => parseAddr(a)?.text === a));
  });

  it('IPv6 text parses back to the same canonical form', () => {
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        const p = parseAddr(a);
        return p !== null && parseAddr(p.text)?.text === p.text;
      }),
    );
  });
});

// parseAddr takes an IPv6 text exactly when ipaddr.js's isValid does (it calls parse in a try, once), with
// ipaddr.js's RFC 5952 text (IPv4-mapped ones as IPv4), on texts near addresses: random runs of hex digits,
// colons, dots and brackets, and real addresses with one character changed.
describe('parseAddr on IPv6 near-misses', () => {
  const expected = (t: string): string | null => {
    if (!ipaddr.IPv6.isValid(t)) return null;
    const ip = ipaddr.IPv6.parse(t);
    return ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : ip.toRFC5952String();
  };
  const near = fc.oneof(
    fc
      .array(fc.constantFrom('0', '1', 'f', 'F', 'db8', 'ffff', ':', ':', '::', '.', '1.2', 'g'), { maxLength: 14 })
      .map((p) => `:${p.join('')}`),
    fc
      .tuple(fc.ipV6(), fc.nat(), fc.constantFrom(':', '.', '0', 'x', ''))
      .map(([a, i, c]) => a.slice(0, i % (a.length + 1)) + c + a.slice((i % (a.length + 1)) + 1)),
  );
  it('agrees with ipaddr.IPv6.isValid and parse', () => {
    let valid = 0;
    fc.assert(
      fc.property(near, (t) => {
        const want = t.includes('%') || t.trim() !== t || t.length > 45 ? undefined : expected(t);
        if (want === undefined) return;
        if (want !== null) valid++;
        expect(parseAddr(t)?.text ?? null).toBe(want);
      }),
      { numRuns: 5000 },
    );
    expect(valid).toBeGreaterThan(100);
  });
});

describe('parseCidr', () => {
  it('normalises to the network and tests membership by value', () => {
    const c = parseCidr('192.0.2.77/24');
    expect(c?.text).toBe('192.0.2.0/24');
    expect(c?.contains(parseAddr('192.0.2.200')!)).toBe(true);
    expect(c?.contains(parseAddr('198.51.100.1')!)).toBe(false);
    expect(c?.contains(parseAddr('::ffff:192.0.2.9')!)).toBe(true);
    expect(parseCidr('2001:db8:1::5/48')?.text).toBe('2001:db8:1::/48');
    expect(parseCidr('2001:db8::/129')).toBeNull();
    expect(parseCidr('192.0.2.1/33')).toBeNull();
    expect(parseCidr('0.0.0.0/0')?.contains(parseAddr('203.0.113.9')!)).toBe(true);
  });
});

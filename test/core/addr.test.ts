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

// The reading before the fast paths (plain hex IPv6 and strict dotted quads parsed by hand): everything through
// ipaddr.js. The fast paths must give the same answer for every text.
const throughIpaddr = (text: string): string | null => {
  const t = text.trim();
  if (t.length === 0 || t.length > 45 || t.includes('%')) return null;
  const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  const mapped = (ip: ipaddr.IPv6): string =>
    ip.isIPv4MappedAddress() ? `4 ${ip.toIPv4Address().toString()}` : `6 ${ip.toRFC5952String()}`;
  if (bare.includes(':')) return ipaddr.IPv6.isValid(bare) ? mapped(ipaddr.IPv6.parse(bare)) : null;
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare)) return null;
  const parts = bare.split('.');
  if (parts.some((p) => Number(p) > 255 || (p.length > 1 && p.startsWith('0')))) return null;
  return `4 ${new ipaddr.IPv4(parts.map(Number)).toString()}`;
};
const read = (text: string): string | null => {
  const a = parseAddr(text);
  return a === null ? null : `${a.family} ${a.text}`;
};
// Variants of an address's text as logs and configs write them: upper case, leading zeros, uncompressed.
const spellings = (a: string): string[] => {
  const ip = ipaddr.parse(a);
  if (ip.kind() === 'ipv4') return [a, ip.toString()];
  const v6 = ip as ipaddr.IPv6;
  return [
    a,
    a.toUpperCase(),
    v6.toNormalizedString(),
    v6.parts.map((p) => p.toString(16).padStart(4, '0')).join(':'),
    v6.toRFC5952String(),
    `[${a}]`,
  ];
};

describe('parseAddr fast paths', () => {
  it('read every address as ipaddr.js does, in every spelling', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), fc.ipV4(), fc.ipV4Extended()), (a) =>
        spellings(a).every((s) => read(s) === throughIpaddr(s)),
      ),
      { numRuns: 5000 },
    );
  });

  it('refuse or read near-misses as ipaddr.js does', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFgx:.:::%[] ');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 46 }), (cs) => {
        const s = cs.join('');
        return read(s) === throughIpaddr(s);
      }),
      { numRuns: 20000 },
    );
  });

  it.each([
    ['::', '6 ::'],
    ['::1', '6 ::1'],
    ['1::', '6 1::'],
    ['0:0:0:0:0:ffff:c000:201', '4 192.0.2.1'],
    ['2001:db8:0:0:1:0:0:1', '6 2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '6 2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '6 2001:db8:0:1:1:1:1:1'],
    ['10.0.0.1', '4 10.0.0.1'],
  ])('reads %s', (input, want) => {
    expect(read(input)).toBe(want);
    expect(throughIpaddr(input)).toBe(want);
  });

  it.each(['1:2:3:4:5:6:7', '1::2::3', ':1::2', '1::2:', '1:2:3:4:5:6:7:8::', '12345::1', '1.2.3.04', '1.2.3.256'])(
    'refuses %j (ipaddr.js too)',
    (input) => {
      expect(read(input)).toBeNull();
      expect(throughIpaddr(input)).toBeNull();
    },
  );

  it('makes the ipaddr.js object only when asked, the same as parsing through it', () => {
    const a = parseAddr('2001:DB8::0:5') as NonNullable<ReturnType<typeof parseAddr>>;
    expect(a.ip.toString()).toBe(ipaddr.parse('2001:db8::5').toString());
    expect(a.bytes).toEqual(ipaddr.parse('2001:db8::5').toByteArray());
    expect(parseAddr('192.0.2.9')?.bytes).toEqual([192, 0, 2, 9]);
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

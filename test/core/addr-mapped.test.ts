import { expect, it } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { Addr, parseAddr } from '../../src/core/addr.js';

// parseAddr's fast path for "::ffff:a.b.c.d" (what a dual-stack socket reports for IPv4 peers) must give what
// the general IPv6 path gives: the unwrapped IPv4 address.
it('an IPv4-mapped address parses to the same Addr as the IPv6 parser unwrapped', () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.constantFrom('::ffff:', '::FFFF:', '::Ffff:', '[::ffff:'), (q, prefix) => {
      const text = prefix.startsWith('[') ? `${prefix}${q}]` : `${prefix}${q}`;
      const fast = parseAddr(text);
      const slow = Addr.fromIp(ipaddr.IPv6.parse(`::ffff:${q}`));
      expect(fast?.family).toBe(4);
      expect(fast?.text).toBe(slow.text);
      expect(fast?.text).toBe(parseAddr(q)?.text);
      expect(fast?.bytes).toEqual(slow.bytes);
    }),
  );
});

it('mapped forms the IPv4 parser refuses get the general path: same answers as before', () => {
  for (const bad of ['::ffff:256.1.1.1', '::ffff:1.2.3', '::ffff:1.2.3.4%eth0']) expect(parseAddr(bad)).toBeNull();
  // ipaddr.js takes a leading zero in the embedded IPv4 part; the bare IPv4 parser does not.
  expect(parseAddr('::ffff:01.2.3.4')?.text).toBe(Addr.fromIp(ipaddr.IPv6.parse('::ffff:01.2.3.4')).text);
  expect(parseAddr('::ffff:c000:20d')?.text).toBe('192.0.2.13');
});

it('a dotted quad built from its octets equals what ipaddr.js parses', () => {
  fc.assert(
    fc.property(fc.ipV4(), (q) => {
      const a = parseAddr(q);
      const ref = ipaddr.IPv4.parse(q);
      expect(a?.text).toBe(ref.toString());
      expect(a?.bytes).toEqual(ref.toByteArray());
      expect(a?.family).toBe(4);
    }),
  );
});

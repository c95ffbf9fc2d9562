import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseIpv4, parseIpv6, parseIpv6Transport, TCP, UDP } from '../../../src/portsentry/sensors/packet.js';
import { ACK, FIN, ipv4, ipv6, PSH, SYN, tcpHeader, udpHeader, URG } from './build-packet.js';

describe('parseIpv4', () => {
  it('reads a plain SYN: source, destination, port, flags, no options', () => {
    const p = parseIpv4(ipv4(tcpHeader(31337, SYN)));
    expect(p).toEqual({
      kind: 'packet',
      family: 4,
      src: '192.0.2.2',
      dst: '192.0.2.1',
      ipOptions: false,
      l4: {
        proto: 'tcp',
        srcPort: 40000,
        dstPort: 31337,
        flags: { syn: true, fin: false, rst: false, psh: false, ack: false, urg: false },
      },
    });
  });

  it('skips IP options by IHL and says they were there', () => {
    const p = parseIpv4(ipv4(tcpHeader(1, FIN | URG | PSH), { options: [0x07, 0x07, 0x04, 0, 0, 0, 0] }));
    expect(p.kind === 'packet' && p.ipOptions).toBe(true);
    expect(p.kind === 'packet' && p.l4.dstPort).toBe(1);
    expect(p.kind === 'packet' && p.l4.proto === 'tcp' && p.l4.flags).toEqual({
      syn: false,
      fin: true,
      rst: false,
      psh: true,
      ack: false,
      urg: true,
    });
  });

  it('reads the longest header (IHL 15, 40 bytes of options)', () => {
    const p = parseIpv4(ipv4(udpHeader(161), { proto: UDP, options: new Array<number>(40).fill(1) }));
    expect(p).toMatchObject({ kind: 'packet', ipOptions: true, l4: { proto: 'udp', dstPort: 161 } });
  });

  it.each([0, 1, 4])('reports IHL %i as an illegal header with the possible source', (ihl) => {
    expect(parseIpv4(ipv4(tcpHeader(1, SYN), { ihl }))).toEqual({
      kind: 'illegal-header',
      proto: 'tcp',
      ihl,
      src: '192.0.2.2',
    });
    expect(parseIpv4(ipv4(udpHeader(1), { ihl, proto: UDP }))).toMatchObject({ kind: 'illegal-header', proto: 'udp' });
  });

  it('drops a header that claims more bytes than were received (IHL 15, 20 bytes present)', () => {
    expect(parseIpv4(ipv4([], { ihl: 15, totalLength: 60 }))).toEqual({ kind: 'drop', reason: 'short' });
  });

  it('drops a total length shorter than the header, and a transport header cut by the total length', () => {
    expect(parseIpv4(ipv4(tcpHeader(1, SYN), { totalLength: 12 }))).toEqual({ kind: 'drop', reason: 'bad-length' });
    expect(parseIpv4(ipv4(tcpHeader(1, SYN), { totalLength: 30 }))).toEqual({ kind: 'drop', reason: 'truncated-l4' });
  });

  it('believes the buffer when the total length claims more than was captured', () => {
    expect(parseIpv4(ipv4(tcpHeader(79, SYN), { totalLength: 1500 }))).toMatchObject({
      kind: 'packet',
      l4: { dstPort: 79 },
    });
  });

  it('reads a first fragment, drops later ones (no transport header there)', () => {
    expect(parseIpv4(ipv4(tcpHeader(1, SYN), { moreFragments: true }))).toMatchObject({ kind: 'packet' });
    expect(parseIpv4(ipv4(tcpHeader(1, SYN), { fragOffset: 3 }))).toEqual({ kind: 'drop', reason: 'fragment' });
  });

  it('drops other versions, other protocols, short buffers', () => {
    expect(parseIpv4(ipv4(tcpHeader(1, SYN), { version: 6 }))).toEqual({ kind: 'drop', reason: 'bad-version' });
    expect(parseIpv4(ipv4([8, 0, 0, 0, 0, 0, 0, 0], { proto: 1 }))).toEqual({ kind: 'drop', reason: 'other-proto' });
    expect(parseIpv4(Buffer.alloc(19))).toEqual({ kind: 'drop', reason: 'short' });
    expect(parseIpv4(ipv4(tcpHeader(1, SYN).slice(0, 13)))).toEqual({ kind: 'drop', reason: 'truncated-l4' });
    expect(parseIpv4(ipv4(udpHeader(1).slice(0, 7), { proto: UDP }))).toEqual({ kind: 'drop', reason: 'truncated-l4' });
  });

  it('never throws and always returns one of the three kinds, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const p = parseIpv4(bytes);
        expect(['packet', 'illegal-header', 'drop']).toContain(p.kind);
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws on mutated valid packets, and any packet it accepts has its ports in range', () => {
    const base = fc.record({
      port: fc.integer({ min: 0, max: 65535 }),
      flags: fc.integer({ min: 0, max: 255 }),
      opts: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
      udp: fc.boolean(),
      cut: fc.nat(80),
      at: fc.nat(80),
      val: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(base, (c) => {
        const b = ipv4(c.udp ? udpHeader(c.port) : tcpHeader(c.port, c.flags), {
          proto: c.udp ? UDP : TCP,
          options: c.opts,
        });
        if (c.at < b.length) b[c.at] = c.val;
        const p = parseIpv4(b.subarray(0, Math.max(0, b.length - c.cut)));
        if (p.kind === 'packet') {
          expect(p.l4.dstPort).toBeGreaterThanOrEqual(0);
          expect(p.l4.dstPort).toBeLessThan(65536);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips any well-formed TCP packet', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(10),
        (port, flags, words) => {
          const p = parseIpv4(ipv4(tcpHeader(port, flags), { options: new Array<number>(words * 4).fill(1) }));
          expect(p.kind === 'packet' && p.l4.dstPort).toBe(port);
          expect(p.kind === 'packet' && p.ipOptions).toBe(words > 0);
          expect(p.kind === 'packet' && p.l4.proto === 'tcp' && p.l4.flags.syn).toBe((flags & SYN) !== 0);
          expect(p.kind === 'packet' && p.l4.proto === 'tcp' && p.l4.flags.ack).toBe((flags & ACK) !== 0);
        },
      ),
    );
  });
});

describe('parseIpv6', () => {
  it('reads TCP straight after the fixed header', () => {
    expect(parseIpv6(ipv6(tcpHeader(22, SYN), TCP))).toMatchObject({
      kind: 'packet',
      family: 6,
      src: '2001:db8::2',
      dst: '2001:db8::1',
      ipOptions: false,
      l4: { proto: 'tcp', dstPort: 22 },
    });
  });

  it('walks hop-by-hop, routing, destination options and a first fragment', () => {
    const ext = [
      { type: 0, body: [0, 1, 4, 0, 0, 0, 0] },
      { type: 43, body: [0, 0, 0, 0, 0, 0, 0] },
      { type: 60, body: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
      { type: 44, body: [0, 0, 1, 0, 0, 0, 7] },
    ];
    expect(parseIpv6(ipv6(udpHeader(53), UDP, ext))).toMatchObject({
      kind: 'packet',
      ipOptions: true,
      l4: { proto: 'udp', dstPort: 53 },
    });
  });

  it('drops a later fragment, an unknown next header, ESP, a chain that runs past the packet', () => {
    expect(parseIpv6(ipv6(udpHeader(53), UDP, [{ type: 44, body: [0, 0, 0x08, 0, 0, 0, 7] }]))).toEqual({
      kind: 'drop',
      reason: 'fragment',
    });
    expect(parseIpv6(ipv6([1, 2, 3, 4, 5, 6, 7, 8], 58))).toEqual({ kind: 'drop', reason: 'other-proto' });
    expect(parseIpv6(ipv6([1, 2, 3, 4, 5, 6, 7, 8], 50))).toEqual({ kind: 'drop', reason: 'other-proto' });
    expect(parseIpv6(ipv6(tcpHeader(1, SYN), TCP, [{ type: 0, body: [200, 0, 0, 0, 0, 0, 0] }]))).toEqual({
      kind: 'drop',
      reason: 'short',
    });
    expect(parseIpv6(ipv6(tcpHeader(1, SYN), TCP, [], 10))).toEqual({ kind: 'drop', reason: 'truncated-l4' });
  });

  it('stops after 16 extension headers', () => {
    const ext = Array.from({ length: 20 }, () => ({ type: 60, body: [0, 0, 0, 0, 0, 0, 0] }));
    expect(parseIpv6(ipv6(tcpHeader(1, SYN), TCP, ext))).toEqual({ kind: 'drop', reason: 'ext-header-chain' });
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 255 }), (bytes, nh) => {
        const b = Buffer.from(bytes);
        if (b.length > 6) {
          b[0] = 0x60;
          b[6] = nh;
        }
        expect(['packet', 'drop']).toContain(parseIpv6(b).kind);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseIpv6Transport (raw AF_INET6 delivers the transport header only)', () => {
  it('takes the source from the socket and reads the header at offset 0', () => {
    expect(parseIpv6Transport(Buffer.from(tcpHeader(443, FIN)), TCP, '2001:db8::2')).toMatchObject({
      kind: 'packet',
      family: 6,
      src: '2001:db8::2',
      dst: null,
      l4: { proto: 'tcp', dstPort: 443 },
    });
    expect(parseIpv6Transport(Buffer.from(udpHeader(7)), UDP, '2001:db8::2')).toMatchObject({
      l4: { proto: 'udp', dstPort: 7 },
    });
    expect(parseIpv6Transport(Buffer.alloc(5), TCP, '2001:db8::2')).toEqual({ kind: 'drop', reason: 'truncated-l4' });
  });
});

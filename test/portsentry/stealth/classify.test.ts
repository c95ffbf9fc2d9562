import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { classifyTcp, isEstablishedTraffic } from '../../../src/portsentry/sensors/classify.js';
import { tcpScanType as describeTcpScan } from '../../../src/portsentry/lines.js';
import type { TcpFlags } from '../../../src/portsentry/event.js';

const flags = (s: string): TcpFlags => ({
  syn: s.includes('S'),
  fin: s.includes('F'),
  ack: s.includes('A'),
  psh: s.includes('P'),
  rst: s.includes('R'),
  urg: s.includes('U'),
});

describe('1.2 classification of TCP flags', () => {
  it.each([
    ['', ' TCP NULL scan'],
    ['FPU', 'TCP XMAS scan'],
    ['SFPU', 'TCP XMAS scan'],
    ['F', 'TCP FIN scan'],
    ['S', 'TCP SYN/Normal scan'],
    ['SF', 'Unknown Type: TCP Packet Flags: SYN: 1 FIN: 1 ACK: 0 PSH: 0 URG: 0 RST: 0'],
    ['U', 'Unknown Type: TCP Packet Flags: SYN: 0 FIN: 0 ACK: 0 PSH: 0 URG: 1 RST: 0'],
    ['FP', 'Unknown Type: TCP Packet Flags: SYN: 0 FIN: 1 ACK: 0 PSH: 1 URG: 0 RST: 0'],
    ['SP', 'Unknown Type: TCP Packet Flags: SYN: 1 FIN: 0 ACK: 0 PSH: 1 URG: 0 RST: 0'],
  ])('flags "%s" read as "%s"', (f, text) => {
    expect(describeTcpScan(flags(f))).toBe(text);
  });

  it('discards anything with ACK or RST, and only those', () => {
    expect(isEstablishedTraffic(flags('A'))).toBe(true);
    expect(isEstablishedTraffic(flags('SA'))).toBe(true);
    expect(isEstablishedTraffic(flags('R'))).toBe(true);
    expect(isEstablishedTraffic(flags('FPU'))).toBe(false);
    expect(isEstablishedTraffic(flags(''))).toBe(false);
  });

  it('gives exactly one kind for each of the 64 flag sets, and the text always names the kind', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), (n) => {
        const f: TcpFlags = {
          fin: !!(n & 1),
          syn: !!(n & 2),
          rst: !!(n & 4),
          psh: !!(n & 8),
          ack: !!(n & 16),
          urg: !!(n & 32),
        };
        const kind = classifyTcp(f);
        const text = describeTcpScan(f);
        const prefix = { null: ' TCP NULL', xmas: 'TCP XMAS', fin: 'TCP FIN', syn: 'TCP SYN', unknown: 'Unknown Type' }[
          kind
        ];
        expect(text.startsWith(prefix)).toBe(true);
        if (kind === 'unknown')
          expect(text).toMatch(
            /^Unknown Type: TCP Packet Flags: SYN: [01] FIN: [01] ACK: [01] PSH: [01] URG: [01] RST: [01]$/,
          );
      }),
    );
  });
});

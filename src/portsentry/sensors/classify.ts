import type { TcpFlags } from '../event.js';

// PortSentry 1.2's view of a TCP packet in -stcp/-atcp: ACK or RST means established traffic (discarded before
// anything else); the rest is sorted in this order on the six classic flags (ECE/CWR ignored).
export type TcpScanKind = 'null' | 'xmas' | 'fin' | 'syn' | 'unknown';

export const isEstablishedTraffic = (f: TcpFlags): boolean => f.ack || f.rst;

export const classifyTcp = (f: TcpFlags): TcpScanKind => {
  if (!f.syn && !f.fin && !f.ack && !f.psh && !f.rst && !f.urg) return 'null';
  if (f.fin && f.urg && f.psh) return 'xmas';
  if (f.fin && !f.syn && !f.ack && !f.psh && !f.rst && !f.urg) return 'fin';
  if (f.syn && !f.fin && !f.ack && !f.psh && !f.rst && !f.urg) return 'syn';
  return 'unknown';
};

const bit = (b: boolean): number => (b ? 1 : 0);

// The exact text 1.2 puts before " from host:", including the leading space of the NULL scan.
export const describeTcpScan = (f: TcpFlags): string => {
  switch (classifyTcp(f)) {
    case 'null': return ' TCP NULL scan';
    case 'xmas': return 'TCP XMAS scan';
    case 'fin': return 'TCP FIN scan';
    case 'syn': return 'TCP SYN/Normal scan';
    default:
      return `Unknown Type: TCP Packet Flags: SYN: ${bit(f.syn)} FIN: ${bit(f.fin)} ACK: ${bit(f.ack)} ` +
        `PSH: ${bit(f.psh)} URG: ${bit(f.urg)} RST: ${bit(f.rst)}`;
  }
};

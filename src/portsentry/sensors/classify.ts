import type { TcpFlags } from '../event.js';

// The message text for each kind is lines.ts's tcpScanType; this is the decision alone.
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

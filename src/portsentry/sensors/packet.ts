import ipaddr from 'ipaddr.js';
import type { TcpFlags } from '../event.js';

// What one raw packet says, read without trusting any of its length fields. Never throws.
export type L4Header =
  | { proto: 'tcp'; srcPort: number; dstPort: number; flags: TcpFlags }
  | { proto: 'udp'; srcPort: number; dstPort: number };

export type DropReason =
  'short' | 'bad-version' | 'bad-length' | 'fragment' | 'other-proto' | 'truncated-l4' | 'ext-header-chain';

export type ParsedPacket =
  | { kind: 'packet'; family: 4 | 6; src: string; dst: string | null; ipOptions: boolean; l4: L4Header }
  // 1.2 logs these (IHL < 5 or > 15) and drops the packet; the source is "possible" only.
  | { kind: 'illegal-header'; proto: 'tcp' | 'udp'; ihl: number; src: string }
  | { kind: 'drop'; reason: DropReason };

export const TCP = 6;
export const UDP = 17;
const TCP_MIN = 20;
const UDP_MIN = 8;

const drop = (reason: DropReason): ParsedPacket => ({ kind: 'drop', reason });

const dotted = (b: Uint8Array, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

// TCP or UDP header at [offset, end). Null when the header does not fit.
export const parseL4 = (b: Uint8Array, proto: number, offset: number, end: number): L4Header | null => {
  const len = end - offset;
  if (offset < 0 || end > b.length) return null;
  const srcPort = ((b[offset] ?? 0) << 8) | (b[offset + 1] ?? 0);
  const dstPort = ((b[offset + 2] ?? 0) << 8) | (b[offset + 3] ?? 0);
  if (proto === TCP) {
    if (len < TCP_MIN) return null;
    const f = b[offset + 13] ?? 0;
    const flags: TcpFlags = {
      fin: (f & 0x01) !== 0,
      syn: (f & 0x02) !== 0,
      rst: (f & 0x04) !== 0,
      psh: (f & 0x08) !== 0,
      ack: (f & 0x10) !== 0,
      urg: (f & 0x20) !== 0,
    };
    return { proto: 'tcp', srcPort, dstPort, flags };
  }
  if (proto === UDP) return len < UDP_MIN ? null : { proto: 'udp', srcPort, dstPort };
  return null;
};

// A whole IPv4 packet (what a raw AF_INET socket delivers). Options are skipped by IHL; the total length is
// believed only when it is consistent with the bytes received.
export const parseIpv4 = (b: Uint8Array): ParsedPacket => {
  if (b.length < 20) return drop('short');
  const version = (b[0] ?? 0) >> 4;
  if (version !== 4) return drop('bad-version');
  const ihl = (b[0] ?? 0) & 0x0f;
  const proto = b[9] ?? 0;
  if (proto !== TCP && proto !== UDP) return drop('other-proto');
  const src = dotted(b, 12);
  if (ihl < 5 || ihl > 15) return { kind: 'illegal-header', proto: proto === TCP ? 'tcp' : 'udp', ihl, src };
  const hdr = ihl * 4;
  const total = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
  if (total < hdr) return drop('bad-length');
  if (hdr > b.length) return drop('short');
  // A capture may be cut short (the end is then the buffer) but never extends past the stated length.
  const end = Math.min(total, b.length);
  const fragOffset = (((b[6] ?? 0) & 0x1f) << 8) | (b[7] ?? 0);
  if (fragOffset !== 0) return drop('fragment');
  const l4 = parseL4(b, proto, hdr, end);
  if (!l4) return drop('truncated-l4');
  return { kind: 'packet', family: 4, src, dst: dotted(b, 16), ipOptions: ihl > 5, l4 };
};

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const DEST_OPTS = 60;
const AH = 51;
const MAX_EXT_HEADERS = 16;

const v6Text = (b: Uint8Array, at: number): string =>
  ipaddr.fromByteArray(Array.from(b.subarray(at, at + 16))).toString();

// A whole IPv6 packet with extension headers (for capture paths that deliver the IPv6 header). Walks at most
// MAX_EXT_HEADERS headers; a non-first fragment carries no transport header and is dropped.
export const parseIpv6 = (b: Uint8Array): ParsedPacket => {
  if (b.length < 40) return drop('short');
  if ((b[0] ?? 0) >> 4 !== 6) return drop('bad-version');
  const payload = ((b[4] ?? 0) << 8) | (b[5] ?? 0);
  const end = Math.min(40 + payload, b.length);
  let next = b[6] ?? 0;
  let at = 40;
  let ipOptions = false;
  for (let i = 0; i < MAX_EXT_HEADERS; i++) {
    if (next === TCP || next === UDP) {
      const l4 = parseL4(b, next, at, end);
      if (!l4) return drop('truncated-l4');
      return { kind: 'packet', family: 6, src: v6Text(b, 8), dst: v6Text(b, 24), ipOptions, l4 };
    }
    if (at + 8 > end) return drop('short');
    const nh = b[at] ?? 0;
    const lenByte = b[at + 1] ?? 0;
    if (next === HOP_BY_HOP || next === DEST_OPTS) {
      ipOptions = true;
      at += (lenByte + 1) * 8;
    } else if (next === ROUTING) at += (lenByte + 1) * 8;
    else if (next === FRAGMENT) {
      const off = (((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >> 3;
      if (off !== 0) return drop('fragment');
      at += 8;
    } else if (next === AH) at += (lenByte + 2) * 4;
    else return drop('other-proto');
    if (at > end) return drop('short');
    next = nh;
  }
  return drop('ext-header-chain');
};

// What a raw AF_INET6 socket delivers: the transport header only; the source comes from the socket call.
export const parseIpv6Transport = (b: Uint8Array, proto: number, src: string): ParsedPacket => {
  const l4 = parseL4(b, proto, 0, b.length);
  if (!l4) return drop(proto === TCP || proto === UDP ? 'truncated-l4' : 'other-proto');
  return { kind: 'packet', family: 6, src, dst: null, ipOptions: false, l4 };
};

import { readFileSync } from 'node:fs';
import { parseAddr, type Addr } from '../core/addr.js';

// The host's default gateways (IPv4 and IPv6), which are never blocked: a forged probe "from" the gateway must not
// cut the host off its network. Read from the kernel's routing tables of this network namespace.
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;

// /proc/net/route: "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", addresses as host-order hex
// (little-endian on the machines we run on: 0102A8C0 is 192.168.2.1). A default route: destination and mask 0.
export const parseRouteV4 = (text: string): Addr[] => {
  const out: Addr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [dest, gw, flags, mask] = [f[1], f[2], Number.parseInt(f[3] ?? '', 16), f[7]];
    if (dest !== '00000000' || mask !== '00000000' || !(flags & RTF_UP) || !(flags & RTF_GATEWAY)) continue;
    const n = Number.parseInt(gw ?? '', 16);
    if (!Number.isFinite(n) || n === 0) continue;
    const a = parseAddr([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.'));
    if (a && !out.some((x) => x.equals(a))) out.push(a);
  }
  return out;
};

// /proc/net/ipv6_route: "dest plen src splen nexthop metric refcnt use flags iface", addresses as 32 hex digits.
export const parseRouteV6 = (text: string): Addr[] => {
  const out: Addr[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, plen, hop, flags] = [f[0], f[1], f[4] ?? '', Number.parseInt(f[8] ?? '', 16)];
    if (!/^0{32}$/.test(dest ?? '') || plen !== '00' || !(flags & RTF_UP) || /^0{32}$/.test(hop)) continue;
    if (!/^[0-9a-f]{32}$/i.test(hop)) continue;
    const a = parseAddr(hop.match(/.{4}/g)?.join(':') ?? '');
    if (a && !out.some((x) => x.equals(a))) out.push(a);
  }
  return out;
};

const readOr = (file: string): string => {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return '';
  }
};

export const defaultGateways = (): Addr[] => [
  ...parseRouteV4(readOr('/proc/net/route')),
  ...parseRouteV6(readOr('/proc/net/ipv6_route')),
];

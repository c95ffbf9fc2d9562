// Hand-built packets for the parser tests (checksums are not looked at by the parser, so they stay zero).
export type V4 = {
  src?: number[];
  dst?: number[];
  proto?: number;
  ihl?: number;
  options?: number[];
  totalLength?: number;
  fragOffset?: number;
  moreFragments?: boolean;
  version?: number;
};

export const tcpHeader = (dstPort: number, flags: number, srcPort = 40000): number[] => [
  srcPort >> 8,
  srcPort & 0xff,
  dstPort >> 8,
  dstPort & 0xff,
  0,
  0,
  0,
  1,
  0,
  0,
  0,
  0,
  0x50,
  flags,
  0x04,
  0,
  0,
  0,
  0,
  0,
];

export const udpHeader = (dstPort: number, srcPort = 40000, payload = 0): number[] => [
  srcPort >> 8,
  srcPort & 0xff,
  dstPort >> 8,
  dstPort & 0xff,
  0,
  8 + payload,
  0,
  0,
  ...new Array<number>(payload).fill(0x41),
];

export const ipv4 = (l4: number[], o: V4 = {}): Buffer => {
  const options = o.options ?? [];
  const ihl = o.ihl ?? 5 + Math.ceil(options.length / 4);
  const optBytes = [...options, ...new Array<number>((4 - (options.length % 4)) % 4).fill(0)];
  const hdrLen = 20 + optBytes.length;
  const total = o.totalLength ?? hdrLen + l4.length;
  const frag = ((o.moreFragments ? 0x2000 : 0) | (o.fragOffset ?? 0)) & 0xffff;
  const hdr = [
    ((o.version ?? 4) << 4) | (ihl & 0x0f),
    0,
    total >> 8,
    total & 0xff,
    0x12,
    0x34,
    frag >> 8,
    frag & 0xff,
    64,
    o.proto ?? 6,
    0,
    0,
    ...(o.src ?? [192, 0, 2, 2]),
    ...(o.dst ?? [192, 0, 2, 1]),
    ...optBytes,
  ];
  return Buffer.from([...hdr, ...l4]);
};

// IPv6 with a chain of extension headers given as [type, bytes] (bytes include next-header and length).
export const ipv6 = (
  l4: number[],
  proto: number,
  ext: { type: number; body: number[] }[] = [],
  payloadLength?: number,
): Buffer => {
  const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2];
  const dst = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1];
  const chain: number[] = [];
  ext.forEach((e, i) => {
    chain.push(ext[i + 1]?.type ?? proto, ...e.body);
  });
  const first = ext[0]?.type ?? proto;
  const plen = payloadLength ?? chain.length + l4.length;
  return Buffer.from([0x60, 0, 0, 0, plen >> 8, plen & 0xff, first, 64, ...src, ...dst, ...chain, ...l4]);
};

export const FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  ACK = 0x10,
  URG = 0x20,
  ECE = 0x40,
  CWR = 0x80;

import raw, { type Socket } from 'raw-socket';
import type { Clock } from '../../core/clock.js';
import { parseAddr } from '../../core/addr.js';
import type { DetectionMode, ProbeEvent } from '../event.js';
import { isEstablishedTraffic } from './classify.js';
import { parseIpv4, parseIpv6Transport, TCP, UDP, type ParsedPacket } from './packet.js';

// The raw-packet sensor of -stcp/-sudp/-atcp/-audp: one raw socket per address family, each packet parsed,
// filtered and turned into a ProbeEvent. It knows nothing of config, ignore lists or responses.
export type RawMode = Extract<DetectionMode, 'stcp' | 'sudp' | 'atcp' | 'audp'>;

// Lines 1.2 logs from the sensor itself, outside the event pipeline.
export type SensorNotice = { kind: 'illegal-header'; proto: 'tcp' | 'udp'; ihl: number; src: string };

export type RawSensorOptions = {
  mode: RawMode;
  families: readonly (4 | 6)[];
  clock: Clock;
  isHot(port: number): boolean;
  // IPv4 destination check (raw IPv6 sockets do not give the destination; the kernel delivered it to us).
  isLocal(dst: string): boolean;
  // A hot probe that passed the filters; smart-verify sits behind this.
  onProbe(ev: ProbeEvent, family: 4 | 6): void;
  onNotice(n: SensorNotice): void;
  // 1.2's "TCPPACKETLEN" is 80: enough for a 60-byte IPv4 header and the TCP header.
  recvBytes?: number;
  rcvbufBytes?: number;
};

export type RawSensorStats = {
  received: number;
  dropped: number;
  notLocal: number;
  established: number;
  cold: number;
  probes: number;
};

export type RawSensor = { stats: RawSensorStats; close(): void };
export type OpenedRawSensor = RawSensor & { families: (4 | 6)[]; rcvbufBytes: number[] };

// 4 MiB, through SO_RCVBUFFORCE so that root gets it even where net.core.rmem_max is lower (Linux's default is
// 208 KiB), else SO_RCVBUF. Measured (docs/portsentry-stealth.md): the default buffer lost half of a 1000-port
// SYN burst, 4 MiB none; 16 MiB lost no packet at --flood rates, but under an -atcp flood the daemon then read 4x
// more packets (queued before their source's DROP rule) and one run missed the last 5 of 40 scanners.
const RCVBUF = 4 * 1024 * 1024;
const SO_RCVBUFFORCE = 33; // Linux; raw-socket passes any option number to setsockopt

// Sets the receive buffer and returns what the kernel granted (it doubles the request for its bookkeeping).
const setRcvbuf = (sock: Socket, bytes: number | undefined): number => {
  const level = raw.SocketLevel.SOL_SOCKET;
  if (bytes !== undefined) sock.setOption(level, raw.SocketOption.SO_RCVBUF, bytes);
  else
    try {
      sock.setOption(level, SO_RCVBUFFORCE, RCVBUF);
    } catch {
      sock.setOption(level, raw.SocketOption.SO_RCVBUF, RCVBUF);
    }
  const out = Buffer.alloc(4);
  try {
    sock.getOption(level, raw.SocketOption.SO_RCVBUF, out, 4);
  } catch {
    return 0;
  }
  return out.readInt32LE(0);
};

export const protoOf = (mode: RawMode): 'tcp' | 'udp' => (mode === 'stcp' || mode === 'atcp' ? 'tcp' : 'udp');

// Turn one parsed packet into a probe, or count why not. Pure apart from the stats it bumps.
export const judgePacket = (p: ParsedPacket, o: RawSensorOptions, stats: RawSensorStats): ProbeEvent | null => {
  if (p.kind === 'drop') {
    stats.dropped++;
    return null;
  }
  if (p.kind === 'illegal-header') {
    o.onNotice({ kind: 'illegal-header', proto: p.proto, ihl: p.ihl, src: p.src });
    return null;
  }
  if (p.dst !== null && !o.isLocal(p.dst)) {
    stats.notLocal++;
    return null;
  }
  const l4 = p.l4;
  if (l4.proto === 'tcp' && isEstablishedTraffic(l4.flags)) {
    stats.established++;
    return null;
  }
  if (!o.isHot(l4.dstPort)) {
    stats.cold++;
    return null;
  }
  const src = parseAddr(p.src);
  if (!src) {
    stats.dropped++;
    return null;
  }
  stats.probes++;
  const ev: ProbeEvent = {
    proto: l4.proto,
    mode: o.mode,
    src,
    dstPort: l4.dstPort,
    ipOptions: p.ipOptions,
    at: o.clock.now(),
  };
  if (l4.proto === 'tcp') ev.flags = l4.flags;
  return ev;
};

const openFamily = (o: RawSensorOptions, stats: RawSensorStats, family: 4 | 6): { sock: Socket; rcvbuf: number } => {
  const proto = protoOf(o.mode) === 'tcp' ? TCP : UDP;
  const sock = raw.createSocket({
    protocol: proto,
    addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
    bufferSize: o.recvBytes ?? 128,
  });
  const rcvbuf = setRcvbuf(sock, o.rcvbufBytes);
  sock.on('message', (buf: Buffer, source: string) => {
    stats.received++;
    // The buffer is the socket's own and is reused: everything is read from it before returning.
    const p = family === 4 ? parseIpv4(buf) : parseIpv6Transport(buf, proto, source);
    const ev = judgePacket(p, o, stats);
    if (ev) o.onProbe(ev, family);
  });
  sock.on('error', () => {
    stats.dropped++;
  });
  return { sock, rcvbuf };
};

// Opens IPv4 (required: throws when it cannot) and IPv6 (skipped when the host has none), as asked.
export const openRawSensor = (o: RawSensorOptions): OpenedRawSensor => {
  const stats: RawSensorStats = { received: 0, dropped: 0, notLocal: 0, established: 0, cold: 0, probes: 0 };
  const sockets: Socket[] = [];
  const families: (4 | 6)[] = [];
  const rcvbufBytes: number[] = [];
  for (const family of o.families) {
    try {
      const { sock, rcvbuf } = openFamily(o, stats, family);
      sockets.push(sock);
      families.push(family);
      rcvbufBytes.push(rcvbuf);
    } catch (e) {
      if (family === 4) {
        for (const s of sockets) s.close();
        throw e;
      }
    }
  }
  return {
    stats,
    families,
    rcvbufBytes,
    close: () => {
      for (const s of sockets) s.close();
    },
  };
};

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseIpv4 } from '../../src/portsentry/sensors/packet.js';

// One capture library in one process (raw-socket and a libpcap binding must never share a process: machine
// notes), run inside the victim namespace by bench/stealth-capture.ts. Every packet is parsed with the sensor's
// own parseIpv4, so the per-packet work is the sensor's. Prints "ready", counts until SIGINT, then prints one JSON
// line: packets parsed as TCP, kernel-side drops where the library can tell, CPU, event-loop delay, RSS.
// argv: <raw-socket|raw-socket-16m|cap|pcap> <device> <node_modules dir holding cap/pcap (unused for raw-socket)>
const [kind, device, altDir] = process.argv.slice(2) as [string, string, string];
const require = createRequire(import.meta.url);
let tcp = 0;
const count = (b: Uint8Array): void => {
  const p = parseIpv4(b);
  if (p.kind === 'packet' && p.l4.proto === 'tcp') tcp++;
};

type Capture = { drops(): number; close(): void };
// The few calls made here of each library, loaded by path at run time (cap and pcap are not dependencies).
type Emitter<E extends string, A extends unknown[]> = { on(event: E, fn: (...args: A) => void): void; close(): void };
type RawSocketLib = {
  AddressFamily: { IPv4: number };
  SocketLevel: { SOL_SOCKET: number };
  SocketOption: { SO_RCVBUF: number };
  createSocket(o: {
    protocol: number;
    addressFamily: number;
    bufferSize: number;
  }): Emitter<'message', [Buffer]> & { setOption(level: number, option: number, value: number): void };
};
type CapLib = {
  Cap: new () => Emitter<'packet', [number]> & { open(d: string, f: string, n: number, b: Buffer): void };
};
type PcapLib = {
  createSession(
    device: string,
    o: Record<string, unknown>,
  ): Emitter<'packet', [{ buf: Buffer; header: Buffer }]> & { stats(): { ps_drop?: number } };
};

// raw-socket as the sensor opens it (SO_RCVBUF 4 MiB, rmem_max here), or with 16 MiB through SO_RCVBUFFORCE (33 on
// Linux; root may exceed rmem_max).
const SO_RCVBUFFORCE = 33;
const openRawSocket = (force: boolean): Capture => {
  const raw = require('raw-socket') as RawSocketLib;
  const s = raw.createSocket({ protocol: 6, addressFamily: raw.AddressFamily.IPv4, bufferSize: 128 });
  if (force) s.setOption(raw.SocketLevel.SOL_SOCKET, SO_RCVBUFFORCE, 16 * 1024 * 1024);
  else s.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 4 * 1024 * 1024);
  s.on('message', (buf: Buffer) => count(buf));
  const drops = (): number =>
    readFileSync('/proc/net/raw', 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1) ?? 0), 0);
  return { drops, close: () => s.close() };
};

// Ethernet header (14 bytes) in front of the IP packet for both bindings; snap length 128 like the raw socket.
const openCap = (): Capture => {
  const { Cap } = require(join(altDir, 'cap')) as CapLib;
  const c = new Cap();
  const buf = Buffer.alloc(128);
  c.open(device, 'tcp', 4 * 1024 * 1024, buf);
  c.on('packet', (nbytes: number) => count(buf.subarray(14, Math.min(nbytes, buf.length))));
  return { drops: () => NaN, close: () => c.close() };
};

const openPcap = (): Capture => {
  const pcap = require(join(altDir, 'pcap')) as PcapLib;
  const s = pcap.createSession(device, {
    filter: 'tcp',
    buffer_size: 4 * 1024 * 1024,
    snap_length: 128,
    buffer_timeout: 0,
  });
  s.on('packet', (p: { buf: Buffer; header: Buffer }) =>
    count(p.buf.subarray(14, Math.min(p.header.readUInt32LE(8), p.buf.length))),
  );
  return { drops: () => Number(s.stats().ps_drop ?? NaN), close: () => s.close() };
};

const cap = kind.startsWith('raw-socket')
  ? openRawSocket(kind === 'raw-socket-16m')
  : kind === 'cap'
    ? openCap()
    : openPcap();
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const cpu0 = process.cpuUsage();
const drops0 = cap.drops();
const t0 = performance.now();
process.stdout.write('ready\n');
process.once('SIGINT', () => {
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const out = {
    kind,
    tcp,
    drops: cap.drops() - drops0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - t0,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
    rssMiB: process.memoryUsage().rss / 1048576,
  };
  cap.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
  setTimeout(() => process.exit(0), 50);
});

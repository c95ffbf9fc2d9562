import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '../test/helpers/netns.js';
import { median } from './stealth/lab.js';

// Capture choice for the raw modes: raw-socket (our dependency) against the two libpcap bindings on npm (`cap`,
// `pcap`; libpcap on Linux reads an AF_PACKET TPACKET_V3 ring), each alone in its own process inside the victim
// namespace (stealth/capture-receiver.ts), at rising SYN rates from spoofed documentation sources. Per rate:
// packets that reached the interface per second, the share the library handed to JavaScript and parsed, CPU per
// packet and the worst event-loop delay. The bindings are not project dependencies: build them in a scratch
// directory and point STEALTH_CAPTURE_ALT at its node_modules (docs/portsentry-stealth.md says how); without it
// only raw-socket is measured.
const here = dirname(fileURLToPath(import.meta.url));
const RECEIVER = join(here, 'stealth', 'capture-receiver.js');
const ALT = process.env.STEALTH_CAPTURE_ALT ?? '';
const RUNS = Number(process.env.STEALTH_CAPTURE_RUNS ?? 3);
const SOURCES = 4;
const SLICE_S = 0.75;
// hping3's -i uN is coarse (u10 came out slower than u20 here); `2x flood` is two hping3 --flood at once.
const RATES: { name: string; args: string[]; parallel?: number }[] = [
  { name: 'u1000', args: ['-i', 'u1000'] },
  { name: 'u100', args: ['-i', 'u100'] },
  { name: 'u20', args: ['-i', 'u20'] },
  { name: 'flood', args: ['--flood'] },
  { name: '2x flood', args: ['--flood'], parallel: 2 },
];
const source = (i: number): string => (i % 2 === 0 ? `198.51.100.${20 + i}` : `203.0.113.${20 + i}`);
// One flooder: SOURCES spoofed sources in turn, SLICE_S each, bounded by timeout.
const flood = async (lab: Lab, rate: (typeof RATES)[number], first: number): Promise<void> => {
  for (let i = first; i < first + SOURCES; i++) {
    await lab.run(
      lab.attacker,
      [
        'timeout',
        '-s',
        'INT',
        String(SLICE_S),
        'hping3',
        '-q',
        '-S',
        '-p',
        '++1',
        ...rate.args,
        '-a',
        source(i),
        lab.victimV4,
      ],
      { reject: false, timeout: 20000 },
    );
  }
};

type Out = {
  tcp: number;
  drops: number;
  cpuMs: number;
  wallMs: number;
  loopP99Ms: number;
  loopMaxMs: number;
  rssMiB: number;
};
type Sample = Out & { offeredPps: number; arrived: number };

const rxPackets = async (lab: Lab): Promise<number> => {
  const dev = String((await lab.run(lab.victim, ['cat', '/proc/net/dev'])).stdout);
  const line = dev.split('\n').find((l) => l.includes(`stv${lab.id}:`)) ?? '';
  return Number(line.split(':')[1]?.trim().split(/\s+/)[1] ?? 0);
};

const once = async (lab: Lab, kind: string, rate: (typeof RATES)[number]): Promise<Sample> => {
  const rx = lab.run(lab.victim, ['node', RECEIVER, kind, `stv${lab.id}`, ALT], { timeout: 60000, buffer: true });
  try {
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`${kind}: receiver not ready`)), 15000);
      rx.stdout?.on('data', (d: Buffer) => {
        if (String(d).includes('ready')) {
          clearTimeout(t);
          ok();
        }
      });
      rx.catch((e: unknown) => {
        clearTimeout(t);
        fail(e instanceof Error ? e : new Error(String(e)));
      });
    });
    const rx0 = await rxPackets(lab);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: rate.parallel ?? 1 }, (_, j) => flood(lab, rate, j * SOURCES)));
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 400));
    const arrived = (await rxPackets(lab)) - rx0;
    rx.kill('SIGINT');
    const r = await rx;
    const out = JSON.parse(
      String(r.stdout)
        .split('\n')
        .find((l) => l.startsWith('{')) ?? 'null',
    ) as Out;
    return { ...out, arrived, offeredPps: arrived / seconds };
  } finally {
    rx.kill('SIGKILL');
    await rx.catch(() => {});
  }
};

const med = (xs: Sample[], f: (s: Sample) => number): number => median(xs.map(f));

export async function main(_args: string[]): Promise<void> {
  // STEALTH_CAPTURE_KINDS and STEALTH_CAPTURE_RATES (comma lists) narrow a run.
  const alt = ALT !== '' && existsSync(join(ALT, 'cap')) && existsSync(join(ALT, 'pcap'));
  if (!alt) console.log('stealth-capture: STEALTH_CAPTURE_ALT not set (or no cap/pcap there): raw-socket only');
  const kinds = (process.env.STEALTH_CAPTURE_KINDS ?? 'raw-socket,raw-socket-16m,cap,pcap')
    .split(',')
    .filter((k) => k.startsWith('raw-socket') || alt);
  const rates = RATES.filter((r) => (process.env.STEALTH_CAPTURE_RATES ?? r.name).split(',').includes(r.name));
  const lab = await createLab();
  try {
    for (const rate of rates) {
      const by = new Map<string, Sample[]>(kinds.map((k) => [k, []]));
      // Interleaved so that the other helpers' load falls on every library alike.
      for (let i = 0; i < RUNS; i++) for (const k of kinds) by.get(k)?.push(await once(lab, k, rate));
      for (const [k, xs] of by) {
        console.log(
          `stealth-capture ${rate.name} ${k}: ${Math.round(med(xs, (s) => s.offeredPps))} pkt/s arrived, ` +
            `${(100 * med(xs, (s) => Math.min(1, s.tcp / Math.max(1, s.arrived)))).toFixed(1)}% parsed ` +
            `(kernel drops ${Number.isFinite(med(xs, (s) => s.drops)) ? med(xs, (s) => s.drops) : 'n/a'}), ${med(xs, (s) => (1000 * s.cpuMs) / Math.max(1, s.tcp)).toFixed(2)} µs CPU/packet, ` +
            `CPU ${med(xs, (s) => (100 * s.cpuMs) / s.wallMs).toFixed(0)}%, event-loop delay p99 ${med(xs, (s) => s.loopP99Ms).toFixed(1)} ms ` +
            `max ${med(xs, (s) => s.loopMaxMs).toFixed(1)} ms, RSS ${med(xs, (s) => s.rssMiB).toFixed(0)} MiB (median of ${xs.length}; 2 shared cores)`,
        );
      }
    }
  } finally {
    await lab.destroy();
  }
}

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../test/helpers/netns.js';
import { median, withDaemon, type Side } from './stealth/lab.js';

// A bounded SYN flood inside the lab only: S spoofed sources taken in turn from 198.51.100.0/24 and
// 203.0.113.0/24 (never --rand-source), each flooding for WINDOW_S/S seconds with `hping3 -S -p ++1 -a <src>`
// at a given interval, KILL_ROUTE an iptables DROP. At each rate, repeated RUNS times (fresh lab and daemon each
// time) and the medians printed: packets per second that arrived on the victim's interface, packets per second
// the daemon took from its raw sockets (arrived, minus those the DROP rules ate, minus the raw sockets' queue
// drops), scanners detected (in the blocked file) vs sent, CPU and peak RSS of the daemon; ours vs PortSentry 1.2
// in the same run. For ours also, through stealth/loop-probe.ts preloaded into the daemon: the event-loop delay
// during the flood (worst 250 ms interval: p99 and max) and the largest size the sensor's bounded state reached
// (probes waiting, distinct sources waiting, smart-verify answers cached; and probes refused by admission).
const SOURCES = 40;
const WINDOW_S = 5;
const RATES: { name: string; args: string[] }[] = [
  { name: 'u100', args: ['-i', 'u100'] },
  { name: 'u20', args: ['-i', 'u20'] },
  { name: 'flood', args: ['--flood'] },
];
// STEALTH_FLOOD_RUNS (default 3), STEALTH_FLOOD_MODES (default atcp,stcp) and STEALTH_FLOOD_RATES (default all:
// u100,u20,flood) narrow or widen a run.
const RUNS = Number(process.env.STEALTH_FLOOD_RUNS ?? 3);
const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'stealth', 'loop-probe.js');

const source = (i: number): string => (i % 2 === 0 ? `198.51.100.${10 + (i >> 1)}` : `203.0.113.${10 + (i >> 1)}`);

type Loop = {
  p99Ms: number;
  maxMs: number;
  waiting: number;
  sources: number;
  cached: number;
  refused: number;
  read: number;
};
type Sample = {
  sent: number;
  arrivedPps: number;
  pps: number;
  detected: number;
  cpuPct: number;
  rssMiB: number;
  loop: Loop | null;
};

const nsRead = async (lab: Lab, argv: string[]): Promise<string> =>
  String((await lab.run(lab.victim, argv, { reject: false })).stdout);
const rxPackets = async (lab: Lab): Promise<number> => {
  const dev = await nsRead(lab, ['cat', '/proc/net/dev']);
  const line = dev.split('\n').find((l) => l.includes(`stv${lab.id}:`)) ?? '';
  return Number(line.split(':')[1]?.trim().split(/\s+/)[1] ?? 0);
};
const dropRulePackets = async (lab: Lab): Promise<number> =>
  (await nsRead(lab, ['iptables', '-nvxL', 'INPUT']))
    .split('\n')
    .filter((l) => l.includes('DROP'))
    .reduce((n, l) => n + Number(l.trim().split(/\s+/)[0] ?? 0), 0);
const rawDrops = async (lab: Lab): Promise<number> =>
  (await nsRead(lab, ['cat', '/proc/net/raw']))
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1) ?? 0), 0);
const cpuTicks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11] ?? 0) + Number(f[12] ?? 0);
};
const peakRssKiB = (pid: number): number =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

type ProbeLine = {
  t: number;
  p99Ms: number;
  maxMs: number;
  received?: number;
  waiting?: number;
  waitingSources?: number;
  verifyCached?: number;
  refused?: number;
};
const readProbe = (path: string, from: number, to: number): Loop | null => {
  if (!existsSync(path)) return null;
  const all = readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeLine);
  const xs = all.filter((x) => x.t >= from && x.t <= to + 250);
  const before = all.filter((x) => x.t < from).at(-1);
  if (xs.length === 0) return null;
  const top = (f: (x: ProbeLine) => number | undefined): number => Math.max(...xs.map((x) => f(x) ?? 0));
  return {
    p99Ms: top((x) => x.p99Ms),
    maxMs: top((x) => x.maxMs),
    waiting: top((x) => x.waiting),
    sources: top((x) => x.waitingSources),
    cached: top((x) => x.verifyCached),
    refused: top((x) => x.refused) - (before?.refused ?? 0),
    read: top((x) => x.received) - (before?.received ?? 0),
  };
};

const once = (side: Side, mode: string, rate: (typeof RATES)[number]): Promise<Sample> => {
  const probeOut = join('/tmp', `stealth-flood-probe-${process.pid}-${Date.now()}.jsonl`);
  return withDaemon(
    side,
    mode,
    { BLOCK_TCP: '1', KILL_ROUTE: '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP' },
    async ({ lab, dir, pid }) => {
      const p = await pid();
      if (!p) throw new Error(`no ${side} daemon pid`);
      await new Promise((r) => setTimeout(r, 300));
      const [rx0, cpu0, t0] = [await rxPackets(lab), cpuTicks(p), Date.now()];
      const sentBy: number[] = [];
      for (let i = 0; i < SOURCES; i++) {
        const r = await lab.run(
          lab.attacker,
          [
            'timeout',
            '-s',
            'INT',
            String(WINDOW_S / SOURCES),
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
          { reject: false, timeout: 30000, all: true },
        );
        sentBy.push(Number(/(\d+) packets transmitted/.exec(String(r.all))?.[1] ?? 0));
      }
      const floodS = (Date.now() - t0) / 1000;
      const arrived = (await rxPackets(lab)) - rx0;
      // Let the daemon finish what is queued (bounded), then read the counters.
      await new Promise((r) => setTimeout(r, 1500));
      const t1 = Date.now();
      const seconds = (t1 - t0) / 1000;
      const cpu = (cpuTicks(p) - cpu0) / 100;
      const processed = (await rxPackets(lab)) - rx0 - (await dropRulePackets(lab)) - (await rawDrops(lab));
      const blocked = readFileSync(join(dir, `portsentry.blocked.${mode}`), 'latin1');
      // A source counts as sent when hping3 says it transmitted (a loaded machine can start hping3 too late).
      const sent = sentBy.filter((n) => n > 0).length;
      const missed = Array.from({ length: SOURCES }, (_, i) => i).filter((i) => !blocked.includes(`/${source(i)} `));
      const detected = SOURCES - missed.length;
      if (missed.length)
        console.log(
          `  (${side} -${mode} ${rate.name}: not detected ${missed.map((i) => `${source(i)} (${sentBy[i]} sent)`).join(', ')})`,
        );
      const loop = side === 'ours' ? readProbe(probeOut, t0, t1) : null;
      return {
        sent,
        arrivedPps: arrived / floodS,
        pps: processed / floodS,
        detected,
        cpuPct: (100 * cpu) / seconds,
        rssMiB: peakRssKiB(p) / 1024,
        loop,
      };
    },
    { NODE_OPTIONS: `--import=${PROBE}`, STEALTH_LOOP_PROBE_OUT: probeOut },
  ).finally(() => {
    try {
      rmSync(probeOut, { force: true });
    } catch {
      /* none */
    }
  });
};

const med = <T>(xs: T[], f: (x: T) => number): number => median(xs.map(f));
const show = (xs: Sample[]): string =>
  `${Math.round(med(xs, (s) => s.pps))} pkt/s taken in, ${med(xs, (s) => s.detected)}/${med(xs, (s) => s.sent)} scanners (worst run ${Math.min(...xs.map((s) => s.detected))}/${SOURCES}), ` +
  `CPU ${med(xs, (s) => s.cpuPct).toFixed(0)}%, peak RSS ${med(xs, (s) => s.rssMiB).toFixed(1)} MiB (max ${Math.max(...xs.map((s) => s.rssMiB)).toFixed(1)})`;
const showLoop = (xs: Loop[]): string =>
  xs.length === 0
    ? 'no loop probe data'
    : `event-loop delay during the flood: p99 ${med(xs, (l) => l.p99Ms).toFixed(1)} ms, max ${med(xs, (l) => l.maxMs).toFixed(1)} ms ` +
      `(worst run ${Math.max(...xs.map((l) => l.maxMs)).toFixed(1)} ms); sensor state at most ${Math.max(...xs.map((l) => l.waiting))} probes waiting ` +
      `from ${Math.max(...xs.map((l) => l.sources))} sources, ${Math.max(...xs.map((l) => l.cached))} smart-verify answers cached; ` +
      `${med(xs, (l) => l.refused)} probes refused by admission, ${Math.round(med(xs, (l) => l.read))} packets read by the sensor`;

export async function main(_args: string[]): Promise<void> {
  const modes = (process.env.STEALTH_FLOOD_MODES ?? 'atcp,stcp').split(',');
  for (const mode of modes) {
    for (const rate of RATES.filter((r) => (process.env.STEALTH_FLOOD_RATES ?? r.name).split(',').includes(r.name))) {
      const ours: Sample[] = [];
      const real: Sample[] = [];
      for (let i = 0; i < RUNS; i++) {
        real.push(await once('1.2', mode, rate));
        ours.push(await once('ours', mode, rate));
      }
      const arrived = med([...ours, ...real], (s) => s.arrivedPps);
      console.log(
        `stealth-flood -${mode} ${rate.name} (${Math.round(arrived)} pkt/s arrived): ours ${show(ours)} | PortSentry 1.2 ${show(real)} | ` +
          `detected ratio ${(
            med(ours, (s) => s.detected) /
            Math.max(
              1,
              med(real, (s) => s.detected),
            )
          ).toFixed(2)} (median of ${RUNS}; 2 shared cores)`,
      );
      console.log(
        `stealth-flood -${mode} ${rate.name} ours: ${showLoop(ours.flatMap((s) => (s.loop ? [s.loop] : [])))}`,
      );
    }
  }
}

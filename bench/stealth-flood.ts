import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../test/helpers/netns.js';
import { median, withDaemon, type Side } from './stealth/lab.js';

// A bounded SYN flood inside the lab only: S spoofed sources taken in turn from 198.51.100.0/24 and
// 203.0.113.0/24 (never --rand-source), each flooding for WINDOW_S/S seconds with `hping3 -S -p ++1 -a <src>`
// at a given interval; at each rate: packets per second the daemon processed (received on the veth, minus those
// the DROP rules ate, minus those the raw socket's queue dropped), scanners detected (in the blocked file) vs
// sent, CPU and peak RSS of the daemon; ours vs PortSentry 1.2 in the same run.
const SOURCES = 40;
const WINDOW_S = 5;
const RATES: { name: string; args: string[] }[] = [
  { name: '10k/s', args: ['-i', 'u100'] },
  { name: '100k/s', args: ['-i', 'u10'] },
  { name: 'flood', args: ['--flood'] },
];
// STEALTH_FLOOD_RUNS (default 1) and STEALTH_FLOOD_MODES (default atcp,stcp) narrow or widen a run.
const RUNS = Number(process.env.STEALTH_FLOOD_RUNS ?? 1);

const source = (i: number): string => (i % 2 === 0 ? `198.51.100.${10 + (i >> 1)}` : `203.0.113.${10 + (i >> 1)}`);

type Sample = { sent: number; pps: number; detected: number; cpuPct: number; rssMiB: number };

const nsRead = async (lab: Lab, argv: string[]): Promise<string> => String((await lab.run(lab.victim, argv, { reject: false })).stdout);
const rxPackets = async (lab: Lab): Promise<number> => {
  const dev = await nsRead(lab, ['cat', '/proc/net/dev']);
  const line = dev.split('\n').find((l) => l.includes(`stv${lab.id}:`)) ?? '';
  return Number(line.split(':')[1]?.trim().split(/\s+/)[1] ?? 0);
};
const dropRulePackets = async (lab: Lab): Promise<number> =>
  (await nsRead(lab, ['iptables', '-nvxL', 'INPUT'])).split('\n').filter((l) => l.includes('DROP'))
    .reduce((n, l) => n + Number(l.trim().split(/\s+/)[0] ?? 0), 0);
const rawDrops = async (lab: Lab): Promise<number> =>
  (await nsRead(lab, ['cat', '/proc/net/raw'])).split('\n').slice(1).filter(Boolean)
    .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1) ?? 0), 0);
const cpuTicks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11] ?? 0) + Number(f[12] ?? 0);
};
const peakRssKiB = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

const once = (side: Side, mode: string, rate: (typeof RATES)[number]): Promise<Sample> =>
  withDaemon(side, mode, { BLOCK_TCP: '1', KILL_ROUTE: '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP' }, async ({ lab, dir, pid }) => {
    const p = await pid();
    if (!p) throw new Error(`no ${side} daemon pid`);
    const [rx0, cpu0, t0] = [await rxPackets(lab), cpuTicks(p), Date.now()];
    let sent = 0;
    for (let i = 0; i < SOURCES; i++) {
      const r = await lab.run(lab.attacker, ['timeout', '-s', 'INT', String(WINDOW_S / SOURCES), 'hping3', '-q', '-S', '-p', '++1', ...rate.args, '-a', source(i), lab.victimV4],
        { reject: false, timeout: 30000, all: true });
      sent += Number(/(\d+) packets transmitted/.exec(String(r.all))?.[1] ?? 0);
    }
    // Let the daemon finish what is queued (bounded), then read the counters.
    await new Promise((r) => setTimeout(r, 1500));
    const seconds = (Date.now() - t0) / 1000;
    const cpu = (cpuTicks(p) - cpu0) / 100;
    const processed = (await rxPackets(lab)) - rx0 - (await dropRulePackets(lab)) - (await rawDrops(lab));
    const blocked = readFileSync(join(dir, `portsentry.blocked.${mode}`), 'latin1');
    const detected = Array.from({ length: SOURCES }, (_, i) => source(i)).filter((s) => blocked.includes(`/${s} `)).length;
    return { sent, pps: processed / seconds, detected, cpuPct: (100 * cpu) / seconds, rssMiB: peakRssKiB(p) / 1024 };
  });

const summary = (xs: Sample[]): Sample => ({
  sent: median(xs.map((x) => x.sent)), pps: median(xs.map((x) => x.pps)), detected: median(xs.map((x) => x.detected)),
  cpuPct: median(xs.map((x) => x.cpuPct)), rssMiB: median(xs.map((x) => x.rssMiB)),
});
const show = (s: Sample): string =>
  `${Math.round(s.pps)} pkt/s processed, ${s.detected}/${SOURCES} scanners, CPU ${s.cpuPct.toFixed(0)}%, peak RSS ${s.rssMiB.toFixed(1)} MiB`;

export async function main(_args: string[]): Promise<void> {
  const modes = (process.env.STEALTH_FLOOD_MODES ?? 'atcp,stcp').split(',');
  for (const mode of modes) {
    for (const rate of RATES) {
      const ours: Sample[] = [];
      const real: Sample[] = [];
      for (let i = 0; i < RUNS; i++) { real.push(await once('1.2', mode, rate)); ours.push(await once('ours', mode, rate)); }
      const o = summary(ours);
      const r = summary(real);
      console.log(`stealth-flood -${mode} ${rate.name} (${Math.round(o.sent / WINDOW_S)} pkt/s offered): ours ${show(o)} | `
        + `PortSentry 1.2 ${show(r)} | detected ratio ${(o.detected / Math.max(1, r.detected)).toFixed(2)} (median of ${RUNS}; 2 shared cores)`);
    }
  }
}

import { execa } from 'execa';
import { join } from 'node:path';
import { median, withDaemon, type Side } from './stealth/lab.js';

// First probe packet to the KILL_ROUTE rule in place, -stcp and -atcp, ours vs PortSentry 1.2 in the same run.
// Each of 30 scanners (its own source address) sends SYNs to a watched port every ~0.14 ms (hping3 -i u100); the
// victim answers each with a RST until the iptables DROP rule is in. tcpdump on the attacker's veth stamps every
// SYN and RST (microseconds) into a file read after the run (no line per packet through a pipe while measuring).
// Per scanner the rule came in between the last answered SYN and the next one: "upper" = that next SYN minus the
// first SYN (the earlier figure), "mid" = the midpoint of the two minus the first SYN (error within +-half that
// local gap, zero on average). hping3 runs at SCHED_FIFO priority 1 (chrt), so that the probe stream keeps its
// spacing while iptables and the daemon compete for the 2 cores at the very moment measured (LOCALGAP; each
// send preempts whichever daemon runs for a few us, the same for both sides). The median local gap is printed
// as the resolution. Same method for both sides. A denser probe stream was tried (ICMP echoes every ~27 us from
// the same source, which neither daemon sees): the echo traffic kept a core busy and both sides' figures went
// from ~2.4-2.9 ms to ~3.3-7.5 ms, so it measured the load it made; not kept.
const SCANNERS = 30;
const SYNS = 500;
const ROUNDS = 2;

const scanner = (i: number): string => `192.0.2.${20 + i}`;

type Capture = { syn: Map<string, { t: number; port: number }[]>; rst: Map<string, Map<number, number[]>> };

// "1764057600.123456 IP 192.0.2.20.2345 > 192.0.2.1.1: Flags [S], ..." and the victim's "[R.]" answers.
export const parse = (text: string, victim: string): Capture => {
  const cap: Capture = { syn: new Map(), rst: new Map() };
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]+)\]/.exec(line);
    if (!m) continue;
    const [, ts, src, sport, dst, dport, flags] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const t = Number(ts) * 1000;
    if (flags === 'S' && dst === victim) {
      const l = cap.syn.get(src) ?? [];
      l.push({ t, port: Number(sport) });
      cap.syn.set(src, l);
    } else if (flags.startsWith('R') && src === victim) {
      const byPort = cap.rst.get(dst) ?? new Map<number, number[]>();
      cap.rst.set(dst, byPort);
      const l = byPort.get(Number(dport)) ?? [];
      l.push(t);
      byPort.set(Number(dport), l);
    }
  }
  return cap;
};

type Sample = { upper: number; mid: number; gap: number; local: number };

// One scanner's latency (ms) and its SYN spacing, or null when no SYN was answered or every SYN was (no rule came).
export const latencyOf = (syns: { t: number; port: number }[], rsts: Map<number, number[]>): Sample | null => {
  const answered = syns.map((s) => (rsts.get(s.port) ?? []).some((t) => t >= s.t));
  const last = answered.lastIndexOf(true);
  const first = syns[0];
  const lastOk = syns[last];
  const blocked = syns[last + 1];
  if (!first || !lastOk || !blocked) return null;
  const gaps = syns.slice(1).map((s, i) => s.t - (syns[i] as { t: number }).t);
  return {
    upper: blocked.t - first.t,
    mid: (lastOk.t + blocked.t) / 2 - first.t,
    gap: median(gaps),
    local: blocked.t - lastOk.t,
  };
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const measure = async (side: Side, mode: string): Promise<Sample[]> =>
  withDaemon(
    side,
    mode,
    { BLOCK_TCP: '1', KILL_ROUTE: '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP' },
    async ({ lab, dir }) => {
      await lab.addAttackerAddrs(Array.from({ length: SCANNERS }, (_, i) => scanner(i)));
      const pcap = join(dir, 'latency.pcap');
      const dump = execa(
        'ip',
        [
          'netns',
          'exec',
          lab.attacker,
          'tcpdump',
          '-i',
          `sta${lab.id}`,
          '-n',
          '-B',
          '16384',
          '-Z',
          'root',
          '-w',
          pcap,
          'tcp port 1',
        ],
        { reject: false, timeout: 300000 },
      );
      let listening = false;
      dump.stderr?.on('data', (d: Buffer) => {
        if (d.toString().includes('listening on')) listening = true;
      });
      for (let i = 0; i < 100 && !listening; i++) await sleep(50);
      for (let i = 0; i < SCANNERS; i++) {
        await lab.run(
          lab.attacker,
          [
            'chrt',
            '-f',
            '1',
            'hping3',
            '-S',
            '-p',
            '1',
            '-i',
            'u100',
            '-c',
            String(SYNS),
            '-a',
            scanner(i),
            lab.victimV4,
          ],
          { reject: false, timeout: 30000 },
        );
      }
      await sleep(300);
      dump.kill('SIGINT');
      await dump;
      const text = String(
        (await execa('tcpdump', ['-r', pcap, '-n', '-tt'], { reject: false, timeout: 60000, maxBuffer: 1 << 28 }))
          .stdout,
      );
      const cap = parse(text, lab.victimV4);
      return Array.from({ length: SCANNERS }, (_, i) =>
        latencyOf(cap.syn.get(scanner(i)) ?? [], cap.rst.get(scanner(i)) ?? new Map<number, number[]>()),
      ).filter((x): x is Sample => x !== null);
    },
  );

export async function main(_args: string[]): Promise<void> {
  // Without tcpdump (Debian: apt install tcpdump) nothing is captured: say so, never print NaN figures.
  const which = await execa('tcpdump', ['--version'], { reject: false });
  if (which.exitCode !== 0) throw new Error('stealth-latency needs tcpdump (Debian: apt install tcpdump)');
  for (const mode of ['stcp', 'atcp']) {
    const got: Record<Side, Sample[]> = { ours: [], '1.2': [] };
    // Rounds alternate which side goes first (shared, noisy cores); scanners of all rounds are pooled.
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of (round % 2 === 0 ? ['1.2', 'ours'] : ['ours', '1.2']) as Side[])
        got[side].push(...(await measure(side, mode)));
    }
    for (const side of ['ours', '1.2'] as Side[])
      if (got[side].length === 0) throw new Error(`stealth-latency -${mode}: no scanner measured for ${side}`);
    const m = (side: Side, k: 'upper' | 'mid'): number => median(got[side].map((x) => x[k]));
    const gap = median([...got.ours, ...got['1.2']].map((x) => x.gap));
    const local = median([...got.ours, ...got['1.2']].map((x) => x.local));
    console.log(
      `stealth-latency -${mode}: ours ${m('ours', 'mid').toFixed(2)} ms, PortSentry 1.2 ${m('1.2', 'mid').toFixed(2)} ms, ` +
        `ratio ${(m('ours', 'mid') / m('1.2', 'mid')).toFixed(2)} (midpoint; upper bound: ours ${m('ours', 'upper').toFixed(2)}, 1.2 ` +
        `${m('1.2', 'upper').toFixed(2)}, ratio ${(m('ours', 'upper') / m('1.2', 'upper')).toFixed(2)}; median of ${got.ours.length}/${got['1.2'].length} ` +
        `scanners, ${ROUNDS} alternating rounds of ${SCANNERS}; first SYN to iptables DROP in place; SYN spacing ${(gap * 1000).toFixed(0)} us, ` +
        `${(local * 1000).toFixed(0)} us around the block (resolution); 2 shared cores)`,
    );
  }
}

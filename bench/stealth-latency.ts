import { execa } from 'execa';
import { median, withDaemon, type Side } from './stealth/lab.js';

// First probe packet to the KILL_ROUTE rule in place, -stcp and -atcp, ours vs PortSentry 1.2 in the same run.
// Each of 30 scanners (its own source address) sends SYNs to a watched port every ~0.1 ms (hping3 -i u100); the
// victim answers each with a RST until the iptables DROP rule is in. tcpdump on the attacker's veth stamps every
// SYN and RST (microseconds); latency = time of the first SYN after the last answered one, minus the first SYN's.
// The resolution is the SYN spacing, printed with the figures (the same method for both sides).
const SCANNERS = 30;
const COUNT = 2000;
const ROUNDS = 2;

const scanner = (i: number): string => `192.0.2.${20 + i}`;

type Capture = { syn: Map<string, { t: number; port: number }[]>; rst: Map<string, Map<number, number[]>> };

// "1764057600.123456 IP 192.0.2.20.2345 > 192.0.2.1.1: Flags [S], ..." and the victim's "[R.]" answers.
const parse = (text: string, victim: string): Capture => {
  const cap: Capture = { syn: new Map(), rst: new Map() };
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]+)\]/.exec(line);
    if (!m) continue;
    const [, ts, src, sport, dst, dport, flags] = m as unknown as [string, string, string, string, string, string, string];
    const t = Number(ts) * 1000;
    if (flags === 'S' && dst === victim) {
      const l = cap.syn.get(src) ?? []; l.push({ t, port: Number(sport) }); cap.syn.set(src, l);
    } else if (flags.startsWith('R') && src === victim) {
      const byPort = cap.rst.get(dst) ?? new Map<number, number[]>(); cap.rst.set(dst, byPort);
      const l = byPort.get(Number(dport)) ?? []; l.push(t); byPort.set(Number(dport), l);
    }
  }
  return cap;
};

// One scanner's latency (ms) and its SYN spacing, or null when every SYN was answered (no rule came).
const latencyOf = (syns: { t: number; port: number }[], rsts: Map<number, number[]>): { ms: number; gap: number } | null => {
  const answered = syns.map((s) => (rsts.get(s.port) ?? []).some((t) => t >= s.t));
  const last = answered.lastIndexOf(true);
  const first = syns[0];
  const blocked = syns[last + 1];
  if (!first || !blocked) return null;
  const gaps = syns.slice(1).map((s, i) => s.t - (syns[i] as { t: number }).t);
  return { ms: blocked.t - first.t, gap: median(gaps) };
};

const measure = async (side: Side, mode: string): Promise<{ ms: number; gap: number }[]> =>
  withDaemon(side, mode, { BLOCK_TCP: '1', KILL_ROUTE: '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP' }, async ({ lab }) => {
    await lab.addAttackerAddrs(Array.from({ length: SCANNERS }, (_, i) => scanner(i)));
    const dump = execa('ip', ['netns', 'exec', lab.attacker, 'tcpdump', '-i', `sta${lab.id}`, '-n', '-tt', '-l', '--immediate-mode',
      '-B', '8192', 'tcp port 1'], { reject: false, timeout: 300000 });
    let listening = false;
    dump.stderr?.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) listening = true; });
    for (let i = 0; i < 100 && !listening; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < SCANNERS; i++) {
      await lab.run(lab.attacker, ['hping3', '-S', '-p', '1', '-i', 'u100', '-c', String(COUNT), '-a', scanner(i), lab.victimV4], { reject: false, timeout: 30000 });
    }
    await new Promise((r) => setTimeout(r, 300));
    dump.kill('SIGINT');
    const cap = parse(String((await dump).stdout), lab.victimV4);
    return Array.from({ length: SCANNERS }, (_, i) => latencyOf(cap.syn.get(scanner(i)) ?? [], cap.rst.get(scanner(i)) ?? new Map()))
      .filter((x): x is { ms: number; gap: number } => x !== null);
  });

export async function main(_args: string[]): Promise<void> {
  for (const mode of ['stcp', 'atcp']) {
    const got: Record<Side, { ms: number; gap: number }[]> = { ours: [], '1.2': [] };
    // Rounds alternate which side goes first (shared, noisy cores); scanners of all rounds are pooled.
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of (round % 2 === 0 ? ['1.2', 'ours'] : ['ours', '1.2']) as Side[]) got[side].push(...await measure(side, mode));
    }
    const o = median(got.ours.map((x) => x.ms));
    const r = median(got['1.2'].map((x) => x.ms));
    const gap = median([...got.ours, ...got['1.2']].map((x) => x.gap));
    console.log(`stealth-latency -${mode}: ours ${o.toFixed(2)} ms, PortSentry 1.2 ${r.toFixed(2)} ms, ratio ${(o / r).toFixed(2)} `
      + `(median of ${got.ours.length}/${got['1.2'].length} scanners, ${ROUNDS} alternating rounds of ${SCANNERS}; first SYN to iptables DROP in place, `
      + `resolution ${(gap * 1000).toFixed(0)} us = median SYN spacing; 2 shared cores)`);
  }
}

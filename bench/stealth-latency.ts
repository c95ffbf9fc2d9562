import { execa } from 'execa';
import { join } from 'node:path';
import { median, withDaemon, type Side } from './stealth/lab.js';

// First probe packet to the KILL_ROUTE rule in place, -stcp and -atcp, ours vs PortSentry 1.2 in the same run.
// Each of 30 scanners (its own source address) sends SYNs to a watched port every ~0.14 ms (hping3 -i u100), the
// probe both daemons see. The rule is detected by a second stream from the same source that neither daemon sees
// (their raw sockets are TCP only): ICMP echo requests every ~0.04 ms (hping3 --icmp -i u10), started before the
// first SYN. The victim's kernel answers each until the iptables DROP rule is in. tcpdump on the attacker's veth
// stamps everything (microseconds); latency = first echo request after the last answered one, minus the first
// SYN. Resolution = the median echo spacing, printed. The older SYN/RST estimate (resolution = SYN spacing) is
// printed beside it. Same method, same streams for both sides.
const SCANNERS = 30;
const SYNS = 300;
const ECHOES = 2000;
const ROUNDS = 2;

const scanner = (i: number): string => `192.0.2.${20 + i}`;

type Stamp = { t: number; key: number };
type Capture = {
  syn: Map<string, Stamp[]>; rst: Map<string, Map<number, number[]>>;
  echo: Map<string, Stamp[]>; reply: Map<string, Set<number>>;
};

const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => { const l = m.get(k) ?? []; l.push(v); m.set(k, l); };

// "1764057600.123456 IP 192.0.2.20.2345 > 192.0.2.1.1: Flags [S], ...", the victim's "[R.]" answers, and
// "1764057600.123456 IP 192.0.2.20 > 192.0.2.1: ICMP echo request, id 4, seq 7, length 8" with its reply.
const TCP_LINE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]+)\]/;
const ICMP_LINE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+) > (\d+\.\d+\.\d+\.\d+): ICMP echo (request|reply), id \d+, seq (\d+)/;

export const parse = (text: string, victim: string): Capture => {
  const cap: Capture = { syn: new Map(), rst: new Map(), echo: new Map(), reply: new Map() };
  for (const line of text.split('\n')) {
    const m = TCP_LINE.exec(line);
    if (m) {
      const [, ts, src, sport, dst, dport, flags] = m as unknown as [string, string, string, string, string, string, string];
      const t = Number(ts) * 1000;
      if (flags === 'S' && dst === victim) push(cap.syn, src, { t, key: Number(sport) });
      else if (flags.startsWith('R') && src === victim) {
        const byPort = cap.rst.get(dst) ?? new Map<number, number[]>(); cap.rst.set(dst, byPort);
        push(byPort, Number(dport), t);
      }
      continue;
    }
    const e = ICMP_LINE.exec(line);
    if (!e) continue;
    const [, ts, src, dst, kind, seq] = e as unknown as [string, string, string, string, string, string];
    if (kind === 'request' && dst === victim) push(cap.echo, src, { t: Number(ts) * 1000, key: Number(seq) });
    else if (kind === 'reply' && src === victim) {
      const s = cap.reply.get(dst) ?? new Set<number>(); cap.reply.set(dst, s); s.add(Number(seq));
    }
  }
  return cap;
};

type Sample = { ms: number; gap: number };

// The first stamp after the last answered one, minus the first SYN; null when every one was answered.
const firstUnanswered = (firstSyn: number, stamps: Stamp[], answered: (s: Stamp) => boolean): Sample | null => {
  const ok = stamps.map(answered);
  const last = ok.lastIndexOf(true);
  const blocked = stamps[last + 1];
  if (!blocked || last < 0) return null;
  const gaps = stamps.slice(1).map((s, i) => s.t - (stamps[i] as Stamp).t);
  return { ms: blocked.t - firstSyn, gap: median(gaps) };
};

// One scanner: the echo estimate (null unless echoes ran from before the first SYN until past the rule) and
// the SYN/RST estimate.
export const latencyOf = (cap: Capture, src: string): { echo: Sample | null; syn: Sample | null } => {
  const syns = cap.syn.get(src) ?? [];
  const first = syns[0];
  if (!first) return { echo: null, syn: null };
  const rsts = cap.rst.get(src) ?? new Map<number, number[]>();
  const syn = firstUnanswered(first.t, syns, (s) => (rsts.get(s.key) ?? []).some((t) => t >= s.t));
  const replies = cap.reply.get(src) ?? new Set<number>();
  const echoes = cap.echo.get(src) ?? [];
  const echo = echoes[0] && echoes[0].t < first.t ? firstUnanswered(first.t, echoes, (s) => replies.has(s.key)) : null;
  return { echo, syn };
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Got = { echo: Sample[]; syn: Sample[] };

const measure = async (side: Side, mode: string): Promise<Got> =>
  withDaemon(side, mode, { BLOCK_TCP: '1', KILL_ROUTE: '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP' }, async ({ lab, dir }) => {
    await lab.addAttackerAddrs(Array.from({ length: SCANNERS }, (_, i) => scanner(i)));
    // tcpdump writes a capture file, read after the run: no line per packet to a pipe during the measurement.
    const pcap = join(dir, 'latency.pcap');
    const dump = execa('ip', ['netns', 'exec', lab.attacker, 'tcpdump', '-i', `sta${lab.id}`, '-n', '-B', '16384', '-Z', 'root', '-w', pcap,
      'tcp port 1 or icmp'], { reject: false, timeout: 300000 });
    let listening = false;
    dump.stderr?.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) listening = true; });
    for (let i = 0; i < 100 && !listening; i++) await sleep(50);
    for (let i = 0; i < SCANNERS; i++) {
      const echo = lab.run(lab.attacker, ['hping3', '--icmp', '-i', 'u10', '-c', String(ECHOES), '-a', scanner(i), lab.victimV4],
        { reject: false, timeout: 30000 });
      await sleep(30);
      await lab.run(lab.attacker, ['hping3', '-S', '-p', '1', '-i', 'u100', '-c', String(SYNS), '-a', scanner(i), lab.victimV4], { reject: false, timeout: 30000 });
      await echo;
    }
    await sleep(300);
    dump.kill('SIGINT');
    await dump;
    const txt = String((await execa('tcpdump', ['-r', pcap, '-n', '-tt'], { reject: false, timeout: 60000, maxBuffer: 1 << 30 })).stdout);
    const cap = parse(txt, lab.victimV4);
    const got: Got = { echo: [], syn: [] };
    for (let i = 0; i < SCANNERS; i++) {
      const l = latencyOf(cap, scanner(i));
      if (l.echo) got.echo.push(l.echo);
      if (l.syn) got.syn.push(l.syn);
    }
    return got;
  });

const line = (mode: string, what: string, ours: Sample[], real: Sample[], note: string): string => {
  const o = median(ours.map((x) => x.ms));
  const r = median(real.map((x) => x.ms));
  const gap = median([...ours, ...real].map((x) => x.gap));
  return `stealth-latency -${mode} ${what}: ours ${o.toFixed(2)} ms, PortSentry 1.2 ${r.toFixed(2)} ms, ratio ${(o / r).toFixed(2)} `
    + `(median of ${ours.length}/${real.length} scanners, ${ROUNDS} alternating rounds of ${SCANNERS}; resolution ${(gap * 1000).toFixed(0)} us ${note})`;
};

export async function main(_args: string[]): Promise<void> {
  for (const mode of ['stcp', 'atcp']) {
    const got: Record<Side, Got> = { ours: { echo: [], syn: [] }, '1.2': { echo: [], syn: [] } };
    // Rounds alternate which side goes first (shared, noisy cores); scanners of all rounds are pooled.
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of (round % 2 === 0 ? ['1.2', 'ours'] : ['ours', '1.2']) as Side[]) {
        const g = await measure(side, mode);
        got[side].echo.push(...g.echo); got[side].syn.push(...g.syn);
      }
    }
    console.log(line(mode, 'first SYN to DROP in place', got.ours.echo, got['1.2'].echo, '= median echo spacing; 2 shared cores'));
    console.log(line(mode, '(SYN/RST estimate)', got.ours.syn, got['1.2'].syn, '= median SYN spacing'));
  }
}

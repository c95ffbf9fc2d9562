import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '../../../test/helpers/netns.js';
import {
  documentationSources,
  macOf,
  sendSpoofed,
  TCP_KINDS,
  type Kind,
  type SpoofProbe,
} from '../../../test/helpers/spoof.js';
import { makeTmpDir } from '../../../test/helpers/tmp.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { Collector, parseDatagram } from '../../../test/portsentry/side.js';
import { BIN, withLog, writeConf } from '../../../test/portsentry/stealth/lab-daemon.js';

// The spoofed-flood case (docs/reliability.md): forged SYN/FIN/NULL/XMAS or UDP probes from N documentation
// sources, in one raw mode, against ours in a lab namespace whose default route points at the attacker's end of
// the veth (so replies to the forged sources die there). Mixed into the flood: probes from the victim's own
// addresses (over its loopback), from its default gateways and from ignore-listed sources; none may be blocked.
// KILL_ROUTE and KILL_ROUTE6 `touch` one file per target: its mtime is the block's time, its name the target.
export type RawMode = 'stcp' | 'sudp' | 'atcp' | 'audp';
export type FloodOptions = {
  mode: RawMode;
  sources: number;
  blockRateMax: number;
  pps: number;
  maxSendSeconds: number;
  drainTimeoutMs: number;
  // Copy every syslog line there (to look into a run).
  keepLog?: string;
};
export type FloodResult = {
  mode: RawMode;
  blockRateMax: number;
  sources: number;
  sent: number;
  floodProbes: number;
  logged: number;
  kernelDrops: number;
  blocked: number;
  lost: string[];
  duplicates: string[];
  notLogged: string[];
  maxPerSecond: number;
  heldPerSecond: number;
  meanPerSecond: number;
  blockSeconds: number;
  drainSeconds: number;
  rateReached: number;
  queueFull: number;
  rssPeakMiB: number;
  // Probes the sensor refused, as its "Probe backlog drained: N probes got no line" lines count them.
  refusedLogged: number;
  // Log lines the daemon's syslog queue dropped (syslog not reading fast enough), as its note lines count them.
  logDropped: number;
  // Probes the raw sensor refused (admission), dropped (smart-verify queue) or found on a port in use; null: no data.
  sensor: { refused: number; verifyDropped: number; verifyInUse: number } | null;
  protectedLogged: { own: number; gateway: number; ignored: number };
  protectedBlocked: string[];
};

const PROBE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'stealth', 'loop-probe.js');
const GATEWAY_V4 = '192.0.2.254';
const GATEWAY_V6 = '2001:db8::fffe';
const IGNORED = ['198.51.100.250', '2001:db8:ffff::7'];
const IGNORE_LINES = '198.51.100.250/32\n2001:db8:ffff::/48\n';
const TCP_PORTS = [1, 79, 111, 143];
const UDP_PORTS = [7, 9, 69, 161];

const isTcp = (m: RawMode): boolean => m.endsWith('tcp');

// Two probes a source, to two ports; TCP kinds rotate through SYN, FIN, NULL and XMAS.
export const floodPlan = (mode: RawMode, sources: string[], dst4: string, dst6: string): SpoofProbe[] =>
  sources.flatMap((src, i) =>
    [0, 1].map((k): SpoofProbe => {
      const kind: Kind = isTcp(mode) ? (TCP_KINDS[(i + k) % 4] as Kind) : 'udp';
      const port = (isTcp(mode) ? TCP_PORTS : UDP_PORTS)[(i + k) % 4] as number;
      return { src, dst: src.includes(':') ? dst6 : dst4, kind, port };
    }),
  );

// Every `every` probes of the flood, one from each of `from`.
const mixIn = (flood: SpoofProbe[], from: SpoofProbe[], every: number): SpoofProbe[] => {
  const out: SpoofProbe[] = [];
  flood.forEach((p, i) => {
    if (i % every === 0) out.push(...from);
    out.push(p);
  });
  return out;
};

const blockTimes = (dir: string): { target: string; ms: number }[] =>
  readdirSync(dir).map((f) => ({ target: f, ms: Number(statSync(join(dir, f), { bigint: true }).mtimeNs / 1000000n) }));

// Most blocks in any one-second window (sliding, from each block's time).
export const maxInWindow = (ms: number[], windowMs = 1000): number => {
  const s = [...ms].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while ((s[i] as number) - (s[j] as number) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
};

const sensorCounters = (file: string): FloodResult['sensor'] => {
  try {
    const last = readFileSync(file, 'utf8').trim().split('\n').at(-1);
    const s = JSON.parse(last ?? '{}') as { refused?: number; verifyDropped?: number; verifyInUse?: number };
    if (s.refused === undefined) return null;
    return { refused: s.refused, verifyDropped: s.verifyDropped ?? 0, verifyInUse: s.verifyInUse ?? 0 };
  } catch {
    return null;
  }
};

// Blocks per whole second from the first block on (the last, partial second left out): the median of those counts
// is the rate held.
export const heldRate = (ms: number[]): number => {
  if (ms.length === 0) return 0;
  const first = Math.min(...ms);
  const seconds = Math.floor((Math.max(...ms) - first) / 1000);
  if (seconds === 0) return ms.length;
  const counts = new Array<number>(seconds).fill(0);
  for (const t of ms) {
    const k = Math.floor((t - first) / 1000);
    if (k < seconds) counts[k] = (counts[k] ?? 0) + 1;
  }
  const sorted = counts.sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

const rawDrops = async (lab: Lab): Promise<number> =>
  String((await lab.run(lab.victim, ['cat', '/proc/net/raw', '/proc/net/raw6'], { reject: false })).stdout)
    .split('\n')
    .filter((l) => /^\s*\d+:/.test(l))
    .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1) ?? 0), 0);

const peakRssMiB = (pid: number): number => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};

// The victim's default routes point at addresses the attacker holds: replies to forged sources go there and die
// (the attacker does not forward), and the gateway's own probes are real.
const addGateways = async (lab: Lab): Promise<void> => {
  await lab.addAttackerAddrs([GATEWAY_V4, GATEWAY_V6]);
  await execa('ip', ['-n', lab.victim, 'route', 'add', 'default', 'via', GATEWAY_V4], { timeout: 15000 });
  await execa('ip', ['-n', lab.victim, '-6', 'route', 'add', 'default', 'via', GATEWAY_V6], { timeout: 15000 });
};

// Syslog lines counted as they come (the collector keeps them all; this reads each once).
class Tally {
  readonly #c: Collector;
  #seen = 0;
  pid = 0;
  active = false;
  logged = new Map<string, number>();
  routed = new Map<string, number>();
  own = 0;
  gateway = 0;
  rateReached = 0;
  queueFull = 0;
  drained = 0;
  refused = 0;
  logDropped = 0;
  constructor(c: Collector) {
    this.#c = c;
  }
  read(): this {
    const raw = this.#c.raw;
    for (; this.#seen < raw.length; this.#seen++) {
      const d = parseDatagram(raw[this.#seen] as string);
      if (!d) continue;
      const m = d.message;
      if (m.startsWith('adminalert: PortSentry is now active')) {
        this.active = true;
        this.pid = d.pid;
      }
      const scan = / scan from host: \S+\/(\S+) to (?:TCP|UDP) port/.exec(m);
      if (scan) this.logged.set(scan[1] as string, (this.logged.get(scan[1] as string) ?? 0) + 1);
      const route = /^attackalert: Host (\S+) has been blocked via dropped route/.exec(m);
      if (route) this.routed.set(route[1] as string, (this.routed.get(route[1] as string) ?? 0) + 1);
      if (m.includes('is an address of this host. Not blocking.')) this.own++;
      if (m.includes('is a default gateway of this host. Not blocking.')) this.gateway++;
      if (m.startsWith('adminalert: BLOCK_RATE_MAX of')) this.rateReached++;
      if (m.startsWith('attackalert: ERROR: Block queue full')) this.queueFull++;
      if (m.startsWith('adminalert: Block queue empty')) this.drained++;
      const dropped = /^adminalert: (\d+) log lines dropped here/.exec(m);
      if (dropped) this.logDropped += Number(dropped[1]);
      const refused = /^adminalert: Probe backlog drained: (\d+) probes/.exec(m);
      if (refused) this.refused += Number(refused[1]);
    }
    return this;
  }
}

const startDaemon = async (lab: Lab, dir: string, o: FloodOptions, log: Collector, tally: Tally) => {
  const conf = join(dir, 'portsentry.conf');
  const touch = `/usr/bin/touch ${join(dir, 'blocks')}/$TARGET$`;
  writeConf(conf, dir, {
    BLOCK_TCP: '1',
    BLOCK_UDP: '1',
    KILL_ROUTE: touch,
    KILL_ROUTE6: touch,
    BLOCK_RATE_MAX: String(o.blockRateMax),
  });
  writeFileSync(join(dir, 'portsentry.ignore'), `127.0.0.1/32\n0.0.0.0\n${IGNORE_LINES}`);
  const argv = withLog(log.path, [
    'node',
    BIN,
    `-${o.mode}`,
    '--foreground',
    '--config',
    conf,
    '--hosts-deny',
    join(dir, 'hosts.deny'),
  ]);
  // The sensor's counters (probes refused by admission, smart-verify), through bench/stealth/loop-probe.ts when it
  // is built (the bench runs from dist-bench/; under jest there is no .js to preload).
  const env = existsSync(PROBE)
    ? { NODE_OPTIONS: `--import=${PROBE}`, STEALTH_LOOP_PROBE_OUT: join(dir, 'probe.jsonl') }
    : {};
  const proc = lab.run(lab.victim, argv, { reject: false, timeout: 900000, env });
  await waitFor(() => tally.read().active || proc.exitCode !== null, {
    timeoutMs: 30000,
    what: `ours -${o.mode} to start`,
  });
  if (!tally.active) throw new Error(`ours -${o.mode} did not start: ${String((await proc).stderr)}`);
  const stop = async (): Promise<void> => {
    const pid = proc.pid;
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const t = setTimeout(() => {
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, 5000);
    await proc;
    clearTimeout(t);
  };
  return { pid: proc.pid ?? 0, stop };
};

const count = (m: Map<string, number>, keys: string[]): number => keys.reduce((n, k) => n + (m.get(k) ?? 0), 0);

export const runFlood = async (o: FloodOptions): Promise<FloodResult> => {
  const tmp = makeTmpDir(`spoofed-flood-${o.mode}-`);
  const log = new Collector(join(tmp.dir, 'log.sock'));
  const tally = new Tally(log);
  let lab: Lab | null = null;
  let daemon: Awaited<ReturnType<typeof startDaemon>> | null = null;
  try {
    lab = await createLab();
    await addGateways(lab);
    mkdirSync(join(tmp.dir, 'blocks'));
    daemon = await startDaemon(lab, tmp.dir, o, log, tally);
    const reserved = new Set([lab.victimV4, lab.attackerV4, GATEWAY_V4, ...IGNORED]);
    const sources = documentationSources(o.sources, reserved);
    const flood = floodPlan(o.mode, sources, lab.victimV4, lab.victimV6);
    const extra = floodPlan(o.mode, [GATEWAY_V4, GATEWAY_V6, ...IGNORED], lab.victimV4, lab.victimV6);
    const ownSources = Array.from({ length: 10 }, () => [lab!.victimV4, lab!.victimV6]).flat();
    const own = floodPlan(o.mode, ownSources, lab.victimV4, lab.victimV6);
    const mac = await macOf(lab, lab.victim, `stv${lab.id}`);
    const drops0 = await rawDrops(lab);
    const t0 = Date.now();
    const floodSeconds = flood.length / o.pps;
    const mixed = mixIn(flood, extra, Math.max(1, Math.floor(flood.length / 10)));
    const ownPps = own.length / Math.max(1, floodSeconds);
    const [sentFlood, sentOwn] = await Promise.all([
      sendSpoofed(lab, lab.attacker, `sta${lab.id}`, mac, mixed, o.pps, o.maxSendSeconds),
      sendSpoofed(lab, lab.victim, 'lo', '00:00:00:00:00:00', own, ownPps, o.maxSendSeconds),
    ]);
    // Done when every flood source that was logged is blocked and the log has been quiet for a second (the
    // daemon's syslog queue may still hold lines when the collector is slow: stopping it then would cut them off),
    // or at the deadline.
    const l = lab;
    let seen = -1;
    let quietSince = Date.now();
    await waitFor(
      () => {
        tally.read();
        if (log.raw.length !== seen) {
          seen = log.raw.length;
          quietSince = Date.now();
        }
        const pending = sources.filter((s) => tally.logged.has(s) && !tally.routed.has(s)).length;
        return (
          pending === 0 &&
          (o.blockRateMax === 0 || tally.rateReached === tally.drained) &&
          Date.now() - quietSince >= 1000
        );
      },
      { timeoutMs: o.drainTimeoutMs, intervalMs: 250, what: 'every logged source to be blocked' },
    ).catch(() => {});
    const drainSeconds = (Date.now() - t0) / 1000;
    const kernelDrops = (await rawDrops(l)) - drops0;
    const rssPeakMiB = peakRssMiB(daemon.pid);
    await new Promise((r) => setTimeout(r, 300)); // one more probe line
    const sensor = sensorCounters(join(tmp.dir, 'probe.jsonl'));
    await daemon.stop();
    daemon = null;
    await log.settle(200, 5000);
    tally.read();
    if (o.keepLog) writeFileSync(o.keepLog, log.raw.join('\n'));
    const times = blockTimes(join(tmp.dir, 'blocks'));
    const ms = times.map((t) => t.ms);
    const span = ms.length > 1 ? (Math.max(...ms) - Math.min(...ms)) / 1000 : 0;
    const blockedFile = readFileSync(join(tmp.dir, `portsentry.blocked.${o.mode}`), 'latin1');
    const protectedAddrs = [lab.victimV4, lab.victimV6, GATEWAY_V4, GATEWAY_V6, ...IGNORED];
    return {
      mode: o.mode,
      blockRateMax: o.blockRateMax,
      sources: sources.length,
      sent: sentFlood + sentOwn,
      floodProbes: flood.length,
      logged: count(tally.logged, sources),
      kernelDrops,
      blocked: times.length,
      lost: sources.filter((s) => tally.logged.has(s) && !times.some((t) => t.target === s)),
      duplicates: [...tally.routed.entries()].filter(([, n]) => n > 1).map(([h]) => h),
      notLogged: sources.filter((s) => !tally.logged.has(s)),
      maxPerSecond: maxInWindow(ms),
      heldPerSecond: heldRate(ms),
      meanPerSecond: span > 0 ? (times.length - 1) / span : 0,
      blockSeconds: span,
      drainSeconds,
      sensor,
      refusedLogged: tally.refused,
      logDropped: tally.logDropped,
      rateReached: tally.rateReached,
      queueFull: tally.queueFull,
      rssPeakMiB,
      protectedLogged: { own: tally.own, gateway: tally.gateway, ignored: count(tally.logged, IGNORED) },
      protectedBlocked: protectedAddrs.filter(
        (a) => times.some((t) => t.target === a) || blockedFile.includes(`/${a} `),
      ),
    };
  } finally {
    if (daemon) await daemon.stop();
    log.close();
    await lab?.destroy();
    tmp.cleanup();
  }
};

export const formatFlood = (r: FloodResult): string =>
  [
    `spoofed-flood -${r.mode} BLOCK_RATE_MAX=${r.blockRateMax}: ${r.sources} sources, flood probes ${r.floodProbes}, `,
    `logged ${r.logged} (packets sent in all ${r.sent}; ${r.notLogged.length} sources never logged), `,
    `raw-socket drops ${r.kernelDrops}, refused by the sensor ${r.sensor?.refused ?? '?'} (counted in its lines `,
    `${r.refusedLogged}), log lines dropped (syslog too slow) ${r.logDropped}; `,
    `blocks ${r.blocked}, lost ${r.lost.length}, `,
    `duplicates ${r.duplicates.length}, queue full ${r.queueFull}; blocks/s held ${r.heldPerSecond} (median of whole `,
    `seconds), most in any 1 s ${r.maxPerSecond}, `,
    `mean ${r.meanPerSecond.toFixed(0)} over ${r.blockSeconds.toFixed(1)} s; `,
    `RSS peak ${r.rssPeakMiB.toFixed(1)} MiB; own/gateway/ignored probes logged ${r.protectedLogged.own}/`,
    `${r.protectedLogged.gateway}/${r.protectedLogged.ignored}, blocked `,
    `${r.protectedBlocked.length ? r.protectedBlocked.join(' ') : 'none'}`,
  ].join('');

// The soak case: both daemons under steady load for a while, RSS and open fds sampled at a fixed interval.
// portsentry -tcp runs in a victim namespace (its /dev/log bound to a socket we read), probed from an attacker
// namespace (documentation addresses, a bounded driver); its blocked file is emptied every `unblockMs` as an
// operator would, so the same sources alert again and the history file keeps growing at a steady rate.
// sentryban follows that history file (jail portsentry) and an application log we append to at `lineRate` lines/s
// (jail app; the log is rotated every `rotateMs`); short bantimes keep bans coming and expiring. Shared by
// bench/soak/soak.ts (30 min) and test/reliability/soak.real.test.ts (seconds).
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../../../src/sentryban/control/client.js';

const require = createRequire(import.meta.url);
type DgramSock = { bind(p: string): void; close(): void; on(ev: string, fn: (...a: unknown[]) => void): void };
const unix = require('unix-dgram') as { createSocket(t: string, onMessage: (b: Buffer) => void): DgramSock };

// bench/soak/lib/ in the sources (jest), dist-bench/bench/soak/lib/ once built (npm run soak).
const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = HERE.includes('/dist-bench/') ? HERE.slice(0, HERE.indexOf('/dist-bench/')) : join(HERE, '../../..');
const PORTSENTRY = join(REPO, 'bin/portsentry');
const SENTRYBAN = join(REPO, 'bin/sentryban');
const TRAP_PORTS = [1080, 12345, 31337];
const SOURCES = 60; // 198.51.100.10 .. .69 on the attacker side

export type SoakOptions = {
  durationMs: number;
  sampleMs: number;
  warmupMs: number; // samples before this are left out of the fit
  idleMs: number; // quiet time before the idle RSS reading (after start)
  settleMs: number; // after the load, at most this long for the fds to be back at their idle count
  probeRate: number; // connects per second
  lineRate: number; // app log lines per second
  unblockMs: number;
  rotateMs: number;
  log?: (line: string) => void;
};

export type Sample = { t: number } & ProcFigures;
export type DaemonFigures = {
  name: string;
  pid: number;
  alive: boolean;
  idle: ProcFigures | null;
  idleRssKiB: number;
  idleFds: number;
  afterRssKiB: number;
  afterFds: number;
  rssGrowthMiBPerHour: number;
  anonGrowthMiBPerHour: number; // the RSS growth's anonymous part (heaps) and file part (pages of mapped files)
  fileGrowthMiBPerHour: number;
  quarterGrowthMiBPerHour: number[]; // RSS growth in each quarter after the warm-up: does it level off?
  fdGrowthPerHour: number;
  samples: Sample[];
};
export type SoakResult = {
  durationMs: number;
  probes: number;
  lines: number;
  alerts: number;
  historyLines: number;
  bans: number;
  statusReplies: number;
  statusFailures: number;
  portsentry: DaemonFigures;
  sentryban: DaemonFigures;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ip = (args: string[]) => execa('ip', args, { timeout: 15000 });

// RSS, its anonymous part (heap, stacks) and its file part (mostly the node binary's pages, shared with every
// other node process), and the open fds.
export type ProcFigures = { rssKiB: number; anonKiB: number; fileKiB: number; fds: number };
export const readProc = (pid: number): ProcFigures | null => {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { rssKiB: kib('VmRSS'), anonKiB: kib('RssAnon'), fileKiB: kib('RssFile'), fds };
  } catch {
    return null;
  }
};

// Least-squares slope of v over t (ms), per hour.
export const slopePerHour = (pts: readonly { t: number; v: number }[]): number => {
  if (pts.length < 2) return 0;
  const n = pts.length;
  const mt = pts.reduce((s, p) => s + p.t, 0) / n;
  const mv = pts.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3_600_000;
};

// The probe driver, run inside the attacker namespace: round-robin over sources and ports at `rate` per second,
// bounded by count and time; prints how many connects completed.
const DRIVER = `
import net from 'node:net';
const [dst, portsCsv, srcCsv, rate, durMs] = process.argv.slice(2);
const ports = portsCsv.split(',').map(Number), srcs = srcCsv.split(',');
const end = Date.now() + Number(durMs), max = Math.ceil(Number(rate) * Number(durMs) / 1000);
const start = Date.now();
let sent = 0, done = 0;
const one = (i) => new Promise((res) => {
  const s = net.connect({ host: dst, port: ports[i % ports.length], localAddress: srcs[i % srcs.length] });
  const fin = () => { s.destroy(); res(); };
  s.on('connect', () => { done++; }); s.on('close', fin); s.on('error', fin); s.setTimeout(3000, fin);
});
const pending = [];
while (sent < max && Date.now() < end) {
  const due = Math.floor((Date.now() - start) * Number(rate) / 1000);
  while (sent < due && sent < max) pending.push(one(sent++));
  await new Promise((r) => setTimeout(r, 20));
}
await Promise.all(pending);
console.log(done);
`;

const fitOf = (samples: Sample[], from: number) => {
  const kept = samples.filter((s) => s.t >= from);
  const slope = (k: 'rssKiB' | 'anonKiB' | 'fileKiB', xs = kept): number =>
    slopePerHour(xs.map((s) => ({ t: s.t, v: s[k] / 1024 })));
  // Whether growth levels off: the slope in each quarter of the time after the warm-up.
  const end = kept.at(-1)?.t ?? from;
  const quarters = [0, 1, 2, 3].map((q) => {
    const a = from + ((end - from) * q) / 4;
    const b = from + ((end - from) * (q + 1)) / 4;
    return slope(
      'rssKiB',
      kept.filter((s) => s.t >= a && s.t <= b),
    );
  });
  return {
    rss: slope('rssKiB'),
    anon: slope('anonKiB'),
    file: slope('fileKiB'),
    quarters,
    fds: slopePerHour(kept.map((s) => ({ t: s.t, v: s.fds }))),
  };
};

export const runSoak = async (o: SoakOptions): Promise<SoakResult> => {
  const say = o.log ?? (() => {});
  const work = mkdtempSync(join(tmpdir(), 'soak-'));
  chmodSync(work, 0o755);
  const id = randomBytes(3).toString('hex');
  const victim = `sk-${id}-v`;
  const attacker = `sk-${id}-a`;
  const procs: ResultPromise[] = [];
  const pids: number[] = [];
  const alerts: string[] = [];
  const col = unix.createSocket('unix_dgram', (b) => {
    alerts.push(b.toString('latin1'));
  });
  col.on('error', () => {});
  const logSock = join(work, 'log.sock');
  col.bind(logSock);
  chmodSync(logSock, 0o666);
  const timers: NodeJS.Timeout[] = [];
  try {
    // The lab: victim 192.0.2.1, attacker 192.0.2.2 plus the probe sources 198.51.100.10..69 (routed via .2).
    await ip(['netns', 'add', victim]);
    await ip(['netns', 'add', attacker]);
    await ip(['link', 'add', `skv${id}`, 'type', 'veth', 'peer', 'name', `ska${id}`]);
    await ip(['link', 'set', `skv${id}`, 'netns', victim]);
    await ip(['link', 'set', `ska${id}`, 'netns', attacker]);
    for (const [ns, dev, a] of [
      [victim, `skv${id}`, '192.0.2.1'],
      [attacker, `ska${id}`, '192.0.2.2'],
    ] as const) {
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${a}/24`, 'dev', dev]);
    }
    const srcs = Array.from({ length: SOURCES }, (_, i) => `198.51.100.${10 + i}`);
    for (const s of srcs) await ip(['-n', attacker, 'addr', 'add', `${s}/32`, 'dev', `ska${id}`]);
    await ip(['-n', victim, 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.2']);

    const limitMs = o.durationMs + 2 * o.idleMs + o.settleMs + 120_000; // the daemons' own bound
    // portsentry -tcp: log-only blocking (BLOCK_TCP 1 with KILL_RUN_CMD /bin/true, so every alarm spawns).
    const ps = join(work, 'portsentry');
    mkdirSync(ps);
    writeFileSync(join(ps, 'ignore'), '# none\n');
    writeFileSync(
      join(ps, 'portsentry.conf'),
      [
        `TCP_PORTS="${TRAP_PORTS.join(',')}"`,
        'UDP_PORTS="9"',
        `IGNORE_FILE="${ps}/ignore"`,
        `HISTORY_FILE="${ps}/portsentry.history"`,
        `BLOCKED_FILE="${ps}/portsentry.blocked"`,
        'RESOLVE_HOST="0"',
        'BLOCK_TCP="1"',
        'BLOCK_UDP="0"',
        'SCAN_TRIGGER="0"',
        'KILL_RUN_CMD="/bin/true $TARGET$"',
        '',
      ].join('\n'),
    );
    writeFileSync(join(ps, 'portsentry.history'), '');
    const psProc = execa(
      'ip',
      [
        'netns',
        'exec',
        victim,
        'unshare',
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$0" /dev/log && exec "$@"',
        logSock,
        process.execPath,
        PORTSENTRY,
        '-tcp',
        '--foreground',
        '--config',
        join(ps, 'portsentry.conf'),
        '--hosts-deny',
        join(ps, 'hosts.deny'),
      ],
      { reject: false, buffer: false, stdio: 'ignore', timeout: limitMs, killSignal: 'SIGKILL' },
    );
    procs.push(psProc);

    // sentryban: jails portsentry (the history file) and app (app.log), both to a hosts.deny file.
    const sb = join(work, 'sentryban');
    mkdirSync(join(sb, 'jails'), { recursive: true });
    writeFileSync(
      join(sb, 'sentryban.yaml'),
      'state: state\nlogtarget: sentryban.log\nactions:\n  deny:\n    backend: hostsdeny\n    file: hosts.deny\n',
    );
    writeFileSync(
      join(sb, 'jails', 'portsentry.yaml'),
      `portsentry:\n  filter: portsentry\n  logpath: ${ps}/portsentry.history\n` +
        '  maxretry: 1\n  bantime: 20s\n  ignoreself: false\n  actions: [deny]\n',
    );
    writeFileSync(
      join(sb, 'jails', 'app.yaml'),
      "app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n" +
        '  maxretry: 3\n  findtime: 10m\n  bantime: 15s\n  ignoreself: false\n  actions: [deny]\n',
    );
    const appLog = join(sb, 'app.log');
    writeFileSync(appLog, '');
    let sbOut = '';
    const sbProc = execa(process.execPath, [SENTRYBAN, 'daemon', '--foreground', '--config', sb], {
      reject: false,
      buffer: false,
      timeout: limitMs,
      killSignal: 'SIGKILL',
    });
    sbProc.stdout?.on('data', (c: Buffer) => {
      sbOut += c.toString();
    });
    sbProc.stderr?.on('data', (c: Buffer) => {
      sbOut += c.toString();
    });
    procs.push(sbProc);

    const deadline = Date.now() + 30_000;
    while (!(sbOut.includes('sentryban: ready') && alerts.some((a) => a.includes('PortSentry is now active')))) {
      if (Date.now() > deadline || sbProc.exitCode !== null || psProc.exitCode !== null) {
        throw new Error(`daemons did not start; sentryban said:\n${sbOut}\nportsentry said:\n${alerts.join('')}`);
      }
      await sleep(50);
    }
    const psPid = psProc.pid as number;
    const sbPid = sbProc.pid as number;
    if (!readFileSync(`/proc/${psPid}/cmdline`, 'latin1').includes('portsentry')) {
      throw new Error('portsentry pid not found');
    }
    pids.push(psPid, sbPid);
    say(`soak: started (portsentry pid ${psPid}, sentryban pid ${sbPid}), ${o.idleMs / 1000} s idle first`);
    await sleep(o.idleMs);
    const idle = { ps: readProc(psPid), sb: readProc(sbPid) };

    // Load: the probe driver, the log writer, the unblocker, the rotation, and the sampler (with a status query).
    const t0 = Date.now();
    writeFileSync(join(work, 'driver.mjs'), DRIVER);
    const driver = execa(
      'ip',
      [
        'netns',
        'exec',
        attacker,
        process.execPath,
        join(work, 'driver.mjs'),
        '192.0.2.1',
        TRAP_PORTS.join(','),
        srcs.join(','),
        String(o.probeRate),
        String(o.durationMs),
      ],
      { reject: false, timeout: o.durationMs + 60_000 },
    );
    let lines = 0;
    const maxLines = Math.ceil((o.lineRate * o.durationMs) / 1000);
    timers.push(
      setInterval(() => {
        const due = Math.min(maxLines, Math.floor(((Date.now() - t0) * o.lineRate) / 1000));
        let text = '';
        const at = new Date().toISOString();
        for (; lines < due; lines++) {
          text +=
            lines % 10 === 0
              ? `${at} auth failure from 203.0.113.${1 + ((lines / 10) % 200)}\n`
              : `${at} request ok from 192.0.2.${1 + (lines % 250)} GET /index.html 200\n`;
        }
        if (text) appendFileSync(appLog, text);
      }, 100),
    );
    timers.push(
      setInterval(() => {
        writeFileSync(join(ps, 'portsentry.blocked.tcp'), '');
      }, o.unblockMs),
    );
    timers.push(
      setInterval(() => {
        renameSync(appLog, `${appLog}.1`);
        writeFileSync(appLog, '');
      }, o.rotateMs),
    );
    const samples: { ps: Sample[]; sb: Sample[] } = { ps: [], sb: [] };
    let statusReplies = 0;
    let statusFailures = 0;
    const sample = async (): Promise<void> => {
      const t = Date.now() - t0;
      const a = readProc(psPid);
      const b = readProc(sbPid);
      if (a) samples.ps.push({ t, ...a });
      if (b) samples.sb.push({ t, ...b });
      const r = await request(join(sb, 'state', 'sentryban.sock'), 'status', {}, 5000);
      if (r.ok) statusReplies++;
      else statusFailures++;
      if (samples.sb.length % 6 === 0) {
        say(
          `soak: ${Math.round(t / 1000)} s: portsentry ${((a?.rssKiB ?? 0) / 1024).toFixed(1)} MiB ${a?.fds} fds, ` +
            `sentryban ${((b?.rssKiB ?? 0) / 1024).toFixed(1)} MiB ${b?.fds} fds, ` +
            `${alerts.length} syslog lines, ${lines} log lines`,
        );
      }
    };
    await sample();
    while (Date.now() - t0 < o.durationMs) {
      await sleep(Math.max(0, o.sampleMs - ((Date.now() - t0) % o.sampleMs)));
      await sample();
    }
    for (const t of timers.splice(0)) clearInterval(t);
    const probes = Number(String((await driver).stdout).trim()) || 0;
    const runMs = Date.now() - t0;
    // Quiet again: the figures after the load, once the fds are back at their idle count (or settleMs passed).
    const settle = Date.now() + o.settleMs;
    let after = { ps: readProc(psPid), sb: readProc(sbPid) };
    while (Date.now() < settle && (after.ps?.fds !== idle.ps?.fds || after.sb?.fds !== idle.sb?.fds)) {
      await sleep(200);
      after = { ps: readProc(psPid), sb: readProc(sbPid) };
    }
    const historyLines = readFileSync(join(ps, 'portsentry.history'), 'latin1').split('\n').filter(Boolean).length;
    // Every line leaves an audit row: a long run's audit is over execa's default 100 MB buffer (the 95-minute run
    // printed "bans 0" for that), so the buffer is sized for it and a failed listing is an error, not a count.
    const bansRow = await execa(process.execPath, [SENTRYBAN, 'audit', '--limit', '100000000', '--config', sb], {
      maxBuffer: 2 ** 32,
    });
    const bans = String(bansRow.stdout)
      .split('\n')
      .filter((l) => / ban /.test(l)).length;
    const figures = (name: string, pid: number, s: Sample[], i: typeof idle.ps, a: typeof after.ps): DaemonFigures => {
      const fit = fitOf(s, o.warmupMs);
      return {
        name,
        pid,
        alive: a !== null,
        idle: i,
        idleRssKiB: i?.rssKiB ?? NaN,
        idleFds: i?.fds ?? NaN,
        afterRssKiB: a?.rssKiB ?? NaN,
        afterFds: a?.fds ?? NaN,
        rssGrowthMiBPerHour: fit.rss,
        anonGrowthMiBPerHour: fit.anon,
        fileGrowthMiBPerHour: fit.file,
        quarterGrowthMiBPerHour: fit.quarters,
        fdGrowthPerHour: fit.fds,
        samples: s,
      };
    };
    return {
      durationMs: runMs,
      probes,
      lines,
      historyLines,
      bans,
      statusReplies,
      statusFailures,
      alerts: alerts.filter((a) => a.includes('attackalert: Connect from host')).length,
      portsentry: figures('portsentry', psPid, samples.ps, idle.ps, after.ps),
      sentryban: figures('sentryban', sbPid, samples.sb, idle.sb, after.sb),
    };
  } finally {
    for (const t of timers) clearInterval(t);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const stop = Date.now() + 10_000;
    while (procs.some((p) => p.exitCode === null) && Date.now() < stop) await sleep(50);
    for (const p of procs) {
      if (p.exitCode === null && p.pid) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    col.close();
    await ip(['netns', 'del', victim]).catch(() => {});
    await ip(['netns', 'del', attacker]).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
};

const mib = (kib: number): string => (kib / 1024).toFixed(1);
const signed = (n: number, d = 1): string => `${n >= 0 ? '+' : ''}${n.toFixed(d)}`;
const range = (xs: number[], f: (n: number) => string): string => `${f(Math.min(...xs))}-${f(Math.max(...xs))}`;

export const formatSoak = (r: SoakResult): string[] => [
  `soak: ${(r.durationMs / 60000).toFixed(1)} min, probes ${r.probes} ` +
    `(alerts ${r.alerts}, history lines ${r.historyLines}), ` +
    `log lines ${r.lines}, bans ${r.bans}, status queries ${r.statusReplies} ok / ${r.statusFailures} failed`,
  ...[r.portsentry, r.sentryban].map(
    (d) =>
      `soak: ${d.name}: alive ${d.alive ? 'yes' : 'NO'}, ` +
      `idle RSS ${mib(d.idleRssKiB)} MiB (anon ${mib(d.idle?.anonKiB ?? NaN)}, file ${mib(d.idle?.fileKiB ?? NaN)}; ` +
      `${d.idleFds} fds), after load ${mib(d.afterRssKiB)} MiB (${d.afterFds} fds), ` +
      `growth after warm-up ${signed(d.rssGrowthMiBPerHour)} MiB/h (anon ${signed(d.anonGrowthMiBPerHour)}, ` +
      `file ${signed(d.fileGrowthMiBPerHour)}; by quarter ${d.quarterGrowthMiBPerHour.map((q) => signed(q)).join(' ')}), ` +
      `${signed(d.fdGrowthPerHour)} fds/h ` +
      `(RSS ${range(
        d.samples.map((s) => s.rssKiB),
        mib,
      )} MiB, fds ${range(
        d.samples.map((s) => s.fds),
        String,
      )}, ` +
      `${d.samples.length} samples)`,
  ),
];

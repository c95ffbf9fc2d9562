import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../../../src/sentryban/control/client.js';

// torn-state: real faults under the real daemon (bin/sentryban on dist/), each in a private mount namespace whose
// /dev/log is a socket read here (nothing reaches the machine's syslog, nothing is mounted on the host):
// - disk full: the state folder is a small tmpfs, filled while the daemon runs, then freed;
// - read-only: the state folder is a read-only bind mount when the daemon starts, remounted rw later (a running
//   daemon holds its files open for writing, so the kernel refuses to remount under it: EBUSY);
// - a -wal cut mid-frame, a -wal whose last frame is half-written, half a page of the main file overwritten:
//   made from a copy of a running daemon's store, then opened by a new daemon.
// Backend: hosts.deny (a file outside the state folder), so the "firewall" is read back exactly.
type DgramSock = { bind(p: string): void; close(): void; on(ev: string, fn: (...a: unknown[]) => void): void };
type Unix = { createSocket(t: string, onMessage: (b: Buffer) => void): DgramSock };
const unix = createRequire(import.meta.url)('unix-dgram') as Unix;
export const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..').replace(/\/dist-bench$/, '');
const bin = join(repo, 'bin/sentryban');

export type CaseFigures = {
  fault: string;
  bans: number;
  kept: number;
  lost: number;
  logLines: string[];
  syslogLines: string[];
  daemonUp: boolean;
  writesResumed: boolean;
  firewallMatches: boolean;
  expiredUnbanned: boolean | null;
};
type Mode = 'plain' | 'full' | 'ro' | 'ext4';
type Daemon = { proc: ResultPromise; pid: number; out: () => string; dir: string; syslog: string[]; close: () => void };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const waitFor = async <T>(probe: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`torn-state: timed out waiting for ${what}`);
    await sleep(25);
  }
};

const writeConfig = (dir: string): void => {
  mkdirSync(join(dir, 'jails'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    [
      'state: state',
      `logtarget: [${join(dir, 'sentryban.log')}, SYSLOG]`,
      'sysloglevel: NOTICE',
      `socket: ${join(dir, 'run', 's.sock')}`,
      'checkinterval: 0',
      'actions:',
      `  deny: {backend: hostsdeny, file: ${join(dir, 'hosts.deny')}}`,
      '',
    ].join('\n'),
  );
  const jail = (name: string, bantime: string): string =>
    [
      `${name}:`,
      `  logpath: ${name}.log`,
      "  failregex: 'auth failure from <HOST>$'",
      '  maxretry: 1',
      `  bantime: ${bantime}`,
      '  ignoreself: false',
      '  actions: [deny]',
      '',
    ].join('\n');
  writeFileSync(join(dir, 'jails', 'j.yaml'), jail('j', '1h'));
  writeFileSync(join(dir, 'jails', 'short.yaml'), jail('short', '2s'));
  for (const f of ['j.log', 'short.log']) if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), '');
};

// The namespace's setup is a fixed script; data only in its arguments.
const SETUP =
  'set -e; log="$0"; state="$1"; mode="$2"; size="$3"; shift 3; mount --bind "$log" /dev/log; ' +
  'case "$mode" in full) mount -t tmpfs -o "size=$size,mode=0700" tmpfs "$state";; ' +
  'ro) mount --bind "$state" "$state"; mount -o remount,bind,ro "$state";; ' +
  'ext4) mount -o loop,errors=remount-ro "$size" "$state";; esac; exec "$@"';

// Every daemon started, so that a failed case still ends them (by pid) and closes their syslog sockets.
const running = new Set<Daemon>();
const endAll = async (): Promise<void> => {
  for (const d of running) {
    if (d.proc.exitCode === null) {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await d.proc.catch(() => undefined);
    d.close();
  }
  running.clear();
};

// A tmpfs for `bans` bans: the -wal grows by about 40 KiB per ban until a checkpoint (10,000 pages).
const tmpfsSize = (bans: number): string => `${1024 + bans * 64}k`;

const start = async (dir: string, mode: Mode, size = '1m'): Promise<Daemon> => {
  const syslog: string[] = [];
  const sockPath = join(dir, 'log.sock');
  rmSync(sockPath, { force: true });
  const sock = unix.createSocket('unix_dgram', (b: Buffer) => {
    syslog.push(b.toString('latin1').replace(/^<(\d+)>.*?sentryban\[\d+\]: /, '<$1>'));
  });
  sock.on('error', () => {});
  sock.bind(sockPath);
  chmodSync(sockPath, 0o666);
  const argv = [
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    SETUP,
    sockPath,
    join(dir, 'state'),
    mode,
    size,
    'node',
    bin,
    'daemon',
    '--foreground',
    '--config',
    dir,
  ];
  const proc = execa('unshare', argv, { reject: false, buffer: false, timeout: 300_000, killSignal: 'SIGKILL' });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const close = (): void => {
    try {
      sock.close();
    } catch {
      /* closed */
    }
  };
  const ready = (): boolean => out.includes('sentryban: ready') || proc.exitCode !== null;
  await waitFor(ready, 'daemon ready').catch(() => undefined);
  if (!out.includes('sentryban: ready')) {
    proc.kill('SIGKILL');
    close();
    throw new Error(`torn-state: daemon did not start:\n${out}`);
  }
  const d = { proc, pid: proc.pid ?? -1, out: () => out, dir, syslog, close };
  running.add(d);
  return d;
};

// Stop with SIGTERM; true when it exits 0.
const stop = async (d: Daemon): Promise<boolean> => {
  process.kill(d.pid, 'SIGTERM');
  const r = await d.proc;
  d.close();
  running.delete(d);
  return r.exitCode === 0;
};

type Status = { jails: { jail: string; banned: number }[]; store: { state: string; queued: number } };
const status = async (d: Daemon): Promise<Status | null> => {
  const r = await request(join(d.dir, 'run', 's.sock'), 'status', {});
  return r.ok ? (r.result as Status) : null;
};
const banned = async (d: Daemon, jail: string): Promise<number> =>
  (await status(d))?.jails.find((j) => j.jail === jail)?.banned ?? -1;
const deny = (dir: string): string[] => {
  let text: string;
  try {
    text = readFileSync(join(dir, 'hosts.deny'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('ALL: '))
    .map((l) => l.slice(5))
    .sort();
};
const addr = (i: number): string => `192.0.2.${i + 1}`;
// One line, then wait for its ban: one ban per transaction.
const banOne = async (d: Daemon, jail: string, a: string): Promise<void> => {
  const before = await banned(d, jail);
  appendFileSync(join(d.dir, `${jail}.log`), `auth failure from ${a}\n`);
  await waitFor(async () => (await banned(d, jail)) > before, `ban of ${a}`);
  await waitFor(() => deny(d.dir).includes(a), `${a} in hosts.deny`);
};
const dbLines = (d: Daemon): string[] =>
  d
    .out()
    .split('\n')
    .filter((l) => / fail2ban\.database +\[\d+\]: /.test(l))
    .map((l) => l.replace(/^.*?\]: /, ''));
const dbSyslog = (d: Daemon): string[] => d.syslog.filter((l) => /^<\d+>(ERROR|WARNING|NOTICE) +\/.*sqlite3/.test(l));
const activeIn = (file: string): string[] => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const sql = "SELECT target FROM bans WHERE state = 'active' AND jail = 'j'";
    const rows = db.prepare(sql).all() as { target: string }[];
    return rows.map((r) => r.target.replace(/\/32$/, '')).sort();
  } finally {
    db.close();
  }
};
const nsenter = (d: Daemon, ...argv: string[]) =>
  execa('nsenter', ['-t', String(d.pid), '-m', ...argv], { timeout: 30_000 });
const made = (n: number): string[] => Array.from({ length: n }, (_, i) => addr(i));
const same = (a: string[], b: string[]): boolean => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
// The figures of a case: `made` the bans made before the damage or during the fault, `kept` those the store has after.
type Seen = {
  made: string[];
  kept: string[];
  fw: string[];
  fwWanted: string[];
  up: boolean;
  after: string;
  expired: boolean | null;
};
const figures = (fault: string, d: Daemon, o: Seen): CaseFigures => ({
  fault,
  bans: o.made.length,
  kept: o.made.filter((a) => o.kept.includes(a)).length,
  lost: o.made.filter((a) => !o.kept.includes(a)).length,
  logLines: dbLines(d),
  syslogLines: dbSyslog(d),
  daemonUp: o.up,
  writesResumed: o.kept.includes(o.after),
  firewallMatches: same(o.fw, o.fwWanted),
  expiredUnbanned: o.expired,
});
const tmp = (name: string): string => mkdtempSync(join(tmpdir(), `torn-${name}-`));

// After the fault: the store is writable again, one more ban, then what the store, the firewall and the daemon hold.
const afterFault = async (
  d: Daemon,
  dir: string,
  state: string,
  n: number,
  fault: string,
  expired: boolean,
): Promise<CaseFigures> => {
  await waitFor(async () => (await status(d))?.store.state === 'ok', 'store writable again', 40_000);
  await banOne(d, 'j', addr(n));
  const copy = join(dir, 'copy');
  mkdirSync(copy);
  await nsenter(d, 'cp', join(state, 'sentryban.sqlite3'), join(state, 'sentryban.sqlite3-wal'), copy);
  const kept = activeIn(join(copy, 'sentryban.sqlite3'));
  const up = (await status(d)) !== null && d.proc.exitCode === null;
  const fw = deny(dir);
  const clean = await stop(d);
  const wanted = [...made(n), addr(n)];
  return figures(fault, d, { made: made(n), kept, fw, fwWanted: wanted, up: up && clean, after: addr(n), expired });
};

// The disk fills while the daemon runs: half the bans before, half during (one of them a short ban that expires
// during the fault); then the space comes back.
const diskFull = async (n: number, size = tmpfsSize(n + 2)): Promise<CaseFigures> => {
  const dir = tmp('full');
  try {
    writeConfig(dir);
    const d = await start(dir, 'full', size);
    const half = Math.floor(n / 2);
    for (let i = 0; i < half; i++) await banOne(d, 'j', addr(i));
    await nsenter(d, 'sh', '-c', 'dd if=/dev/zero of="$0/fill" bs=4k 2>/dev/null; true', join(dir, 'state'));
    for (let i = half; i < n; i++) await banOne(d, 'j', addr(i));
    await banOne(d, 'short', '198.51.100.7');
    const expired = await waitFor(() => !deny(dir).includes('198.51.100.7'), 'short ban lifted while the disk is full');
    const during = (await status(d))?.store.state;
    await nsenter(d, 'rm', '-f', join(dir, 'state', 'fill'));
    return await afterFault(
      d,
      dir,
      join(dir, 'state'),
      n,
      `disk full (${during}; tmpfs ${size})`,
      expired && during === 'full',
    );
  } finally {
    await endAll();
    rmSync(dir, { recursive: true, force: true });
  }
};

// The state folder is an ext4 image (errors=remount-ro) that the kernel turns read-only under the running daemon
// (an error raised through sysfs, as a failing disk would); the admin then unmounts it, runs e2fsck, mounts it.
const TRIGGER = 'echo torn-state > "/sys/fs/ext4/$(basename "$(findmnt -n -o SOURCE "$0")")/trigger_fs_error"';
const ext4 = async (n: number): Promise<CaseFigures> => {
  const dir = tmp('ext4');
  try {
    writeConfig(dir);
    const img = join(dir, 'state.img');
    await execa('truncate', ['-s', '16M', img]);
    await execa('mkfs.ext4', ['-q', '-F', img], { timeout: 30_000 });
    const d = await start(dir, 'ext4', img);
    const state = join(dir, 'state');
    const half = Math.floor(n / 2);
    for (let i = 0; i < half; i++) await banOne(d, 'j', addr(i));
    await nsenter(d, 'sh', '-c', TRIGGER, state);
    for (let i = half; i < n; i++) await banOne(d, 'j', addr(i));
    await banOne(d, 'short', '198.51.100.7');
    const expired = await waitFor(() => !deny(dir).includes('198.51.100.7'), 'short ban lifted while read-only');
    const during = (await status(d))?.store.state;
    await nsenter(d, 'umount', state); // refused (EBUSY) if the daemon still held the file open
    const fsck = await execa('e2fsck', ['-fy', img], { reject: false, timeout: 60_000 });
    if ((fsck.exitCode ?? 8) > 2) throw new Error(`torn-state: e2fsck ${img}: exit ${fsck.exitCode}: ${fsck.stdout}`);
    await nsenter(d, 'mount', '-o', 'loop,errors=remount-ro', img, state);
    return await afterFault(
      d,
      dir,
      state,
      n,
      `ext4 turned read-only while running (${during})`,
      expired && during === 'read-only',
    );
  } finally {
    await endAll();
    rmSync(dir, { recursive: true, force: true });
  }
};

// A store with `n` bans made by a daemon that then stops cleanly.
const seed = async (dir: string, n: number, keepRunning: boolean): Promise<Daemon | null> => {
  writeConfig(dir);
  const d = await start(dir, 'plain');
  for (let i = 0; i < n; i++) await banOne(d, 'j', addr(i));
  if (keepRunning) return d;
  await stop(d);
  return null;
};

// The state folder is read-only when the daemon starts; bans go on; then it is remounted rw.
const readOnly = async (n: number): Promise<CaseFigures> => {
  const dir = tmp('ro');
  try {
    const half = Math.floor(n / 2);
    await seed(dir, half, false);
    const d = await start(dir, 'ro');
    const restored = await banned(d, 'j');
    for (let i = half; i < n; i++) await banOne(d, 'j', addr(i));
    await banOne(d, 'short', '198.51.100.7');
    const expired = await waitFor(() => !deny(dir).includes('198.51.100.7'), 'short ban lifted while read-only');
    const during = (await status(d))?.store.state;
    await nsenter(d, 'mount', '-o', 'remount,bind,rw', join(dir, 'state'));
    await waitFor(async () => (await status(d))?.store.state === 'ok', 'store writable again', 40_000);
    await banOne(d, 'j', addr(n));
    const up = (await status(d)) !== null && d.proc.exitCode === null;
    const fw = deny(dir);
    const clean = await stop(d);
    const kept = activeIn(join(dir, 'state', 'sentryban.sqlite3'));
    return figures(`read-only at start (${during}; ${restored} restored)`, d, {
      made: made(n),
      kept,
      fw,
      fwWanted: [...made(n), addr(n)],
      up: up && clean,
      after: addr(n),
      expired: expired && during === 'read-only',
    });
  } finally {
    await endAll();
    rmSync(dir, { recursive: true, force: true });
  }
};

type Damage = { name: string; apply: (db: string) => void };
const FRAME_HEADER = 24;
const walLayout = (wal: string): { pageSize: number; frames: number } => {
  const b = readFileSync(wal);
  const pageSize = b.readUInt32BE(8);
  return { pageSize, frames: Math.floor((b.length - 32) / (FRAME_HEADER + pageSize)) };
};
const overwrite = (file: string, at: number, bytes: Buffer): void => {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
};
export const DAMAGES: readonly Damage[] = [
  {
    name: 'wal cut mid-frame',
    apply: (db) => {
      const w = `${db}-wal`;
      truncateSync(w, statSync(w).size - Math.floor(walLayout(w).pageSize / 2) - 7);
    },
  },
  {
    name: 'wal last frame half-written',
    apply: (db) => {
      const w = `${db}-wal`;
      const { pageSize, frames } = walLayout(w);
      const last = 32 + (frames - 1) * (FRAME_HEADER + pageSize) + FRAME_HEADER;
      overwrite(w, last + pageSize / 2, Buffer.alloc(pageSize / 2, 0));
    },
  },
  {
    name: 'main file: half a page of the bans table overwritten',
    apply: (db) => {
      const h = new Database(db, { readonly: true });
      const { rootpage } = h.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'bans'").get() as {
        rootpage: number;
      };
      const pageSize = h.pragma('page_size', { simple: true }) as number;
      h.close();
      overwrite(db, (rootpage - 1) * pageSize + pageSize / 2, Buffer.alloc(pageSize / 2, 0x5a));
    },
  },
];

// A running daemon's store (db + -wal) is copied, damaged, and opened by a new daemon.
const torn = async (n: number, damage: Damage): Promise<CaseFigures> => {
  const src = tmp('src');
  const dir = tmp('torn');
  try {
    const main = damage.name.startsWith('main');
    const running = await seed(src, n, !main); // a damaged main file: from a cleanly stopped store (all in it)
    writeConfig(dir);
    for (const ext of main ? [''] : ['', '-wal']) {
      copyFileSync(join(src, 'state', `sentryban.sqlite3${ext}`), join(dir, 'state', `sentryban.sqlite3${ext}`));
    }
    if (running) await stop(running);
    damage.apply(join(dir, 'state', 'sentryban.sqlite3'));
    const d = await start(dir, 'plain');
    const restored = await banned(d, 'j');
    await banOne(d, 'j', addr(n));
    const up = (await status(d)) !== null && d.proc.exitCode === null;
    const fw = deny(dir);
    const clean = await stop(d);
    const kept = activeIn(join(dir, 'state', 'sentryban.sqlite3'));
    const inStore = made(n).filter((a) => kept.includes(a));
    return figures(`${damage.name} (${restored} restored)`, d, {
      made: made(n),
      kept,
      fw,
      fwWanted: [...inStore, addr(n)],
      up: up && clean,
      after: addr(n),
      expired: null,
    });
  } finally {
    await endAll();
    rmSync(src, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
};

export const runDiskFull = diskFull;
export const runReadOnly = readOnly;
export const runExt4ReadOnly = ext4;
export const runTorn = torn;

export const formatFigures = (f: CaseFigures): string =>
  `torn-state: ${f.fault}: bans ${f.bans}, kept ${f.kept}, lost ${f.lost}, ` +
  `log lines ${f.logLines.length}, syslog lines ${f.syslogLines.length}, daemon stayed up ${yes(f.daemonUp)}, ` +
  `writes resumed ${yes(f.writesResumed)}, firewall matches ${yes(f.firewallMatches)}` +
  `${f.expiredUnbanned === null ? '' : `, expired ban unbanned during the fault ${yes(f.expiredUnbanned)}`}`;
const yes = (b: boolean): string => (b ? 'yes' : 'NO');

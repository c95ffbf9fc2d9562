import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../helpers/netns.js';
import { waitFor } from '../../helpers/wait.js';

// Running a listener inside a lab namespace: ours (bin/portsentry in the foreground) and the real 1.2.
// The repository root: the nearest directory up from here with package.json (also from dist-bench/ for benches).
const findRoot = (from: string): string => {
  for (let d = from; d !== dirname(d); d = dirname(d))
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin'))) return d;
  return resolve(from, '../../..');
};
const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const BIN = join(ROOT, 'bin', 'portsentry');

export type Daemon = { pids: () => number[]; stop: () => Promise<void> };

// With logSock, the daemon runs in a private mount namespace where that socket is bound over /dev/log, so its
// syslog lines reach the test (test/portsentry/side.ts Collector) and never depend on the machine's syslog.
export const withLog = (logSock: string | undefined, argv: string[]): string[] =>
  logSock
    ? [
        'unshare',
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$0" /dev/log && exec "$@"',
        logSock,
        ...argv,
      ]
    : argv;

// A conf in the 1.2 shape with files under dir; extra lines override nothing (1.2 takes the first match),
// so callers put their keys in `keys` instead.
export const writeConf = (path: string, dir: string, keys: Record<string, string>): void => {
  const base: Record<string, string> = {
    TCP_PORTS:
      '1,11,15,79,111,119,143,540,635,1080,1524,2000,5742,6667,12345,12346,20034,27665,31337,32771,32772,32773,32774,40421,49724,54320',
    UDP_PORTS: '1,7,9,69,161,162,513,635,640,641,700,37444,34555,31335,32770,32771,32772,32773,32774,31337,54321',
    ADVANCED_PORTS_TCP: '1024',
    ADVANCED_PORTS_UDP: '1024',
    ADVANCED_EXCLUDE_TCP: '113,139',
    ADVANCED_EXCLUDE_UDP: '520,138,137,67',
    IGNORE_FILE: join(dir, 'portsentry.ignore'),
    HISTORY_FILE: join(dir, 'portsentry.history'),
    BLOCKED_FILE: join(dir, 'portsentry.blocked'),
    RESOLVE_HOST: '0',
    BLOCK_TCP: '0',
    BLOCK_UDP: '0',
    SCAN_TRIGGER: '0',
    ...keys,
  };
  writeFileSync(
    path,
    Object.entries(base)
      .map(([k, v]) => `${k}="${v}"\n`)
      .join(''),
  );
  writeFileSync(join(dir, 'portsentry.ignore'), '127.0.0.1/32\n0.0.0.0\n');
};

export const pidsIn = async (ns: string): Promise<number[]> => {
  const { execa } = await import('execa');
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false, timeout: 5000 });
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 0 && n !== process.pid);
};

const killPids = async (pids: number[]): Promise<void> => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  await waitFor(
    () =>
      pids.every((p) => {
        try {
          process.kill(p, 0);
          return false;
        } catch {
          return true;
        }
      }),
    { timeoutMs: 5000, what: 'daemon exit' },
  ).catch(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
};

// Ours in the foreground, every log line also on stdout (collected in `lines`).
export const startOurs = async (
  lab: Lab,
  ns: string,
  mode: string,
  conf: string,
  hostsDeny: string,
  logSock?: string,
): Promise<Daemon & { lines: string[] }> => {
  const lines: string[] = [];
  const argv = withLog(logSock, [
    'node',
    BIN,
    `-${mode}`,
    '--foreground',
    '--stdout',
    '--config',
    conf,
    '--hosts-deny',
    hostsDeny,
  ]);
  const proc = lab.run(ns, argv, { reject: false, buffer: false, timeout: 600000 });
  let rest = '';
  proc.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString('latin1')).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  await waitFor(() => lines.some((l) => l.includes('is now active and listening') || l.includes('Shutting down')), {
    timeoutMs: 30000,
    what: `ours -${mode} to start`,
  });
  return {
    lines,
    pids: () => (proc.pid ? [proc.pid] : []),
    stop: async () => {
      if (proc.pid) await killPids([proc.pid]);
      await proc;
    },
  };
};

// The real 1.2: it reads only /etc/portsentry/portsentry.conf (callers hold withSystemFiles) and detaches; its
// "starting" line carries the parent's pid, everything later the child's.
export const startReal = async (lab: Lab, ns: string, mode: string, logSock?: string): Promise<Daemon> => {
  const parent = lab.run(ns, withLog(logSock, ['/usr/sbin/portsentry', `-${mode}`]), { reject: false, timeout: 30000 });
  const parentPid = parent.pid ?? -1;
  await parent;
  await waitFor(async () => (await pidsIn(ns)).length > 0, { timeoutMs: 10000, what: '1.2 daemon' });
  const children = await pidsIn(ns);
  return { pids: () => [parentPid, ...children], stop: async () => killPids(await pidsIn(ns)) };
};

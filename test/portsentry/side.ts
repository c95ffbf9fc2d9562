// Runs one listener (the real PortSentry 1.2 or ours) in a fresh lab, with its own /dev/log bound to a socket
// this process reads, drives probes, stops it, and returns everything it left behind, normalised.
import { createRequire } from 'node:module';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '../helpers/netns.js';
import { waitFor, sleep } from '../helpers/wait.js';

const require = createRequire(import.meta.url);
type DgramSock = { bind(p: string): void; close(): void; on(ev: string, fn: (...a: unknown[]) => void): void };
const unix = require('unix-dgram') as { createSocket(t: string, onMessage: (b: Buffer) => void): DgramSock };

export const BIN = fileURLToPath(new URL('../../bin/portsentry', import.meta.url));
export const ORIGINAL = '/usr/sbin/portsentry';
export const SYSTEM_CONF = '/etc/portsentry/portsentry.conf';
export const SYSTEM_HOSTS_DENY = '/etc/hosts.deny';

export type Datagram = { pri: string; pid: number; message: string };
const HEADER = /^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d portsentry\[(\d+)\]: /s;

export const parseDatagram = (raw: string): Datagram | null => {
  const m = HEADER.exec(raw);
  return m ? { pri: m[1] as string, pid: Number(m[2]), message: raw.slice(m[0].length) } : null;
};

// A private syslog: a unix datagram socket collecting what the daemon sends to "its" /dev/log.
export class Collector {
  readonly path: string;
  readonly raw: string[] = [];
  readonly #sock: DgramSock;
  constructor(path: string) {
    rmSync(path, { force: true });
    this.path = path;
    this.#sock = unix.createSocket('unix_dgram', (b) => {
      this.raw.push(b.toString('latin1'));
    });
    this.#sock.on('error', () => {});
    this.#sock.bind(path);
    // Daemons run as nobody must be able to write to "their" /dev/log.
    chmodSync(path, 0o666);
  }
  get datagrams(): Datagram[] {
    return this.raw.map((r) => parseDatagram(r) ?? { pri: '?', pid: 0, message: `UNPARSED ${r}` });
  }
  // Wait until nothing new arrived for quietMs (bounded by timeoutMs).
  async settle(quietMs = 300, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let n = -1;
    while (Date.now() < deadline) {
      if (this.raw.length === n) return;
      n = this.raw.length;
      await sleep(quietMs);
    }
  }
  close(): void {
    try {
      this.#sock.close();
    } catch {
      /* closed */
    }
  }
}

export type Which = 'original' | 'ours';
export type SideResult = {
  syslog: string[]; // "<PRI> message" in order, message bytes exact (trailing \n kept)
  pids: number; // how many distinct PIDs wrote (1.2: parent + child)
  history: string[]; // lines without their time fields
  blocked: string[];
  hostsDeny: string;
  iptables: string[];
  launch: { exitCode: number | undefined; stdout: string; stderr: string };
};

export type SideSpec = {
  which: Which;
  mode: 'tcp' | 'udp';
  dir: string; // the state dir the conf points at (cleaned per side)
  conf: string;
  ignore: string | null; // ignore file text, null: no ignore file
  prepare?: (lab: Lab) => Promise<void>;
  probes: (lab: Lab, c: Collector) => Promise<void>;
  oursArgs?: string[]; // extra options for ours
  asNobody?: boolean; // run as uid/gid 65534 (the bind mount is made as root first)
  confPath?: string; // ours only: a private config passed with --config (no system file, no lock needed)
};

const stripTime = (l: string): string => l.replace(/^\d+ - \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d /, '');
const readLines = (p: string): string[] =>
  existsSync(p) ? readFileSync(p, 'latin1').split('\n').filter(Boolean).map(stripTime) : [];

const daemonArgv = (s: SideSpec): string[] => [
  ...(s.asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []),
  ...(s.which === 'original'
    ? [ORIGINAL, `-${s.mode}`]
    : [
        process.execPath,
        BIN,
        `-${s.mode}`,
        '--hosts-deny',
        join(s.dir, 'hosts.deny'),
        ...(s.confPath ? ['--config', s.confPath] : []),
        ...(s.oursArgs ?? []),
      ]),
];

// Bind our socket over /dev/log in a private mount namespace, then exec the daemon there.
const wrapped = (sock: string, argv: string[]): string[] => [
  'unshare',
  '-m',
  '--propagation',
  'private',
  'sh',
  '-c',
  'mount --bind "$0" /dev/log && exec "$@"',
  sock,
  ...argv,
];

export const runSide = async (s: SideSpec): Promise<SideResult> => {
  for (const f of ['history', `blocked.${s.mode}`, 'hosts.deny', 'ignore']) rmSync(join(s.dir, f), { force: true });
  writeFileSync(s.confPath ?? SYSTEM_CONF, s.conf);
  if (s.ignore !== null) writeFileSync(join(s.dir, 'ignore'), s.ignore);
  if (s.which === 'original') writeFileSync(SYSTEM_HOSTS_DENY, '');
  writeFileSync(join(s.dir, 'hosts.deny'), '');
  const collector = new Collector(join(s.dir, `log-${s.which}.sock`));
  const lab = await createLab();
  let pid = 0;
  try {
    await lab.addAttackerAddrs(['192.0.2.3', '192.0.2.4']);
    await s.prepare?.(lab);
    const launched = await lab.run(lab.victim, wrapped(collector.path, daemonArgv(s)), {
      reject: false,
      timeout: 30000,
    });
    const active = await waitFor(
      () => collector.datagrams.find((d) => /PortSentry is now active|PortSentry is shutting down/.test(d.message)),
      { timeoutMs: 15000, what: `${s.which} to start` },
    );
    pid = active.pid;
    await s.probes(lab, collector);
    await collector.settle();
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await waitFor(
      () => collector.datagrams.some((d) => d.pid === pid && d.message === 'adminalert: PortSentry is shutting down\n'),
      { timeoutMs: 10000, what: `${s.which} to stop` },
    );
    const rules = await lab.run(lab.victim, ['iptables', '-S', 'INPUT'], { reject: false });
    const hostsDeny = readFileSync(s.which === 'original' ? SYSTEM_HOSTS_DENY : join(s.dir, 'hosts.deny'), 'latin1');
    return {
      syslog: collector.datagrams.map((d) => `<${d.pri}> ${d.message}`),
      pids: new Set(collector.datagrams.map((d) => d.pid)).size,
      history: readLines(join(s.dir, 'history')),
      blocked: readLines(join(s.dir, `blocked.${s.mode}`)),
      hostsDeny,
      iptables: String(rules.stdout).split('\n'),
      launch: { exitCode: launched.exitCode, stdout: String(launched.stdout), stderr: String(launched.stderr) },
    };
  } finally {
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    collector.close();
    await lab.destroy();
  }
};

// Probes, run from the attacker namespace.
export const tcpConnect = (lab: Lab, port: number, src?: string) =>
  lab.run(lab.attacker, ['nc', '-z', '-w', '2', ...(src ? ['-s', src] : []), lab.victimV4, String(port)], {
    reject: false,
  });
export const udpSend = (lab: Lab, port: number, src?: string) =>
  lab.run(lab.attacker, ['nc', '-u', '-q', '0', '-w', '1', ...(src ? ['-s', src] : []), lab.victimV4, String(port)], {
    reject: false,
    input: 'x',
  });
export const nmap = (lab: Lab, kind: '-sT' | '-sU', ports: number[]) =>
  lab.run(
    lab.attacker,
    [
      'nmap',
      kind,
      '-n',
      '-Pn',
      '-r',
      '--max-parallelism',
      '1',
      '--max-retries',
      '0',
      '--host-timeout',
      '30s',
      '-p',
      ports.join(','),
      lab.victimV4,
    ],
    { reject: false },
  );

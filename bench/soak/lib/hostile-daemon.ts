import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { FAMILIES, lineBytes, type Family, type HostileEntry } from './hostile-corpus.js';
import { ROOT } from './hostile-lines.js';

// The daemon path of the hostile-lines case: the real daemon (bin/sentryban on dist/) follows one log per family
// (our sshd and portsentry filters, fail2ban's nginx-http-auth, postfix, dovecot), maxretry 1, a hosts.deny
// action in a temp folder; the corpus is appended, then one sentinel line per family whose ban says the daemon
// got through the file. Lines are re-dated to now, so that findtime holds whatever the day.
export const SENTINEL = '203.0.113.254'; // never an attacker of the corpus (203.0.113.1-250)
export type DaemonRun = {
  bans: Array<{ jail: string; target: string }>;
  alive: boolean;
  exitCode: number | null;
  overlong: number;
  output: string;
};

const p2 = (n: number): string => String(n).padStart(2, '0');
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dates = (d: Date): { syslog: string; nginx: string } => {
  const hms = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return {
    syslog: `${MON[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${hms}`,
    nginx: `${d.getFullYear()}/${p2(d.getMonth() + 1)}/${p2(d.getDate())} ${hms}`,
  };
};

// A corpus line with its leading date (15 bytes syslog, 19 bytes nginx) replaced by `d`.
const redate = (e: HostileEntry, d: Date): Buffer => {
  const b = lineBytes(e);
  const ds = dates(d);
  const nginx = e.family === 'nginx-http-auth';
  return Buffer.concat([Buffer.from(nginx ? ds.nginx : ds.syslog), b.subarray(nginx ? 19 : 15)]);
};

const sentinel = (f: Family, d: Date): string => {
  const { syslog, nginx } = dates(d);
  const a = SENTINEL;
  switch (f) {
    case 'sshd':
      return `${syslog} gw sshd[1]: Invalid user done from ${a} port 22`;
    case 'portsentry':
      return `${syslog} gw portsentry[1]: attackalert: Connect from host: ${a}/${a} to TCP port: 22`;
    case 'nginx-http-auth':
      return (
        `${nginx} [error] 1#1: *1 user "done": password mismatch, client: ${a}, ` +
        'server: www.example, request: "GET / HTTP/1.1", host: "www.example"'
      );
    case 'postfix':
      return (
        `${syslog} mail postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${a}]: 554 5.7.1 ` +
        '<x@example.org>: Relay access denied; from=<a@example.net> to=<x@example.org> proto=ESMTP helo=<h>'
      );
    case 'dovecot':
      return (
        `${syslog} mail dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): ` +
        `user=<done>, method=PLAIN, rip=${a}, lip=192.0.2.1, TLS, session=<Zx3k>`
      );
  }
};

const jailYaml = (f: Family): string =>
  `${f}:\n  logpath: ${f}.log\n  filter: ${f}\n  usedns: no\n  maxretry: 1\n  findtime: 1d\n  bantime: 7d\n` +
  '  ignoreself: false\n  actions: [deny]\n';

const bansOf = (dir: string): DaemonRun['bans'] => {
  const file = join(dir, 'state', 'sentryban.sqlite3');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT jail, target FROM bans').all() as DaemonRun['bans'];
  } finally {
    db.close();
  }
};

const until = async (probe: () => boolean, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

export const runDaemon = async (es: readonly HostileEntry[], timeoutMs = 120_000): Promise<DaemonRun> => {
  const dir = mkdtempSync(join(tmpdir(), 'sentryban-hostile-'));
  let proc: ReturnType<typeof execa> | null = null;
  try {
    mkdirSync(join(dir, 'jails'));
    writeFileSync(
      join(dir, 'sentryban.yaml'),
      'state: state\nlogtarget: sentryban.log\nactions:\n  deny:\n    backend: hostsdeny\n    file: hosts.deny\n',
    );
    for (const f of FAMILIES) {
      writeFileSync(join(dir, 'jails', `${f}.yaml`), jailYaml(f));
      writeFileSync(join(dir, `${f}.log`), '');
    }
    proc = execa('node', [join(ROOT, 'bin', 'sentryban'), 'daemon', '--foreground', '--config', dir], {
      reject: false,
      buffer: false,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const p = proc;
    await until(() => out.includes('sentryban: ready') || p.exitCode !== null, 30_000, `daemon ready (${out})`);
    if (p.exitCode !== null) throw new Error(`daemon did not start: ${out}`);
    const now = new Date();
    for (const f of FAMILIES) {
      const lines = es.filter((e) => e.family === f).flatMap((e) => [redate(e, now), Buffer.from('\n')]);
      appendFileSync(join(dir, `${f}.log`), Buffer.concat([...lines, Buffer.from(`${sentinel(f, now)}\n`)]));
    }
    const done = (): boolean =>
      FAMILIES.every((f) => bansOf(dir).some((b) => b.jail === f && b.target.startsWith(SENTINEL)));
    await until(() => p.exitCode !== null || done(), timeoutMs - 10_000, 'every sentinel banned');
    const alive = p.exitCode === null;
    const bans = bansOf(dir);
    // A ban is committed to the store before its action runs (daemon/applier.ts): the sentinel reaches hosts.deny
    // right after, or the action failed.
    const denyFile = join(dir, 'state', 'hosts.deny');
    const denied = (): boolean => existsSync(denyFile) && readFileSync(denyFile, 'utf8').includes(`ALL: ${SENTINEL}`);
    if (alive) await until(() => denied() || p.exitCode !== null, 10_000, 'the sentinel in hosts.deny').catch(() => {});
    if (!denied()) throw new Error('the sentinel is banned in the store, not in hosts.deny');
    if (alive) p.kill('SIGTERM');
    const r = await p;
    const logFile = join(dir, 'state', 'sentryban.log');
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    const overlong = (log.match(/: overlong \(/g) ?? []).length;
    return { bans, alive, exitCode: r.exitCode ?? null, overlong, output: out };
  } finally {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
      await proc.catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  }
};

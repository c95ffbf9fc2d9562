import { afterAll, describe, expect } from '@jest/globals';
import { type ResultPromise } from 'execa';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collector } from '../portsentry/side.js';
import { createLab, type Lab } from '../helpers/netns.js';
import { itReal } from '../helpers/real.js';
import { execLine, one, readUnit, all, words, type Unit } from '../helpers/unit-file.js';
import { capMask, sandboxFor, SECCOMP_PYTHON, underRoot, type Sandbox } from '../helpers/unit-sandbox.js';
import { waitFor } from '../helpers/wait.js';

// Each daemon started the way its unit starts it, inside the sandbox its unit asks for (rebuilt from the unit's
// own keys by test/helpers/unit-sandbox.ts: mount namespace with the read-only system, the writable paths, a
// private /tmp and /dev, hidden homes and processes; setpriv for no_new_privs and the capability sets), in a
// network namespace of the test's own, and doing its job there: the listener sees a probe from the peer
// namespace and blocks it (iptables rule, hosts.deny, blocked file), the ban manager bans from a log line with
// a real nftables rule, answers the unit's ExecReload, and tells READY=1 through $NOTIFY_SOCKET.
// SystemCallFilter, SystemCallErrorNumber and RestrictAddressFamilies are loaded as a seccomp filter through
// libseccomp (Debian's python3-seccomp); the other seccomp keys and the cgroup ones are not rebuilt:
// `enforced`/`notEnforced` of the sandbox list them per unit.
const it = itReal({
  root: true,
  commands: ['unshare', 'setpriv', 'mount', 'taskset', 'nc', 'iptables', 'nft', 'systemd-analyze', SECCOMP_PYTHON],
});
const UNITS = fileURLToPath(new URL('../../packaging/systemd/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/', import.meta.url));
const EXAMPLE_DEFAULT = fileURLToPath(new URL('../../packaging/default/portsentry', import.meta.url));
const require = createRequire(import.meta.url);
type Sock = { bind(p: string): void; close(): void; on(ev: string, fn: (...a: unknown[]) => void): void };
const unix = require('unix-dgram') as { createSocket(t: string, onMessage: (b: Buffer) => void): Sock };

// The stand-in root lives under /run, not /tmp: the unit's PrivateTmp hides the machine's /tmp from the daemon.
const root = mkdtempSync('/run/st-unit-');
const procs: ResultPromise[] = [];
const labs: Lab[] = [];
const socks: Sock[] = [];
const collectors: Collector[] = [];
afterAll(async () => {
  for (const c of collectors) c.close(); // an open socket would keep jest from ending
  for (const p of procs) if (p.pid && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
  await Promise.all(procs.map((p) => p.catch(() => {})));
  for (const s of socks) s.close();
  for (const l of labs) await l.destroy();
  rmSync(root, { recursive: true, force: true });
});

const put = (path: string, text: string): void => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};
// An Exec line of the unit as the test runs it: /usr/local/bin/X is this checkout's bin/X (run by this node),
// every /etc and /var path is the stand-in root's.
const command = (u: Unit, key: string, sb: Sandbox, instance = ''): { prefix: string; argv: string[] }[] =>
  all(u, 'Service', key).map((line) => {
    const { prefix, argv } = execLine(line, instance);
    const [bin, ...args] = argv as [string, ...string[]];
    const head = bin.startsWith('/usr/local/bin/')
      ? [process.execPath, join(BIN, bin.slice('/usr/local/bin/'.length))]
      : [bin];
    return { prefix, argv: [...head, ...args.map(sb.at)] };
  });
// ExecStartPre= lines: `+` ones run outside the sandbox (as systemd does), the others inside.
const startPre = async (lab: Lab, u: Unit, sb: Sandbox): Promise<void> => {
  for (const c of command(u, 'ExecStartPre', sb))
    await lab.run(lab.victim, c.prefix.includes('+') ? c.argv : [...sb.argv, ...c.argv]);
};
const status = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
// Mount options of the mount at exactly `point`, as the process sees them (the last one mounted there).
const mountOpts = (pid: number, point: string): string[] => {
  const rows = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[4] === point);
  return (rows.at(-1)?.[5] ?? '').split(',');
};
// What the sandbox rebuilt is in force for the process: no_new_privs, exactly the unit's capabilities, the umask,
// a read-only / and the unit's writable paths writable.
const expectSandboxed = (pid: number, u: Unit, sb: Sandbox, writable: string[]): void => {
  const s = status(pid);
  const mask = capMask(words(u, 'Service', 'CapabilityBoundingSet'));
  expect(s.NoNewPrivs).toBe('1');
  expect(s.Seccomp).toBe('2'); // a filter is loaded (SystemCallFilter=)
  expect(BigInt(`0x${s.CapBnd}`)).toBe(mask);
  expect(BigInt(`0x${s.CapEff}`)).toBe(mask);
  expect(BigInt(`0x${s.CapAmb}`)).toBe(0n);
  expect(s.Umask).toBe(one(u, 'Service', 'UMask'));
  expect(mountOpts(pid, '/')).toContain('ro');
  expect(mountOpts(pid, '/tmp')).toContain('rw'); // PrivateTmp: a tmpfs of its own
  for (const w of writable) expect([w, mountOpts(pid, sb.at(w))]).toEqual([w, expect.arrayContaining(['rw'])]);
};

describe('the units sandbox, rebuilt with unshare and setpriv', () => {
  // One listener instance as its unit starts it, in its sandbox, in a fresh lab; portsentry.conf and hosts.deny
  // are the program's defaults (not on the unit's line), given here at the stand-in root.
  const listener = async (instance: 'tcp' | 'udp', modes: string, conf: string[]) => {
    const lab = await createLab();
    labs.push(lab);
    const u = readUnit(join(UNITS, 'portsentry@.service'));
    const r = mkdtempSync(join(root, 'ps-'));
    const at = underRoot(r);
    put(at('/etc/default/portsentry'), modes);
    put(at('/etc/hosts.deny'), '');
    put(at('/etc/portsentry/portsentry.ignore'), '127.0.0.1\n0.0.0.0\n');
    put(
      at('/etc/portsentry/portsentry.conf'),
      [
        `IGNORE_FILE="${at('/etc/portsentry/portsentry.ignore')}"`,
        `HISTORY_FILE="${at('/var/lib/portsentry/portsentry.history')}"`,
        `BLOCKED_FILE="${at('/var/lib/portsentry/portsentry.blocked')}"`,
        'SCAN_TRIGGER="0"',
        'KILL_HOSTS_DENY="ALL: $TARGET$"',
        ...conf,
        '',
      ].join('\n'),
    );
    const syslog = new Collector(join(r, 'dev-log.sock'));
    collectors.push(syslog);
    const sb = sandboxFor(u, { root: r, devLog: syslog.path });
    await startPre(lab, u, sb);
    const [start] = command(u, 'ExecStart', sb, instance);
    const argv = [
      ...(start?.argv ?? []),
      '--config',
      at('/etc/portsentry/portsentry.conf'),
      '--hosts-deny',
      at('/etc/hosts.deny'),
    ];
    expect(argv).toContain(at('/etc/default/portsentry'));
    const p = lab.run(lab.victim, [...sb.argv, ...argv], { reject: false, all: true, timeout: 60_000 });
    procs.push(p);
    const said = (text: string): boolean => syslog.datagrams.some((d) => d.message.includes(text));
    await waitFor(() => said('now active and listening') || p.exitCode !== null, {
      timeoutMs: 20_000,
      what: 'the listener active',
    });
    return { lab, u, sb, p, said, at };
  };

  it('portsentry@tcp: a probe from the peer namespace is seen and blocked (iptables, hosts.deny, blocked file)', async () => {
    const { lab, u, sb, p, said, at } = await listener('tcp', readFileSync(EXAMPLE_DEFAULT, 'utf8'), [
      'TCP_PORTS="111,40123"', // 111 < 1024: CAP_NET_BIND_SERVICE
      'BLOCK_TCP="1"',
      'KILL_ROUTE="/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP"', // CAP_NET_ADMIN, AF_NETLINK
    ]);
    if (!said('now active and listening')) throw new Error(`not started: ${String((await p).all)}`);
    expect(said('PortSentry is now active and listening.')).toBe(true);
    expectSandboxed(p.pid ?? 0, u, sb, ['/var/lib/portsentry', '/etc/hosts.deny', '/run/xtables.lock']);

    await lab.run(lab.attacker, ['nc', '-z', '-w', '2', lab.victimV4, '111'], { reject: false });
    const blocked = at('/var/lib/portsentry/portsentry.blocked.tcp');
    await waitFor(() => readFileSync(blocked, 'utf8').includes(`Host: ${lab.attackerV4}/`), {
      timeoutMs: 10_000,
      what: 'the attacker in the blocked file',
    });
    await waitFor(() => said(`attackalert: Host ${lab.attackerV4} has been blocked via dropped route using command`), {
      timeoutMs: 10_000,
      what: 'KILL_ROUTE run',
    });
    expect(readFileSync(at('/etc/hosts.deny'), 'utf8')).toBe(`ALL: ${lab.attackerV4}\n`);
    const rules = await lab.run(lab.victim, ['iptables', '-S', 'INPUT']);
    expect(String(rules.stdout)).toContain(`-A INPUT -s ${lab.attackerV4}/32 -j DROP`);
    const again = await lab.run(lab.attacker, ['nc', '-z', '-w', '1', lab.victimV4, '40123'], { reject: false });
    expect(again.exitCode).not.toBe(0);

    process.kill(p.pid ?? 0, 'SIGTERM');
    expect((await p).exitCode).toBe(15); // 1.2's exit status: the signal number
    process.stdout.write(`portsentry@.service enforced: ${sb.enforced.join(' ')}\n`);
    process.stdout.write(`portsentry@.service not enforced: ${sb.notEnforced.join('; ')}\n`);
  }, 90_000);

  it('portsentry@tcp with TCP_MODE="stcp": the raw mode (CAP_NET_RAW) sees a SYN probe and blocks it', async () => {
    const { lab, u, sb, p, said, at } = await listener('tcp', 'TCP_MODE="stcp"\nUDP_MODE=""\n', [
      'TCP_PORTS="1,11,40123"',
      'BLOCK_TCP="1"',
    ]);
    if (!said('now active and listening')) throw new Error(`not started: ${String((await p).all)}`);
    expectSandboxed(p.pid ?? 0, u, sb, ['/var/lib/portsentry', '/etc/hosts.deny']);
    await lab.run(lab.attacker, ['nc', '-z', '-w', '1', lab.victimV4, '40123'], { reject: false });
    await waitFor(() => said(`attackalert: TCP SYN/Normal scan from host: ${lab.attackerV4}/`), {
      timeoutMs: 10_000,
      what: 'the SYN seen on the raw socket',
    });
    await waitFor(() => readFileSync(at('/etc/hosts.deny'), 'utf8') === `ALL: ${lab.attackerV4}\n`, {
      timeoutMs: 10_000,
      what: 'the attacker in hosts.deny',
    });
    process.kill(p.pid ?? 0, 'SIGTERM');
    expect((await p).exitCode).toBe(15);
  }, 90_000);

  it('portsentry@udp with UDP_MODE="": nothing started, exit 0, as Debian\'s init script', async () => {
    const { p, said } = await listener('udp', 'TCP_MODE="tcp"\nUDP_MODE=""\n', ['UDP_PORTS="40124"']);
    const r = await p;
    expect(said('now active')).toBe(false);
    expect([r.exitCode, String(r.all)]).toEqual([
      0,
      expect.stringContaining('UDP_MODE is empty; no udp listener started'),
    ]);
  }, 60_000);

  it('sentryban: READY=1 through $NOTIFY_SOCKET, a log line banned in nftables, ExecReload answered', async () => {
    const lab = await createLab();
    labs.push(lab);
    const u = readUnit(join(UNITS, 'sentryban.service'));
    const r = join(root, 'sb');
    mkdirSync(r);
    const syslog = new Collector(join(r, 'dev-log.sock'));
    collectors.push(syslog);
    const sb = sandboxFor(u, { root: r, devLog: syslog.path });
    const notes: string[] = [];
    const notify = unix.createSocket('unix_dgram', (b) => notes.push(b.toString()));
    socks.push(notify);
    notify.bind(join(r, 'notify.sock')); // read-only to the daemon, as /run/systemd/notify is
    const table = `sb-unit-${lab.id}`;
    put(
      sb.at('/etc/sentryban/sentryban.yaml'),
      `state: ${sb.at('/var/lib/sentryban')}\nlogtarget: sentryban.log\ncheckinterval: 0\n` +
        `actions:\n  fw: {backend: nftables, table: ${table}}\n`,
    );
    put(
      sb.at('/etc/sentryban/jails/app.yaml'),
      `app:\n  logpath: ${sb.at('/var/log/app.log')}\n  failregex: 'auth failure from <HOST>$'\n` +
        '  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n  actions: [fw]\n',
    );
    // A log of another user's, not world-readable (as Debian's /var/log/nginx/*.log, www-data:adm 0640): root
    // without CAP_DAC_OVERRIDE reads it only through the unit's CAP_DAC_READ_SEARCH.
    put(sb.at('/var/log/app.log'), '');
    chownSync(sb.at('/var/log/app.log'), 33, 4);
    chmodSync(sb.at('/var/log/app.log'), 0o640);
    await startPre(lab, u, sb);
    const [start] = command(u, 'ExecStart', sb);
    const p = lab.run(lab.victim, [...sb.argv, ...(start?.argv ?? [])], {
      reject: false,
      all: true,
      timeout: 60_000,
      env: { NOTIFY_SOCKET: join(r, 'notify.sock') },
    });
    procs.push(p);
    await waitFor(() => notes.length > 0 || p.exitCode !== null, { timeoutMs: 20_000, what: 'READY=1' });
    if (p.exitCode !== null) throw new Error(`not started: ${String((await p).all)}`);
    expect(notes).toEqual([`READY=1\nMAINPID=${p.pid ?? 0}\nSTATUS=running`]);
    expectSandboxed(p.pid ?? 0, u, sb, ['/var/lib/sentryban', '/run/xtables.lock']);
    // The same sandbox around a shell of the test: what the unit leaves writable is, and nothing else.
    const touch = (path: string) => lab.run(lab.victim, [...sb.argv, 'touch', path], { reject: false });
    expect((await touch(sb.at('/var/lib/sentryban/probe'))).exitCode).toBe(0);
    expect(String((await touch(sb.at('/etc/sentryban/probe'))).stderr)).toContain('Read-only file system');
    expect(String((await touch('/etc/probe')).stderr)).toContain('Read-only file system');
    // The seccomp filter: a group the unit takes out (@resources: sched_setaffinity, which needs no capability on
    // itself) and a socket family it does not list (AF_ALG: errno 97 on this kernel without the filter) are
    // refused with the unit's errno (EPERM).
    const inside = (argv: string[]) => lab.run(lab.victim, [...sb.argv, ...argv], { reject: false });
    expect(String((await inside(['taskset', '-c', '0', 'true'])).stderr)).toContain('Operation not permitted');
    const alg = 'import socket; socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET)';
    expect(String((await inside([SECCOMP_PYTHON, '-c', alg])).stderr)).toContain('[Errno 1] Operation not permitted');

    appendFileSync(sb.at('/var/log/app.log'), `${new Date().toISOString()} auth failure from ${lab.attackerV4}\n`);
    const set = async (): Promise<string> =>
      String((await lab.run(lab.victim, ['nft', 'list', 'set', 'inet', table, 'h4'], { reject: false })).stdout);
    await waitFor(async () => (await set()).includes(lab.attackerV4), { timeoutMs: 15_000, what: 'ban in nftables' });

    const [reload] = command(u, 'ExecReload', sb);
    const rl = await lab.run(lab.victim, [...sb.argv, ...(reload?.argv ?? [])], { reject: false, all: true });
    expect({ code: rl.exitCode, out: String(rl.all) }).toMatchObject({ code: 0 });
    expect(notes.slice(1)).toEqual(['RELOADING=1\nSTATUS=reloading', 'READY=1\nSTATUS=running']);
    expect(await set()).toContain(lab.attackerV4); // a reload keeps the ban

    process.kill(p.pid ?? 0, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(notes.at(-1)).toBe('STOPPING=1\nSTATUS=stopping');
    process.stdout.write(`sentryban.service enforced: ${sb.enforced.join(' ')}\n`);
    process.stdout.write(`sentryban.service not enforced: ${sb.notEnforced.join('; ')}\n`);
  }, 90_000);
});

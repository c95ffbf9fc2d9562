// Command line and bad input: the 1.2 message where 1.2 has one (checked against the real 1.2 in the same run),
// otherwise a clear one with file:line; never a crash or a stack trace.
import { afterAll, describe, expect } from '@jest/globals';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { itReal } from '../helpers/real.js';
import { withSystemFiles } from '../helpers/system-file.js';
import { makeTmpDir } from '../helpers/tmp.js';
import {
  BIN,
  Collector,
  ORIGINAL,
  runSide,
  SYSTEM_CONF,
  SYSTEM_HOSTS_DENY,
  tcpConnect,
  type SideSpec,
} from './side.js';

const real = itReal({ root: true, commands: ['/usr/sbin/portsentry', 'nc', 'unshare', 'setpriv'] });
const { dir, cleanup } = makeTmpDir('ps-bad-');
chmodSync(dir, 0o777);
afterAll(() => cleanup());

const FILES = `BLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\n`;
// Tests that hold the system-file lock may first wait for another suite (the stealth one) to release it.
const LOCKED = 600000;
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

// Run a program that exits by itself with a private /dev/log; returns exit code, stdout, stderr and messages.
const runPlain = async (argv: string[], name: string) => {
  const c = new Collector(join(dir, `${name}.sock`));
  try {
    const r = await execa(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/log && exec "$@"', c.path, ...argv],
      { reject: false, timeout: 30000 },
    );
    await c.settle(200);
    return {
      code: r.exitCode,
      stdout: String(r.stdout),
      stderr: String(r.stderr),
      syslog: c.datagrams.map((d) => d.message),
    };
  } finally {
    c.close();
  }
};
const ours = (args: string[]): string[] => [process.execPath, BIN, ...args];
const noStack = (text: string): void => {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
};

describe('command line as 1.2', () => {
  for (const args of [[], ['-x'], ['-tcp', '-udp'], ['tcp']]) {
    real(`usage for ${JSON.stringify(args)}: same stdout, exit 255, syslog`, async () => {
      const o = await runPlain([ORIGINAL, ...args], 'u1');
      const m = await runPlain(ours(args), 'u2');
      expect(o.code).toBe(255);
      expect({ code: m.code, stdout: m.stdout, syslog: m.syslog }).toEqual({
        code: o.code,
        stdout: o.stdout,
        syslog: o.syslog,
      });
    });
  }
  real(
    "not root, privileged ports: 1.2's refusal, plus a file:line hint",
    () =>
      withSystemFiles([SYSTEM_CONF], async () => {
        writeFileSync(SYSTEM_CONF, `TCP_PORTS="1,11"\nUDP_PORTS="1"\n${FILES}`);
        const o = await runPlain([...NOBODY, ORIGINAL, '-tcp'], 'r1');
        const m = await runPlain([...NOBODY, ...ours(['-tcp'])], 'r2');
        expect(o.stdout).toBe('You need to be root to run this.');
        expect({ code: m.code, stdout: m.stdout, syslog: m.syslog }).toEqual({
          code: o.code,
          stdout: o.stdout,
          syslog: o.syslog,
        });
        expect(m.stderr).toBe(
          `portsentry: ${SYSTEM_CONF}:1: TCP_PORTS: port 1 is below 1024: binding it needs root (run as root, or list only ports >= 1024)`,
        );
      }),
    LOCKED,
  );
  real('--help prints usage and our options, exit 0', async () => {
    const m = await runPlain(ours(['--help']), 'h');
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('--hosts-deny FILE');
  });
  real(
    'missing config: same messages as 1.2',
    () =>
      withSystemFiles([SYSTEM_CONF], async () => {
        const { rmSync } = await import('node:fs');
        rmSync(SYSTEM_CONF, { force: true });
        const o = await runPlain([ORIGINAL, '-tcp'], 'c1');
        const m = await runPlain(ours(['-tcp']), 'c2');
        expect({ code: m.code, stdout: m.stdout, syslog: m.syslog }).toEqual({
          code: o.code,
          stdout: o.stdout,
          syslog: o.syslog,
        });
        expect(m.stderr).toContain(`${SYSTEM_CONF}: cannot read the config file (ENOENT)`);
      }),
    LOCKED,
  );
});

// Configs compared with 1.2 end to end in fresh labs.
const byteCases: { name: string; conf: string; starts: boolean }[] = [
  {
    name: 'binary garbage',
    conf: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1'),
    starts: false,
  },
  {
    name: 'NUL bytes and 100 kB lines',
    starts: true,
    conf: `${'x'.repeat(100000)}\nBLOCK_TCP\0="1"\nTCP_PORTS="1,11"\nSCAN_TRIGGER="0"\n${'y'.repeat(100000)} KILL_ROUTE="/bin/false"\n${FILES}`,
  },
  { name: 'no quotes anywhere', conf: 'TCP_PORTS=1\nBLOCKED_FILE=/tmp/x\n', starts: false },
];

describe('bad configs, compared with 1.2', () => {
  for (const c of byteCases) {
    real(
      c.name,
      () =>
        withSystemFiles([SYSTEM_CONF, SYSTEM_HOSTS_DENY], async () => {
          const spec: Omit<SideSpec, 'which'> = {
            mode: 'tcp',
            dir,
            conf: c.conf,
            ignore: '',
            probes: async (lab) => {
              if (c.starts) await tcpConnect(lab, 11);
            },
          };
          const o = await runSide({ ...spec, which: 'original' });
          const m = await runSide({ ...spec, which: 'ours' });
          expect(m.syslog).toEqual(o.syslog);
          expect(m.launch.stdout).toBe(o.launch.stdout);
          expect(m.launch.exitCode).toBe(o.launch.exitCode);
          expect(m.history).toEqual(o.history);
          expect(o.syslog.some((l) => l.includes('Connect from host'))).toBe(c.starts);
          noStack(m.launch.stderr);
        }),
      LOCKED,
    );
  }
});

describe('bad input where 1.2 has no message (ours only)', () => {
  const CONF = join(dir, 'ours.conf');
  const runOurs = (conf: string, extra: Partial<SideSpec> = {}) =>
    runSide({ which: 'ours', mode: 'tcp', dir, conf, ignore: '', probes: async () => {}, confPath: CONF, ...extra });

  real(
    'ports 0 and 70000: warned with file:line, not bound, the rest runs',
    async () => {
      const r = await runOurs(`TCP_PORTS="0,70000,11"\n${FILES}`);
      expect(r.launch.exitCode).toBe(0);
      expect(r.syslog).toContain('<29> adminalert: ERROR: could not bind TCP socket: 0. Attempting to continue\n');
      expect(r.syslog).toContain('<29> adminalert: ERROR: could not bind TCP socket: 70000. Attempting to continue\n');
      expect(r.syslog).toContain('<29> adminalert: PortSentry is now active and listening.\n');
      expect(r.launch.stderr).toContain(`${CONF}:1: TCP_PORTS: port 70000 is outside 1-65535`);
      noStack(r.launch.stderr);
    },
    60000,
  );
  real(
    'no port can be bound: the detaching parent exits non-zero (1.2 exits 0)',
    async () => {
      const r = await runOurs(`TCP_PORTS="0"\n${FILES}`);
      expect(r.launch.exitCode).toBe(1);
      expect(r.launch.stderr).toContain('the daemon did not start');
      expect(r.syslog.slice(-3)).toEqual([
        '<29> adminalert: ERROR: could not go into PortSentry mode. Shutting down.\n',
        '<29> securityalert: PortSentry is shutting down\n',
        '<29> adminalert: PortSentry is shutting down\n',
      ]);
    },
    60000,
  );
  real(
    'a KILL_* template that needs a shell is refused at load with file:line (exit 78)',
    async () => {
      const r = await runOurs(
        `TCP_PORTS="11"\n${FILES}KILL_ROUTE="/sbin/iptables -I INPUT -s $TARGET$ -j DROP | logger"\n`,
      );
      expect(r.launch.exitCode).toBe(78);
      expect(r.launch.stderr).toContain(`portsentry: ${CONF}:5: KILL_ROUTE: "|" needs a shell`);
      expect(r.launch.stderr).toContain('script');
    },
    60000,
  );
  real(
    "unreadable ignore file as a normal user on unprivileged ports: 1.2's line, host still handled",
    async () => {
      const r = await runOurs(`TCP_PORTS="41011"\nBLOCK_TCP="0"\n${FILES}`, {
        asNobody: true,
        prepare: async () => {
          writeFileSync(join(dir, 'ignore'), '192.0.2.2\n');
          chmodSync(join(dir, 'ignore'), 0);
        },
        ignore: null,
        probes: async (lab) => {
          await tcpConnect(lab, 41011);
        },
      });
      expect(r.syslog).toContain('<29> attackalert: ERROR: cannot open ignore file. Blocking host anyway.\n');
      expect(r.syslog).toContain('<29> attackalert: Ignoring TCP response per configuration file setting.');
      expect(r.history).toEqual(['Host: 192.0.2.2/192.0.2.2 Port: 41011 TCP Blocked']);
    },
    60000,
  );
});

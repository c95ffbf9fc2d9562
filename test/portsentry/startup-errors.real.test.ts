// The listener's start-up failures, ours only (1.2 is compared in bad-input.real.test.ts): beside 1.2's console
// and syslog lines, one stderr line that names the path and says what to do, and the documented exit code.
// Every run gets a private /dev/log (a mount namespace), configs live in a temp folder, never in /etc.
import { afterAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from '../../src/portsentry/lines.js';
import { freePort } from '../helpers/ports.js';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { BIN, Collector } from './side.js';

const real = itReal({ root: true, commands: ['unshare', 'setpriv'] });
const { dir, cleanup } = makeTmpDir('ps-start-');
chmodSync(dir, 0o755);
afterAll(() => cleanup());
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const MODES = 'one of -tcp, -udp, -stcp, -atcp, -sudp, -audp';
const files = (blocked = dir, history = dir): string =>
  `BLOCKED_FILE="${blocked}/blocked"\nHISTORY_FILE="${history}/history"\nIGNORE_FILE="${dir}/ignore"\n`;
const conf = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const inNs = (c: Collector, argv: string[]): [string, string[]] => [
  'unshare',
  ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/log && exec "$@"', c.path, ...argv],
];
let n = 0;
// A run that ends by itself: exit code, stdout, stderr, and the syslog lines it sent.
const run = async (argv: string[]) => {
  const c = new Collector(join(dir, `log${n++}.sock`));
  try {
    const [cmd, args] = inNs(c, argv);
    const r = await execa(cmd, args, { reject: false, timeout: 30_000, stripFinalNewline: false });
    await c.settle(200);
    return {
      code: r.exitCode,
      out: String(r.stdout),
      err: String(r.stderr),
      syslog: c.datagrams.map((d) => d.message),
    };
  } finally {
    c.close();
  }
};
const ours = (...args: string[]): string[] => [process.execPath, BIN, ...args];
const holdPort = async (port: number): Promise<Server> => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(port, r));
  return s;
};

describe('portsentry start-up errors: one line, the path, what to do', () => {
  real("a bad command line: 1.2's usage on stdout, what was wrong on stderr, exit 255", async () => {
    for (const [args, why] of [
      [[], `no mode given: expected ${MODES}`],
      [['-x'], `"-x" is not a mode: expected ${MODES}`],
      [['tcp'], `"tcp" is not a mode: expected ${MODES}`],
      [['-tcp', '-udp'], 'one mode per process (got -tcp -udp): run one portsentry for each'],
      [['--bogus', '-tcp'], 'unknown option --bogus; see portsentry --help'],
      [['-tcp', '--config'], '--config needs a path; see portsentry --help'],
    ] as const) {
      const r = await run(ours(...args));
      expect({ code: r.code, out: r.out, err: r.err }).toEqual({
        code: 255,
        out: L.USAGE,
        err: `portsentry: ${why}\n`,
      });
    }
  });

  real("config missing, or a folder: 1.2's lines, then what to do (exit 255)", async () => {
    const missing = join(dir, 'none.conf');
    const r = await run(ours('-tcp', '--config', missing, '--foreground'));
    expect(r).toEqual({
      code: 255,
      out: L.CONSOLE_CONFIG_MISSING,
      err:
        `portsentry: ${missing}: cannot read the config file (ENOENT): install one there ` +
        "(the package's config/portsentry.conf is an example), or name yours with --config FILE\n",
      syslog: [L.starting(), L.cannotOpenConfig(missing), L.configMissing(), ...L.shuttingDown()],
    });
    const folder = await run(ours('-tcp', '--config', dir, '--foreground'));
    expect({ code: folder.code, err: folder.err }).toEqual({
      code: 255,
      err:
        `portsentry: ${dir}: cannot read the config file (EISDIR): ` +
        'it is a folder; name the config file itself with --config FILE\n',
    });
  });

  real(
    "the blocked file's folder does not exist, or is not writable: which folder, and what to do (exit 255)",
    async () => {
      const gone = join(dir, 'gone');
      const c1 = conf('gone.conf', `TCP_PORTS="41011"\n${files(gone)}`);
      const r = await run(ours('-tcp', '--config', c1, '--foreground'));
      expect({ code: r.code, out: r.out, err: r.err }).toEqual({
        code: 255,
        out: L.CONSOLE_CONFIG_CORRUPT,
        err:
          `portsentry: ${c1}: cannot create or truncate ${gone}/blocked.tcp: the folder ${gone} does not exist: ` +
          `create it (mkdir -p ${gone}) or set BLOCKED_FILE in ${c1} elsewhere\n`,
      });
      expect(r.syslog).toContain(L.cannotTruncateBlocked(`${gone}/blocked.tcp`));
      const locked = join(dir, 'locked');
      mkdirSync(locked, { mode: 0o755 });
      const c2 = conf('locked.conf', `TCP_PORTS="41011"\n${files(locked)}`);
      chmodSync(c2, 0o644);
      const n2 = await run([...NOBODY, ...ours('-tcp', '--config', c2, '--foreground')]);
      expect({ code: n2.code, err: n2.err }).toEqual({
        code: 255,
        err:
          `portsentry: ${c2}: cannot create or truncate ${locked}/blocked.tcp: the folder ${locked} is not ` +
          `writable by uid 65534: run as root, or set BLOCKED_FILE in ${c2} elsewhere\n`,
      });
    },
  );

  real("a raw mode without root: 1.2's refusal, then how to run it (exit 255)", async () => {
    const c = conf('raw.conf', `TCP_PORTS="41011"\n${files()}`);
    chmodSync(c, 0o644);
    const r = await run([...NOBODY, ...ours('-stcp', '--config', c, '--foreground')]);
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({
      code: 255,
      out: L.NEED_ROOT,
      err: 'portsentry: mode -stcp opens raw sockets, which needs root: run it as root (sudo portsentry -stcp)\n',
    });
  });

  real(
    'every port in use: not started, which ports and what to do; the detaching parent says it too (exit 255 / 1)',
    async () => {
      const port = await freePort();
      const held = await holdPort(port);
      try {
        const c = conf('busy.conf', `TCP_PORTS="${port}"\n${files()}`);
        const why =
          `none of the TCP ports in TCP_PORTS of ${c} could be bound ` +
          `(${port}: in use by other programs, or not ports): free them, or list others`;
        const fg = await run(ours('-tcp', '--config', c, '--foreground'));
        expect({ code: fg.code, err: fg.err }).toEqual({ code: 255, err: `portsentry: not started: ${why}\n` });
        expect(fg.syslog).toContain(L.cannotBind('TCP', port));
        expect(fg.syslog).toContain(L.notPortsentryMode());
        const bg = await run(ours('-tcp', '--config', c));
        expect({ code: bg.code, err: bg.err }).toEqual({
          code: 1,
          err: `portsentry: the daemon did not start: ${why}\n`,
        });
      } finally {
        held.close();
      }
    },
    60_000,
  );

  real(
    'one port in use and no history folder: it starts, and says what it runs without',
    async () => {
      const [busy, free] = [await freePort(), await freePort()];
      const held = await holdPort(busy);
      const nohist = join(dir, 'nohist');
      const c = conf('partly.conf', `TCP_PORTS="${busy},${free}"\n${files(dir, nohist)}`);
      const log = new Collector(join(dir, `log${n++}.sock`));
      const [cmd, args] = inNs(log, ours('-tcp', '--config', c, '--foreground'));
      const p = execa(cmd, args, { reject: false, timeout: 60_000 });
      try {
        await waitFor(() => log.datagrams.some((d) => d.message === L.active()), { timeoutMs: 20_000, what: 'active' });
      } finally {
        p.kill('SIGTERM');
        held.close();
      }
      const r = await p;
      log.close();
      expect(r.exitCode).toBe(15);
      expect(String(r.stderr).split('\n')).toEqual([
        `portsentry: warning: HISTORY_FILE ${nohist}/history: the folder ${nohist} does not exist: ` +
          `create it (mkdir -p ${nohist}) or set HISTORY_FILE in ${c} elsewhere`,
        `portsentry: warning: TCP port ${busy} could not be bound (in use by another program, or not a port): ` +
          `not watched; free it, or drop it from TCP_PORTS in ${c}`,
      ]);
    },
    60_000,
  );

  real('npm start: a state folder it cannot create is one line and exit 73', async () => {
    const locked = join(dir, 'root-only');
    mkdirSync(locked, { mode: 0o700 });
    const start = fileURLToPath(new URL('../../bin/start.js', import.meta.url));
    const s = await execa(NOBODY[0] as string, [...NOBODY.slice(1), process.execPath, start], {
      env: { SENTRYTOOLS_STATE: join(locked, 'state') },
      reject: false,
      timeout: 30_000,
    });
    expect({ code: s.exitCode, out: s.stdout, err: s.stderr }).toEqual({
      code: 73,
      out: '',
      err:
        `sentrytools: cannot set up the state folder ${locked}/state/portsentry (EACCES): ` +
        'set SENTRYTOOLS_STATE to a folder you can write, or fix the permissions of this one',
    });
  });
});

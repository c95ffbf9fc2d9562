import { afterAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { ask } from '../../../src/sentryban/control/client.js';
import { explainUnreachable } from '../../../src/sentryban/control/unreachable.js';
import { bin } from '../daemon/run-daemon.js';
import { fromTty, runOnPty, runPiped } from '../../helpers/pty.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// Every way the daemon cannot be reached, through the real client: one sentence on stderr that says what to do,
// nothing on stdout, the exit code docs/sentryban.md gives, never a stack trace. The peers are real sockets.
const tmp = makeTmpDir('sb-unreach-');
const servers: Server[] = [];
const conns = new Set<Socket>();
afterAll(async () => {
  conns.forEach((c) => c.destroy());
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  tmp.cleanup();
});

const VERBS = [
  ['status'],
  ['status', 'sshd'],
  ['list'],
  ['audit', '--limit', '5'],
  ['ban', 'sshd', '192.0.2.1'],
  ['unban', '192.0.2.1'],
  ['test', 'sshd', 'a line'],
  ['check'],
];
const client = (sock: string, args: string[]): string[] => ['node', bin, ...args, '--socket', sock];
const expectOneLine = async (sock: string, args: string[], text: string, code: number): Promise<void> => {
  const r = await runPiped(client(sock, args));
  expect(r).toEqual({ out: '', err: `sentryban ${args[0]}: ${text}\n`, code });
};

// A socket file with nothing behind it, as a daemon killed with -9 leaves it: bound, never listened on.
const staleSocket = async (path: string): Promise<void> => {
  await execa('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
};
// A peer that does `answer` with every connection.
const peer = async (path: string, answer: (c: Socket) => void): Promise<void> => {
  const s = createServer((c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    answer(c);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(path, r));
};

describe('sentryban client, daemon not reachable', () => {
  it('no socket: every verb says sentryban is not running and how to start it (exit 69)', async () => {
    const sock = join(tmp.dir, 'none', 'sentryban.sock');
    const text =
      `sentryban is not running (no socket at ${sock}): ` +
      'start it with `sentryban daemon`, or point at it with --socket';
    for (const v of VERBS) await expectOneLine(sock, v, text, 69);
  }, 60_000);

  itReal({ commands: ['python3'] })('no socket, on a terminal: the same sentence', async () => {
    const sock = join(tmp.dir, 'none', 'sentryban.sock');
    const r = await runOnPty(client(sock, ['list']));
    expect({ out: fromTty(r.out), code: r.code }).toEqual({
      out:
        `sentryban list: sentryban is not running (no socket at ${sock}): ` +
        'start it with `sentryban daemon`, or point at it with --socket\n',
      code: 69,
    });
  });

  it('the default socket of a config folder, named in the sentence', async () => {
    const cfg = join(tmp.dir, 'cfg');
    mkdirSync(cfg);
    writeFileSync(join(cfg, 'sentryban.yaml'), 'state: st\nsocket: ctl.sock\n');
    const r = await runPiped(['node', bin, 'status', '--config', cfg]);
    expect(r.err).toBe(
      `sentryban status: sentryban is not running (no socket at ${join(cfg, 'st', 'ctl.sock')}): ` +
        'start it with `sentryban daemon`, or point at it with --socket\n',
    );
    expect(r.code).toBe(69);
  });

  itReal({ commands: ['python3'] })(
    'a stale socket (ECONNREFUSED): not running, left over (exit 69)',
    async () => {
      const sock = join(tmp.dir, 'stale.sock');
      await staleSocket(sock);
      const text =
        `sentryban is not running (${sock} is left over from a daemon that stopped: ` +
        'nothing accepts connections on it): start it with `sentryban daemon`, or point at it with --socket';
      for (const v of VERBS) await expectOneLine(sock, v, text, 69);
    },
    60_000,
  );

  it('not a socket (exit 69)', async () => {
    const file = join(tmp.dir, 'plain-file');
    writeFileSync(file, '');
    await expectOneLine(
      file,
      ['status'],
      `${file} is not a socket: point --socket at the daemon's control socket (\`socket:\` in sentryban.yaml)`,
      69,
    );
  });

  itReal({ root: true, commands: ['setpriv', 'python3'] })(
    "permission denied: the socket folder is the daemon user's only (exit 77)",
    async () => {
      const folder = join(tmp.dir, 'private');
      mkdirSync(folder, { mode: 0o700 });
      const sock = join(folder, 'sentryban.sock');
      await staleSocket(sock);
      const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
      chmodSync(tmp.dir, 0o755);
      const r = await runPiped([...asNobody, ...client(sock, ['list'])]);
      expect(r).toEqual({
        out: '',
        err:
          `sentryban list: permission denied on ${folder} (the socket's folder): ` +
          "only the daemon's user may use it: run `sudo sentryban list`, or as the user the daemon runs as\n",
        code: 77,
      });
    },
  );

  itReal({ root: true, commands: ['python3'] })(
    "another user's socket: refused before connecting (exit 77)",
    async () => {
      const sock = join(tmp.dir, 'foreign.sock');
      await staleSocket(sock);
      chownSync(sock, 65534, 65534);
      await expectOneLine(
        sock,
        ['status'],
        `${sock} belongs to uid 65534, neither you nor root, so this client will not talk to it: ` +
          "run as uid 65534 or root, or point --socket at your own daemon's socket",
        77,
      );
    },
  );

  it('the daemon refuses our uid (SO_PEERCRED): permission, exit 77', async () => {
    const sock = join(tmp.dir, 'refuses.sock');
    await peer(sock, (c) => c.end('{"version":1,"ok":false,"error":"uid 1000 may not use this socket"}\n'));
    await expectOneLine(
      sock,
      ['list'],
      `the daemon at ${sock} serves only root and its own user, not uid 1000: run \`sudo sentryban list\``,
      77,
    );
  });

  it('something else listens there: exit 76', async () => {
    const sock = join(tmp.dir, 'other.sock');
    await peer(sock, (c) => c.end('220 smtp.example ESMTP\r\n'));
    await expectOneLine(
      sock,
      ['status'],
      `${sock} answered with something that is not a sentryban reply (another program listening there?): ` +
        "point --socket at sentryban's socket",
      76,
    );
  });

  it('the daemon hangs up without answering: exit 69, at once (not after the timeout)', async () => {
    const sock = join(tmp.dir, 'hangs-up.sock');
    await peer(sock, (c) => c.end());
    const t0 = Date.now();
    await expectOneLine(
      sock,
      ['check'],
      `sentryban closed the connection on ${sock} without answering (it stopped, or failed): ` +
        'see its log, then start it with `sentryban daemon`, or point at it with --socket',
      69,
    );
    expect(Date.now() - t0).toBeLessThan(9000);
  });

  it('no answer in time, or busy all along: exit 75', async () => {
    const silent = join(tmp.dir, 'silent.sock');
    const held: Socket[] = [];
    await peer(silent, (c) => held.push(c));
    const busy = join(tmp.dir, 'busy.sock');
    await peer(busy, (c) => c.end('{"version":1,"ok":false,"error":"busy: 32 clients connected; try again"}\n'));
    const a = await ask(silent, 'status', {}, 300);
    const b = await ask(busy, 'status', {}, 400);
    held.forEach((c) => c.destroy());
    expect(a).toEqual({ kind: 'unreachable', why: { kind: 'timeout', path: silent, ms: 300, busy: false } });
    expect(b).toEqual({ kind: 'unreachable', why: { kind: 'timeout', path: busy, ms: 400, busy: true } });
    expect(a.kind === 'unreachable' && explainUnreachable(a.why, 'status')).toEqual({
      text:
        `sentryban did not answer on ${silent} within 0.3 s: ` +
        'it may be overloaded or stuck; try again, and see its log if it persists',
      code: 75,
    });
    expect(b.kind === 'unreachable' && explainUnreachable(b.why, 'status').text).toContain(
      'within 0.4 s (busy with other clients all along)',
    );
  });
});

import { afterAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collector } from '../portsentry/side.js';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';

// A reader of stdout that goes away: `sentryban regex ... | head` ends quietly (141, no stack trace), and a
// daemon with --stdout piped into something that quit goes on logging to syslog.
const SENTRYBAN = fileURLToPath(new URL('../../bin/sentryban', import.meta.url));
const PORTSENTRY = fileURLToPath(new URL('../../bin/portsentry', import.meta.url));
const { dir, cleanup } = makeTmpDir('st-epipe-');
afterAll(() => cleanup());

// Reads the first chunk of the child's stdout, then closes the pipe's read end.
const closeAfterFirstChunk = (child: ChildProcess): Promise<string> =>
  new Promise((resolve) => {
    child.stdout!.once('data', (d: Buffer) => {
      child.stdout!.destroy();
      resolve(d.toString('latin1'));
    });
  });
const exited = (child: ChildProcess): Promise<{ code: number | null; signal: string | null }> =>
  new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

it('sentryban regex | head: exit 141, nothing on stderr', async () => {
  const log = join(dir, 'auth.log');
  const line = 'Nov 25 04:05:19 vm sshd[4242]: Failed password for root from 198.51.100.7 port 4242 ssh2\n';
  writeFileSync(log, line.repeat(50_000));
  const child = spawn(process.execPath, [SENTRYBAN, 'regex', '--json', log, 'sshd'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const first = await closeAfterFirstChunk(child);
  expect(first).toMatch(/^\{"line":1,"matched":true,"address":"198\.51\.100\.7"/);
  expect(await exited(child)).toEqual({ code: 141, signal: null });
  expect(err).toBe('');
}, 30000);

const probe = (port: number, from: string): Promise<void> =>
  new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: from });
    s.on('data', () => {});
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.setTimeout(5000, () => {
      s.destroy();
      resolve();
    });
  });

itReal({ root: true, commands: ['unshare'] })(
  'portsentry --stdout piped into a reader that quit: the daemon goes on, lines still reach syslog',
  async () => {
    const port = await freePort();
    const conf = join(dir, 'portsentry.conf');
    writeFileSync(join(dir, 'ignore'), '# none\n');
    writeFileSync(
      conf,
      `TCP_PORTS="${port}"\nBLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\nBLOCK_TCP="0"\nSCAN_TRIGGER="0"\n`,
    );
    const col = new Collector(join(dir, 'log.sock'));
    // Its own /dev/log (a private mount namespace), so nothing goes to the machine's syslog.
    const child = spawn(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$0" /dev/log && exec "$@"',
        col.path,
        process.execPath,
        PORTSENTRY,
        '-tcp',
        '--foreground',
        '--stdout',
        '--config',
        conf,
        '--hosts-deny',
        join(dir, 'hosts.deny'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const done = exited(child);
    try {
      await closeAfterFirstChunk(child);
      await waitFor(() => col.datagrams.some((g) => g.message.includes('now active')), { timeoutMs: 15000 });
      for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) await probe(port, from);
      await waitFor(
        () => col.datagrams.filter((g) => g.message.startsWith('attackalert: Connect from host:')).length === 3,
        { timeoutMs: 10000 },
      );
      expect(child.exitCode).toBeNull();
      child.kill('SIGTERM');
      expect(await done).toEqual({ code: 15, signal: null });
      expect(col.datagrams.map((g) => g.message).slice(-2)).toEqual([
        'securityalert: PortSentry is shutting down\n',
        'adminalert: PortSentry is shutting down\n',
      ]);
      expect(err).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      col.close();
    }
  },
  40000,
);

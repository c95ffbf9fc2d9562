import { afterAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { bin, startDaemon, type Running } from './run-daemon.js';

// SIGTERM while an action's command is running: execa (through signal-exit) listens for SIGTERM too while a
// child runs, and re-sends the signal when it finds itself the last listener. With the daemon's own handler
// removed after the first signal, that killed the daemon by SIGTERM halfway through its shutdown (seen in CI
// as the faults-command test's "signal: SIGTERM"). The daemon must finish its shutdown and exit 0.
const t = makeTmpDir('sentryban-sigterm-');
let daemon: Running | null = null;
afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null) {
    try {
      process.kill(daemon.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await daemon.proc;
  }
  t.cleanup();
});

describe('a stop signal while an action runs', () => {
  it('SIGTERM during a running ban command: the shutdown completes and the daemon exits 0', async () => {
    const dir = t.dir;
    mkdirSync(join(dir, 'jails'), { recursive: true });
    mkdirSync(join(dir, 'actions'), { recursive: true });
    writeFileSync(
      join(dir, 'actions', 'slow.yaml'),
      'timeout: 10s\nparams: {dir: /nonexistent}\nban: [touch $DIR$/started, sleep 2]\n',
    );
    writeFileSync(
      join(dir, 'sentryban.yaml'),
      `state: state\nlogtarget: sentryban.log\ncheckinterval: 0\nactions:\n  slow: {backend: command, action: slow, dir: ${dir}}\n`,
    );
    writeFileSync(
      join(dir, 'jails', 'app.yaml'),
      "app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  ignoreself: false\n  actions: [slow]\n",
    );
    writeFileSync(join(dir, 'app.log'), '');
    daemon = await startDaemon(dir, { timeoutMs: 60_000 });
    const ban = execa('node', [bin, 'ban', 'app', '192.0.2.9', '--config', dir], { reject: false, timeout: 20_000 });
    await waitFor(() => existsSync(join(dir, 'started')), { timeoutMs: 10_000, what: 'the ban command running' });
    process.kill(daemon.pid, 'SIGTERM');
    const end = await daemon.proc;
    await ban;
    expect({ exitCode: end.exitCode, signal: end.signal }).toEqual({ exitCode: 0, signal: undefined });
    expect(readFileSync(join(dir, 'state', 'sentryban.log'), 'utf8')).toContain('Shutdown successful');
  }, 60_000);
});

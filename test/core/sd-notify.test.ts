import { afterAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { formatNotify, openNotifier } from '../../src/core/sd-notify.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { bin, startDaemon, writeConfig } from '../sentryban/daemon/run-daemon.js';

// systemd's side of Type=notify: a datagram socket bound where $NOTIFY_SOCKET points, as PID 1 has it.
const require = createRequire(import.meta.url);
type Sock = { bind(p: string): void; close(): void; on(ev: string, fn: (...a: unknown[]) => void): void };
const unix = require('unix-dgram') as { createSocket(t: string, onMessage: (b: Buffer) => void): Sock };
const { dir, cleanup } = makeTmpDir('sd-notify-');
const socks: Sock[] = [];
afterAll(() => {
  for (const s of socks) s.close();
  cleanup();
});
const listen = (name: string): { path: string; got: string[] } => {
  const got: string[] = [];
  const path = join(dir, name);
  const s = unix.createSocket('unix_dgram', (b) => got.push(b.toString()));
  s.on('error', () => {});
  s.bind(path);
  socks.push(s);
  return { path, got };
};

describe('sd_notify', () => {
  it('sends one datagram of KEY=value lines to $NOTIFY_SOCKET, and unsets it for the commands run later', async () => {
    const { path, got } = listen('one.sock');
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: path };
    const warned: string[] = [];
    const n = openNotifier((m) => warned.push(m), env);
    expect(env.NOTIFY_SOCKET).toBeUndefined();
    n.notify({ READY: 1, MAINPID: 42, STATUS: 'two\nlines' });
    await waitFor(() => got.length === 1, { what: 'the datagram' });
    expect(got).toEqual(['READY=1\nMAINPID=42\nSTATUS=two lines']);
    expect(warned).toEqual([]);
  });

  it('is a no-op without $NOTIFY_SOCKET, says why for an abstract address, and warns when nobody listens', () => {
    const warned: string[] = [];
    openNotifier((m) => warned.push(m), {}).notify({ READY: 1 });
    expect(warned).toEqual([]);
    openNotifier((m) => warned.push(m), { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }).notify({ READY: 1 });
    expect(warned).toEqual([
      'NOTIFY_SOCKET=@/org/freedesktop/systemd1/notify: only a socket path is supported (no abstract or vsock address); not notifying',
    ]);
    openNotifier((m) => warned.push(m), { NOTIFY_SOCKET: join(dir, 'nobody.sock') }).notify({ READY: 1 });
    expect(warned[1]).toMatch(/^NOTIFY_SOCKET .*nobody\.sock: .*ENOENT/);
    expect(formatNotify({ STOPPING: 1 })).toBe('STOPPING=1');
  });

  it('the daemon: READY=1 with its pid once the socket answers, RELOADING=1 then READY=1 before the reload reply, STOPPING=1', async () => {
    const { path, got } = listen('daemon.sock');
    const conf = join(dir, 'conf');
    writeConfig(conf, { app: 'app:\n  logpath: app.log\n  failregex: "fail from <HOST>$"\n' }, 'checkinterval: 0\n');
    writeFileSync(join(conf, 'app.log'), '');
    const d = await startDaemon(conf, { prefix: ['env', `NOTIFY_SOCKET=${path}`] });
    try {
      await waitFor(() => got.length >= 1, { what: 'READY=1' });
      expect(got).toEqual([`READY=1\nMAINPID=${d.pid}\nSTATUS=running`]);
      const r = await execa('node', [bin, 'reload', '--config', conf], { reject: false, timeout: 30_000 });
      expect(r.exitCode).toBe(0);
      expect(got.slice(1)).toEqual(['RELOADING=1\nSTATUS=reloading', 'READY=1\nSTATUS=running']);
      process.kill(d.pid, 'SIGTERM');
      expect((await d.proc).exitCode).toBe(0);
      await waitFor(() => got.length === 4, { what: 'STOPPING=1' });
      expect(got[3]).toBe('STOPPING=1\nSTATUS=stopping');
    } finally {
      if (d.proc.exitCode === null) process.kill(d.pid, 'SIGKILL');
    }
  }, 60_000);
});

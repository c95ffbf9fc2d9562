import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { bin, kill9, query, startDaemon, writeConfig, type Running } from './run-daemon.js';

// The control socket and the client verbs against the real daemon.
let dir = '';
let cleanup = (): void => {};
let d: Running | null = null;
const sock = (): string => join(dir, 'state', 'sentryban.sock');
const cli = (...args: string[]) => execa('node', [bin, ...args, '--config', dir], { reject: false, timeout: 20_000 });
const raw = (line: string): Promise<string> =>
  new Promise((res, rej) => {
    const c = connect(sock());
    let buf = '';
    c.on('connect', () => c.write(`${line}\n`));
    c.on('data', (b) => {
      buf += b.toString();
      if (buf.includes('\n')) {
        c.destroy();
        res(buf.trim());
      }
    });
    c.on('error', rej);
  });

beforeAll(async () => {
  const t = makeTmpDir('sentryban-ctl-');
  dir = t.dir;
  cleanup = t.cleanup;
  writeConfig(dir, {
    app: `app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n  ignorecommand: /usr/bin/test <ip> = 192.0.2.9\n  actions: [deny]\n`,
  });
  writeFileSync(join(dir, 'app.log'), '');
  d = await startDaemon(dir);
});
afterAll(async () => {
  if (d && d.proc.exitCode === null) await kill9(d);
  cleanup();
});

describe('control socket', () => {
  it('is a socket only its owner can use', () => {
    const st = statSync(sock());
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o077).toBe(0);
  });
  it('speaks versioned JSON and refuses what it does not know', async () => {
    expect(JSON.parse(await raw('{"version":2,"verb":"status"}'))).toEqual({
      version: 1,
      ok: false,
      error: 'unsupported protocol version 2 (this daemon speaks 1)',
    });
    expect(JSON.parse(await raw('{"version":1,"verb":"reboot"}')).error).toBe(
      'unknown verb "reboot" (known: status, ban, unban, list, audit, test, check, reload, banned, flush, get)',
    );
    expect(JSON.parse(await raw('not json')).error).toBe('not JSON');
  });
  it('ban, list, unban, audit, status, test through the client', async () => {
    expect((await cli('ban', 'app', '198.51.100.0/24')).exitCode).toBe(0);
    expect((await cli('ban', 'nojail', '192.0.2.1')).stderr).toContain('no jail "nojail"');
    expect((await cli('ban', 'app', 'not-an-ip')).stderr).toContain('"not-an-ip" is not an address or CIDR');
    const list = (await cli('list')).stdout.split('\n').map((l) => l.split(/ {2,}/));
    expect(list[0]).toEqual(['JAIL', 'ADDRESS', 'BANNED', 'EXPIRES', 'LEFT', 'BANTIME', 'BANS', 'APPLIED']);
    expect(list.slice(1).map((r) => [r[0], r[1], r[5], r[6], r[7]])).toEqual([
      ['app', '198.51.100.0/24', '1h', '1', 'applied'],
    ]);
    expect((await cli('unban', '198.51.100.0/24')).stdout).toBe('unbanned 198.51.100.0/24 (1 ban(s) lifted)');
    expect(JSON.parse((await cli('unban', '198.51.100.0/24', '--json')).stdout)).toEqual({ unbanned: 0 });
    expect((await cli('list')).stdout).toBe('no bans in force');
    const audit = (await cli('audit', '--jail', 'app')).stdout.split('\n').map((l) => l.split(/ {2,}/));
    expect(audit.map((r) => r.slice(1))).toEqual([
      ['JAIL', 'KIND', 'TARGET', 'DETAIL'],
      ['app', 'ban', '198.51.100.0/24', `manual ban; bantime 3600s; until ${audit[1]![4]!.split('until ')[1]}`],
      ['app', 'unban', '198.51.100.0/24', 'manual'],
    ]);
    const test = JSON.parse(
      (await cli('test', 'app', '2026-01-01T00:00:00Z', 'auth', 'failure', 'from', '203.0.113.1', '--json')).stdout,
    );
    expect(test).toMatchObject({ match: true, id: '203.0.113.1', decisions: ['found', 'ban'] });
    const status = JSON.parse((await cli('status', '--json')).stdout);
    expect(status.memory.rssMiB).toBeGreaterThan(0);
    expect(status.jails).toEqual([
      { jail: 'app', lines: 0, failures: 0, counting: 0, bansTotal: 1, banned: 0, notApplied: 0 },
    ]);
  });
  it('status <jail> as fail2ban-client, and command lines refused before the daemon is asked', async () => {
    expect((await cli('ban', 'app', '203.0.113.9')).exitCode).toBe(0);
    const one = JSON.parse((await cli('status', 'app', '--json')).stdout);
    expect(one).toMatchObject({
      jail: 'app',
      banned: 1,
      notApplied: 0,
      bans: [{ jail: 'app', target: '203.0.113.9', applied: 'applied' }],
    });
    expect((await cli('status', 'nojail')).stderr).toBe('sentryban status: no jail "nojail"');
    expect((await cli('unban', '203.0.113.9')).exitCode).toBe(0);
    for (const [args, why] of [
      [['audit', '--limit', 'abc'], '--limit expects a whole number of rows, 1 or more (got "abc")'],
      [['audit', '--limit', '0'], '--limit expects a whole number of rows, 1 or more (got "0")'],
      [['audit', '--limt', '5'], 'unknown option --limt'],
      [['status', 'app', 'extra'], 'unexpected argument "extra"'],
      [['list', 'app', 'x'], 'unexpected argument "x"'],
    ] as const) {
      const r = await cli(...args);
      expect({ code: r.exitCode, err: r.stderr }).toEqual({ code: 64, err: `sentryban ${args[0]}: ${why}` });
    }
    expect(JSON.parse(await raw('{"version":1,"verb":"audit","args":{"limit":-1}}')).error).toBe(
      'limit must be a whole number, 1 or more',
    );
  });
  it('ignorecommand runs as an argv (exit 0 ignores, 1 does not)', async () => {
    const now = new Date().toISOString();
    appendFileSync(join(dir, 'app.log'), `${now} auth failure from 192.0.2.9\n${now} auth failure from 192.0.2.10\n`);
    await waitFor(() => query(dir, "SELECT 1 FROM bans WHERE target = '192.0.2.10/32'").length === 1, {
      what: 'ban of .10',
    });
    expect(query(dir, "SELECT target, detail FROM audit WHERE kind = 'ignored'")).toEqual([
      { target: '192.0.2.9', detail: 'ignorecommand' },
    ]);
  });
});

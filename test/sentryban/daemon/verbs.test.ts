import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { bin, denyLines, kill9, query, startDaemon, writeConfig, type Running } from './run-daemon.js';

// The verbs fail2ban-client users reach for, through the real client and daemon: banned, flush, unban --all,
// get. Each with and without --json.
const t = makeTmpDir('sentryban-verbs-');
const dir = t.dir;
let d: Running | null = null;
const jail = (name: string, extra = ''): string =>
  `${name}:\n  logpath: ${name}.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n  actions: [deny]\n${extra}`;
const cli = async (...args: string[]) => {
  const r = await execa('node', [bin, ...args, '--config', dir], { reject: false, timeout: 30_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
};
const json = async (...args: string[]): Promise<unknown> => {
  const r = await cli(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};
beforeAll(async () => {
  writeConfig(dir, {
    sshd: jail('sshd', '  ignoreip: [192.0.2.250, 198.51.100.0/24]\n  findtime: 10m\n'),
    web: jail('web', '  ipv6prefix: 64\n'),
  });
  writeFileSync(join(dir, 'sshd.log'), '');
  writeFileSync(join(dir, 'web.log'), '');
  d = await startDaemon(dir);
  const at = new Date().toISOString();
  appendFileSync(join(dir, 'sshd.log'), `${at} auth failure from 192.0.2.5\n${at} auth failure from 203.0.113.9\n`);
  appendFileSync(join(dir, 'web.log'), `${at} auth failure from 192.0.2.5\n${at} auth failure from 2001:db8:1:2::7\n`);
  await waitFor(() => denyLines(dir).length === 4, { what: 'four bans' });
});
afterAll(async () => {
  if (d && d.proc.exitCode === null) await kill9(d).catch(() => {});
  t.cleanup();
});

describe('client verbs', () => {
  it('banned: which jails ban each address (a prefix ban covers its addresses); without addresses, per jail', async () => {
    expect(await json('banned', '192.0.2.5', '2001:db8:1:2::99', '198.51.100.1')).toEqual([
      { target: '192.0.2.5', jails: ['sshd', 'web'] },
      { target: '2001:db8:1:2::99', jails: ['web'] },
      { target: '198.51.100.1', jails: [] },
    ]);
    expect((await cli('banned', '192.0.2.5', '198.51.100.1')).stdout).toBe(
      '192.0.2.5\tsshd web\n198.51.100.1\t(not banned)',
    );
    expect(await json('banned')).toEqual([
      { jail: 'sshd', targets: ['192.0.2.5', '203.0.113.9'] },
      { jail: 'web', targets: ['192.0.2.5', '2001:db8:1:2::/64'] },
    ]);
    const bad = await cli('banned', 'not-an-address');
    expect([bad.code, bad.stderr]).toEqual([1, 'sentryban banned: "not-an-address" is not an address or CIDR']);
  });

  it('get: the effective settings under fail2ban key names', async () => {
    expect(await json('get', 'sshd', 'maxretry')).toEqual({ jail: 'sshd', key: 'maxretry', value: 1 });
    expect(await json('get', 'sshd', 'ignoreip')).toEqual({
      jail: 'sshd',
      key: 'ignoreip',
      value: ['192.0.2.250', '198.51.100.0/24'],
    });
    expect((await cli('get', 'sshd', 'findtime')).stdout).toBe('600');
    expect((await cli('get', 'sshd', 'ignoreip')).stdout).toBe('192.0.2.250\n198.51.100.0/24');
    expect((await cli('get', 'web', 'ipv6prefix')).stdout).toBe('64');
    expect((await cli('get', 'sshd', 'failregex')).stdout).toBe('auth failure from <HOST>$');
    expect((await cli('get', 'sshd', 'logpath')).stdout).toBe(join(dir, 'sshd.log'));
    const bad = await cli('get', 'sshd', 'maxretyr');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^sentryban get: unknown setting "maxretyr"; known: maxretry, findtime, bantime, /);
    expect((await cli('get', 'nojail', 'maxretry')).stderr).toBe('sentryban get: no jail "nojail"');
  });

  it('audit --addr finds an address under both texts its rows carry (failures: addr, bans: addr/32)', async () => {
    const rows = (await json('audit', '--addr', '192.0.2.5', '--jail', 'sshd')) as { kind: string; target: string }[];
    expect(rows.map((r) => `${r.kind} ${r.target}`)).toEqual(['found 192.0.2.5', 'ban 192.0.2.5/32']);
    const net = (await json('audit', '--addr', '2001:db8:1:2::/64')) as { kind: string }[];
    expect(net.map((r) => r.kind)).toEqual(['ban']);
  });

  it('flush lifts one jail; unban --all lifts every jail; each audited as a manual unban', async () => {
    expect((await cli('flush', 'web')).stdout).toBe('web: 2 ban(s) lifted');
    await waitFor(() => denyLines(dir).length === 2, { what: 'web lifted' });
    expect(await json('banned')).toEqual([
      { jail: 'sshd', targets: ['192.0.2.5', '203.0.113.9'] },
      { jail: 'web', targets: [] },
    ]);
    expect(await json('unban', '--all')).toEqual({ unbanned: 2 });
    await waitFor(() => denyLines(dir).length === 0, { what: 'all lifted' });
    expect(await json('unban', '--all', 'sshd')).toEqual({ unbanned: 0 });
    const rows = query<{ kind: string; detail: string }>(dir, "SELECT kind, detail FROM audit WHERE kind = 'unban'");
    expect(rows.map((r) => r.detail.split(';')[0])).toEqual(['manual', 'manual', 'manual', 'manual']);
    const bad = await cli('unban', '--all', '192.0.2.5');
    expect([bad.code, bad.stderr]).toEqual([1, 'sentryban unban: no jail "192.0.2.5"']);
    expect((await cli('flush')).code).toBe(1);
  });
});

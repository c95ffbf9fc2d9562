import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { loadConfig } from '../../../src/sentryban/config/load.js';
import { makeTmpDir } from '../../helpers/tmp.js';

const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});
const JAILS = {
  'sshd.yaml': "sshd:\n  logpath: auth.log\n  failregex: 'from <HOST>'\n",
  'web.yaml': "web:\n  logpath: web.log\n  failregex: 'from <HOST>'\n",
};
const configDir = (fleet: string, files: Record<string, string> = {}): string => {
  const t = makeTmpDir('sentryban-fleet-cfg-');
  tmps.push(t.cleanup);
  writeFileSync(join(t.dir, 'sentryban.yaml'), `state: state\n${fleet}`);
  mkdirSync(join(t.dir, 'jails'));
  for (const [n, text] of Object.entries(JAILS)) writeFileSync(join(t.dir, 'jails', n), text);
  for (const [n, text] of Object.entries(files)) writeFileSync(join(t.dir, n), text);
  return t.dir;
};
const load = async (dir: string) => {
  const r = await loadConfig(dir);
  if (!r.ok) return { errors: r.errors.map((e) => formatDiagnostic(e).replace(`${dir}/`, '')), fleet: null };
  return { errors: [], fleet: r.value.main.fleet };
};

describe('sentryban.yaml fleet:', () => {
  it('is absent by default: a single host needs no Redis', async () => {
    expect(await load(configDir(''))).toEqual({ errors: [], fleet: null });
  });

  it('reads url, name, host, lists, origins and policy', async () => {
    const dir = configDir(
      [
        'fleet:',
        '  url: rediss://ban:s3cr%40t@redis.example.:6380/2',
        '  name: edge',
        '  host: web1',
        '  publish: [sshd, web]',
        '  receive: all',
        '  origins: web2, web3',
        '  policy: {cap: 2h}',
        '  maxlen: 5000',
        '',
      ].join('\n'),
    );
    const { errors, fleet } = await load(dir);
    expect(errors).toEqual([]);
    expect(fleet).toMatchObject({
      url: 'rediss://redis.example.:6380/2',
      tls: true,
      host: 'redis.example.',
      port: 6380,
      db: 2,
      username: 'ban',
      password: 's3cr@t',
      name: 'edge',
      origin: 'web1',
      receive: { all: true },
      origins: { all: false, names: ['web2', 'web3'] },
      policy: { kind: 'cap', capSec: 7200 },
      maxlen: 5000,
    });
    expect(fleet?.publish).toMatchObject({ all: false, names: [{ text: 'sshd' }, { text: 'web' }] });
  });

  it('defaults: port 6379, db 0, host name of this machine, policy remaining, nothing published or received', async () => {
    const { errors, fleet } = await load(configDir('fleet:\n  url: redis://127.0.0.1\n'));
    expect(errors).toEqual([]);
    expect(fleet).toMatchObject({
      port: 6379,
      db: 0,
      tls: false,
      username: null,
      password: null,
      name: 'sentryban',
      origin: hostname(),
      policy: { kind: 'remaining' },
      publish: { all: false, names: [] },
      receive: { all: false, names: [] },
    });
  });

  it('takes the password from passwordfile (relative to the config folder, trailing newline dropped)', async () => {
    const dir = configDir('fleet:\n  url: redis://u@[::1]:7000\n  passwordfile: redis.pass\n', {
      'redis.pass': 'pa ss\n',
    });
    const { errors, fleet } = await load(dir);
    expect(errors).toEqual([]);
    expect(fleet).toMatchObject({ host: '::1', port: 7000, username: 'u', password: 'pa ss' });
  });

  it('refuses bad values with file:line', async () => {
    const bad = async (fleet: string, files: Record<string, string> = {}): Promise<string[]> =>
      (await load(configDir(fleet, files))).errors;
    expect(await bad('fleet:\n  url: http://x\n')).toEqual([
      'sentryban.yaml:3:8: fleet.url: expected a redis:// or rediss:// URL, got "http:"',
    ]);
    expect(await bad('fleet:\n  url: redis\n')).toEqual([
      'sentryban.yaml:3:8: fleet.url: expected redis://[user[:password]@]host[:port][/db], got "redis"',
    ]);
    expect(await bad('fleet:\n  url: redis://h/x\n')).toEqual([
      'sentryban.yaml:3:8: fleet.url: the database is a number 0-99, got "x"',
    ]);
    expect(await bad('fleet:\n  name: x\n')).toEqual([
      'sentryban.yaml:3:3: fleet.url: missing url (redis://host:port or rediss://host:port for TLS)',
    ]);
    expect(
      await bad(
        [
          'fleet:',
          '  url: redis://h',
          '  host: "web 1"',
          '  publish: [sshd, nosuch]',
          '  receive: [web]',
          '  policy: forever',
          '  maxlen: 3',
          '  passwordfile: /nonexistent/pass',
          '  cafile: ca.pem',
          '  origin: x',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      'sentryban.yaml:3:3: fleet.origins: receiving jails need `origins:` (the hosts whose bans apply here, or all)',
      'sentryban.yaml:4:10: fleet.host: expected letters, digits, . _ - (at most 64), got "web 1"',
      'sentryban.yaml:5:19: fleet.publish: no enabled jail "nosuch"',
      'sentryban.yaml:7:11: fleet.policy: expected same, remaining or {cap: DURATION}, got "forever"',
      'sentryban.yaml:8:11: fleet.maxlen: expected an integer >= 100, got "3"',
      'sentryban.yaml:9:17: fleet.passwordfile: cannot read /nonexistent/pass: ENOENT',
      'sentryban.yaml:10:11: fleet.cafile: a CA file is for rediss:// only',
      'sentryban.yaml:11:3: fleet.origin: unknown key "origin" (did you mean "origins"?)',
    ]);
    expect(await bad('fleet:\n  url: redis://h\n  policy: {cap: 0}\n  origins: [a/b]\n')).toEqual([
      'sentryban.yaml:4:17: fleet.policy.cap: the cap is a duration above 0',
      'sentryban.yaml:5:13: fleet.origins: "a/b" is not a host name',
    ]);
    expect(await bad('fleet:\n  url: redis://:pw@h\n  passwordfile: p\n', { p: 'x' })).toEqual([
      'sentryban.yaml:4:17: fleet.passwordfile: the URL has a password already: give one',
    ]);
  });
});

import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../../../bench/lib/redis-server.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { denyLines, kill9, startDaemon, writeConfig, type Running } from '../daemon/run-daemon.js';

// rediss://: a redis-server on loopback speaking TLS only, with a certificate made here (for 127.0.0.1) and given
// to the daemons as `cafile`; a daemon given no CA (the system's) cannot connect and says why, once.
const it = itReal({ commands: ['redis-server', 'openssl'] });
let root = '';
let cleanup = (): void => {};
let redis: RedisServer | null = null;
const daemons: Running[] = [];
const iso = (): string => new Date().toISOString();
const fleetYaml = (host: string, port: number, ca: boolean): string =>
  [
    'fleet:',
    `  url: rediss://127.0.0.1:${port}`,
    ...(ca ? ['  cafile: ../ca.pem'] : []),
    `  host: ${host}`,
    '  publish: all',
    '  receive: all',
    '  origins: all',
    '',
  ].join('\n');
const jail = "app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  actions: [deny]\n";
const logOf = (dir: string): string => {
  const f = join(dir, 'state', 'sentryban.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};

beforeAll(async () => {
  const t = makeTmpDir('sentryban-fleet-tls-');
  root = t.dir;
  cleanup = t.cleanup;
  await execa(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=sentryban test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(root, 'key.pem'),
      '-out',
      join(root, 'ca.pem'),
    ],
    { timeout: 30_000 },
  );
  redis = await startRedis(root, { tls: { cert: join(root, 'ca.pem'), key: join(root, 'key.pem') } });
  for (const [h, ca] of [
    ['a', true],
    ['b', true],
    ['n', false],
  ] as const) {
    writeConfig(join(root, h), { app: jail }, fleetYaml(h, redis.port, ca));
    writeFileSync(join(root, h, 'app.log'), '');
    daemons.push(await startDaemon(join(root, h)));
  }
}, 60_000);
afterAll(async () => {
  for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) await kill9(d);
  await redis?.stop();
  cleanup();
});

describe('fleet over TLS (rediss://)', () => {
  it('a ban on one host reaches the other over TLS; a host without the CA refuses the server', async () => {
    appendFileSync(join(root, 'a', 'app.log'), `${iso()} auth failure from 192.0.2.44\n`);
    await waitFor(() => denyLines(join(root, 'b')).includes('ALL: 192.0.2.44'), { what: 'ban on b over TLS' });
    expect(logOf(join(root, 'b'))).toContain('fleet: connected to rediss://127.0.0.1:');
    await waitFor(
      () => /fleet: cannot reach rediss:\/\/127\.0\.0\.1:\d+\/: .*certificate/.test(logOf(join(root, 'n'))),
      {
        what: 'n says it cannot reach the server',
      },
    );
    expect(denyLines(join(root, 'n'))).toEqual([]);
    expect(logOf(join(root, 'n')).match(/cannot reach/g)).toHaveLength(1);
  });
});

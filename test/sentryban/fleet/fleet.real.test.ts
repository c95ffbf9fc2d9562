import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseCidr } from '../../../src/core/addr.js';
import { encodeEvent } from '../../../src/sentryban/fleet/event.js';
import { itReal } from '../../helpers/real.js';
import { startRedis, type RedisServer } from '../../../bench/lib/redis-server.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { freePort } from '../../helpers/ports.js';
import { scrape, valueOf } from '../../helpers/prom.js';
import { bin, denyLines, kill9, query, startDaemon, writeConfig, type Running } from '../daemon/run-daemon.js';

// Three sentryban daemons (a, b, c), each with its own state and hosts.deny, sharing bans through a real
// redis-server on loopback (AOF, fsync always: a restart of Redis loses nothing it acknowledged).
const it = itReal({ commands: ['redis-server'] });
const HOSTS = ['a', 'b', 'c'] as const;
type Host = (typeof HOSTS)[number];
let root = '';
let cleanup = (): void => {};
let redis: RedisServer | null = null;
const daemons = new Map<Host, Running>();
const metricsPort = new Map<Host, number>(); // a and b serve metrics (docs/metrics.md), c does not
const dirOf = (h: Host): string => join(root, h);
const iso = (): string => new Date().toISOString();
const fail = (h: Host, addrs: readonly string[]): void =>
  appendFileSync(join(dirOf(h), 'app.log'), addrs.map((a) => `${iso()} auth failure from ${a}\n`).join(''));
const cli = (h: Host, ...args: string[]) =>
  execa('node', [bin, ...args, '--config', dirOf(h)], { reject: false, timeout: 20_000 });
const denied = (h: Host): Set<string> => new Set(denyLines(dirOf(h)).map((l) => l.slice('ALL: '.length)));
const hasAll = (h: Host, addrs: readonly string[]): boolean => {
  const d = denied(h);
  return addrs.every((a) => d.has(a));
};
// Ban rows per target in a host's store: each received ban applied once.
const banRows = (h: Host, origin: string): Map<string, number> => {
  const rows = query<{ target: string; n: number }>(
    dirOf(h),
    'SELECT target, COUNT(*) AS n FROM bans WHERE origin = ? GROUP BY target',
    origin,
  );
  return new Map(rows.map((r) => [r.target.replace(/\/32$/, ''), r.n]));
};
const logOf = (h: Host): string => {
  const f = join(dirOf(h), 'state', 'sentryban.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};
const range = (prefix: string, from: number, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}.${from + i}`);
const start = async (h: Host): Promise<void> => {
  daemons.set(h, await startDaemon(dirOf(h)));
};

beforeAll(async () => {
  const t = makeTmpDir('sentryban-fleet-');
  root = t.dir;
  cleanup = t.cleanup;
  try {
    redis = await startRedis(root, { aof: true });
  } catch {
    return; // no redis-server here: the tests say so (itReal)
  }
  for (const h of ['a', 'b'] as const) metricsPort.set(h, await freePort());
  for (const h of HOSTS) {
    writeConfig(
      dirOf(h),
      {
        app: [
          'app:',
          '  logpath: app.log',
          "  failregex: 'auth failure from <HOST>$'",
          '  maxretry: 1',
          '  bantime: 1h',
          '  ignoreself: false',
          '  actions: [deny]',
          '',
        ].join('\n'),
      },
      [
        'fleet:',
        `  url: redis://127.0.0.1:${redis.port}`,
        '  name: t',
        `  host: ${h}`,
        '  publish: all',
        '  receive: all',
        '  origins: [a, b, c]',
        ...(metricsPort.has(h) ? [`metrics: 127.0.0.1:${metricsPort.get(h)}`] : []),
        '',
      ].join('\n'),
    );
    writeFileSync(join(dirOf(h), 'app.log'), '');
  }
  for (const h of HOSTS) await start(h);
}, 60_000);
afterAll(async () => {
  for (const d of daemons.values()) if (d.proc.exitCode === null && d.proc.signalCode === null) await kill9(d);
  await redis?.stop();
  if (process.env.FLEET_TEST_KEEP) process.stderr.write(`kept ${root}\n`);
  else cleanup();
});

describe('fleet: three daemons, one Redis stream', () => {
  it('a ban on one host shows on the others, with its origin in list and audit; no echo', async () => {
    fail('a', ['192.0.2.7']);
    await waitFor(() => hasAll('b', ['192.0.2.7']) && hasAll('c', ['192.0.2.7']), { what: 'ban on b and c' });
    expect(logOf('a')).not.toContain('refused');
    const list = JSON.parse((await cli('b', 'list', '--json')).stdout) as { target: string; origin?: string }[];
    expect(list.map((b) => [b.target, b.origin])).toEqual([['192.0.2.7', 'a']]);
    expect((await cli('b', 'list')).stdout.split('\n')[0]).toMatch(/APPLIED +ORIGIN$/);
    const audit = JSON.parse((await cli('c', 'audit', '--json', '--jail', 'app')).stdout) as {
      kind: string;
      detail: string;
    }[];
    expect(audit.filter((r) => r.kind === 'ban').map((r) => r.detail.split(';')[0])).toEqual([
      'fleet ban from a: 1 failure within findtime 600s reached maxretry 1',
    ]);
    // a's own ban is not re-applied from the stream (its own event comes back and is skipped)
    expect(banRows('a', 'a').size).toBe(0);
    expect(query<{ n: number }>(dirOf('a'), "SELECT COUNT(*) AS n FROM bans WHERE state = 'active'")[0]!.n).toBe(1);
  });

  it("the fleet's series on the metrics page: published on the origin, received and applied on a receiver", async () => {
    const page = async (h: Host) => (await scrape(`http://127.0.0.1:${metricsPort.get(h)}/metrics`)).families;
    const a = await page('a');
    expect(valueOf(a, 'sentryban_fleet_published_total')).toBeGreaterThanOrEqual(1);
    expect(valueOf(a, 'sentryban_fleet_outbox')).toBe(0);
    const b = await page('b');
    expect(valueOf(b, 'sentryban_fleet_received_total')).toBeGreaterThanOrEqual(1);
    expect(valueOf(b, 'sentryban_fleet_applied_total')).toBeGreaterThanOrEqual(1);
    expect(valueOf(b, 'sentryban_fleet_refused_total')).toBe(0);
    expect(valueOf(b, 'sentryban_fleet_lag_seconds')).toBeGreaterThanOrEqual(0); // present, a time
  });

  it('an unban propagates; a received unban lifts only received bans', async () => {
    fail('b', ['192.0.2.8']);
    await waitFor(() => hasAll('a', ['192.0.2.8']) && hasAll('c', ['192.0.2.8']), { what: 'ban from b' });
    expect((await cli('a', 'unban', '192.0.2.7')).exitCode).toBe(0);
    await waitFor(() => !denied('b').has('192.0.2.7') && !denied('c').has('192.0.2.7'), { what: 'unban on b, c' });
    // an operator's unban on c of b's ban reaches a; b keeps its own ban (decided there)
    expect((await cli('c', 'unban', '192.0.2.8')).exitCode).toBe(0);
    await waitFor(() => !denied('a').has('192.0.2.8'), { what: 'unban on a' });
    expect(denied('b').has('192.0.2.8')).toBe(true);
    expect(logOf('b')).not.toContain('refused');
  });

  it('Redis restarted mid-burst: no ban lost, none applied twice', async () => {
    const burst = [...range('198.51.100', 1, 150), ...range('203.0.113', 1, 150)];
    for (let i = 0; i < 100; i += 20) fail('a', burst.slice(i, i + 20));
    await waitFor(() => hasAll('a', burst.slice(0, 100)), { what: 'first part banned on a' });
    await redis!.stop();
    for (let i = 100; i < 200; i += 20) fail('a', burst.slice(i, i + 20)); // local bans go on without Redis
    await waitFor(() => hasAll('a', burst.slice(0, 200)), { what: 'bans on a while Redis is down' });
    await redis!.start();
    for (let i = 200; i < 300; i += 20) fail('a', burst.slice(i, i + 20));
    for (const h of ['b', 'c'] as const)
      await waitFor(() => hasAll(h, burst), { what: `the whole burst on ${h}`, timeoutMs: 30_000 });
    for (const h of ['b', 'c'] as const) {
      const rows = banRows(h, 'a');
      expect(burst.filter((t) => rows.get(t) !== 1)).toEqual([]);
    }
    for (const h of HOSTS) expect(logOf(h)).toMatch(/fleet: lost .*fleet: connected/s);
    // caught up through the stream, from each host's position (no re-sync from the snapshot)
    for (const h of HOSTS) expect(logOf(h)).not.toContain('behind the trim point');
  }, 60_000);

  it('a host killed with kill -9 catches up from its position on restart', async () => {
    await kill9(daemons.get('c')!);
    const more = range('192.0.2', 100, 40);
    fail('a', more.slice(0, 20));
    fail('b', more.slice(20));
    await waitFor(() => hasAll('a', more) && hasAll('b', more), { what: 'bans on a and b' });
    await start('c');
    await waitFor(() => hasAll('c', more), { what: 'c caught up' });
    const rows = new Map([...banRows('c', 'a'), ...banRows('c', 'b')]);
    expect(more.filter((t) => rows.get(t) !== 1)).toEqual([]);
    expect(logOf('c')).not.toContain('re-synced from the snapshot (behind');
  }, 60_000);

  it('forged entries are refused and audited, never applied', async () => {
    const r = new Redis({ host: '127.0.0.1', port: redis!.port, lazyConnect: true });
    await r.connect();
    try {
      const now = Date.now();
      const base = ['v', '1', 'kind', 'ban', 'id', 'x-1', 'jail', 'app', 'at', String(now)];
      const tail = ['exp', String(now + 3_600_000), 'bantime', '3600', 'reason', 'forged'];
      await r.xadd('t', '*', ...base, 'origin', 'evil', 'target', '192.0.2.66', ...tail);
      await r.xadd('t', '*', ...base, 'origin', 'a', 'target', '0.0.0.0/0', ...tail);
      await r.xadd('t', '*', ...base, 'origin', 'a', 'target', '192.0.2.67; reboot', ...tail);
      await r.xadd('t', '*', 'v', '1', 'kind', 'exec', 'cmd', 'reboot');
      // a well-formed one after them still arrives: the refusals do not stop the reader
      await r.xadd('t', '*', ...base, 'origin', 'a', 'target', '192.0.2.68', ...tail);
    } finally {
      r.disconnect();
    }
    await waitFor(() => hasAll('b', ['192.0.2.68']) && hasAll('c', ['192.0.2.68']), { what: 'the good entry' });
    for (const h of ['b', 'c'] as const) {
      expect(denied(h).has('192.0.2.66')).toBe(false);
      const refused = query<{ detail: string }>(
        dirOf(h),
        "SELECT detail FROM audit WHERE kind = 'fleet-refused' ORDER BY id",
      ).map((x) => x.detail);
      expect(refused).toEqual([
        'fleet stream entry refused: origin "evil" is not allowed',
        'fleet stream entry refused: target 0.0.0.0/0 wider than /16',
        'fleet stream entry refused: target is not an address or CIDR',
        'fleet stream entry refused: kind is neither ban nor unban',
      ]);
    }
  });

  it('a host behind the trim point re-syncs from the snapshot (bans in force applied, others lifted)', async () => {
    await kill9(daemons.get('b')!);
    expect((await cli('a', 'unban', '198.51.100.1')).exitCode).toBe(0); // b holds it; b misses this unban
    const many = [...range('203.0.113', 151, 100), ...range('198.51.100', 151, 100)];
    for (let i = 0; i < many.length; i += 50) fail('a', many.slice(i, i + 50));
    await waitFor(() => hasAll('c', many), { what: 'c has them', timeoutMs: 20_000 });
    const r = new Redis({ host: '127.0.0.1', port: redis!.port, lazyConnect: true });
    await r.connect();
    try {
      await r.xtrim('t', 'MAXLEN', 10); // the stream trimmed past b's position while b was down
    } finally {
      r.disconnect();
    }
    await start('b');
    await waitFor(() => hasAll('b', many) && !denied('b').has('198.51.100.1'), { what: 'b re-synced' });
    // (the re-sync is logged once its bans and lifts are applied, a moment after hosts.deny shows them)
    await waitFor(() => logOf('b').includes('fleet: re-synced from the snapshot (behind'), {
      what: 'the re-sync logged',
    });
    expect(logOf('b')).toMatch(/fleet: re-synced from the snapshot \(behind the trim point/);
    const rows = banRows('b', 'a');
    expect(many.filter((t) => rows.get(t) !== 1)).toEqual([]);
  }, 60_000);

  // A reader checks the trim state (XINFO) only when its position's entry is not read back first; here the stream
  // is trimmed past every position while the hosts run and read, in the same MULTI as the entries that wake them.
  it('a running host whose position is trimmed away re-syncs; own entries move a host position', async () => {
    const r = new Redis({ host: '127.0.0.1', port: redis!.port, lazyConnect: true });
    await r.connect();
    try {
      const stored = (h: Host): string | undefined =>
        query<{ value: string }>(dirOf(h), "SELECT value FROM fleet_state WHERE key = 'position'")[0]?.value;
      // a's own entries, read back and skipped, still move its stored position to the stream's end
      fail('a', ['192.0.2.201']);
      await waitFor(() => hasAll('b', ['192.0.2.201']), { what: 'ban on b' });
      const [top] = (await r.xrevrange('t', '+', '-', 'COUNT', 1)) as [string, string[]][];
      await waitFor(() => stored('a') === top?.[0], { what: "a's position at the stream's end" });
      const resyncs = (h: Host): number => logOf(h).split('re-synced from the snapshot (behind').length - 1;
      const before = { b: resyncs('b'), c: resyncs('c') };
      const now = Date.now();
      const targets = range('203.0.113', 31, 20);
      const m = r.multi();
      for (const [i, t] of targets.entries()) {
        const fields = encodeEvent({
          kind: 'ban',
          id: `a-trim${i}`,
          origin: 'a',
          jail: 'app',
          target: parseCidr(t)!,
          bannedAt: now,
          expiresAt: now + 3_600_000,
          bantimeSec: 3600,
          reason: 'trimmed away',
        });
        m.xadd('t', '*', ...fields);
        m.hset('t:snapshot', `app ${t}`, `a\n${JSON.stringify(fields)}`);
      }
      m.xtrim('t', 'MAXLEN', 2);
      await m.exec();
      await waitFor(() => hasAll('b', targets) && hasAll('c', targets), { what: 'b and c re-synced' });
      await waitFor(() => resyncs('b') > before.b && resyncs('c') > before.c, { what: 'the re-syncs logged' });
      const rows = banRows('b', 'a');
      expect(targets.filter((t) => rows.get(t) !== 1)).toEqual([]);
    } finally {
      r.disconnect();
    }
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import { listeningPorts, scrape, valueOf, type Family } from '../../helpers/prom.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { bin, denyLines, kill9, startDaemon, writeConfig, type Running } from './run-daemon.js';

// sentryban's metrics endpoint (docs/metrics.md) on the real daemon: scraped over HTTP, parsed by the reference
// Prometheus parser (Debian python3-prometheus-client), values that move with a real ban and unban.
const real = itReal({ commands: ['python3'] });
const JAIL = `app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 2\n  bantime: 1h\n  ignoreself: false\n  actions: [deny]\n`;

const started: Running[] = [];
const tmps: (() => void)[] = [];
afterAll(async () => {
  for (const d of started) if (d.proc.exitCode === null) await kill9(d);
  for (const c of tmps) c();
});
const configDir = (main: string): string => {
  const t = makeTmpDir('sentryban-metrics-');
  tmps.push(t.cleanup);
  writeConfig(t.dir, { app: JAIL }, main);
  writeFileSync(join(t.dir, 'app.log'), '');
  return t.dir;
};

describe('sentryban metrics: on', () => {
  let dir = '';
  let url = '';
  let d: Running;
  beforeAll(async () => {
    const port = await freePort();
    dir = configDir(`metrics: 127.0.0.1:${port}\n`);
    url = `http://127.0.0.1:${port}/metrics`;
    d = await startDaemon(dir);
    started.push(d);
  });
  const page = async (): Promise<Family[]> => (await scrape(url)).families;

  real('serves the text format; a ban raises bans_total and bans in force, an unban lowers it', async () => {
    const first = await scrape(url);
    expect(first.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const f0 = first.families;
    expect(valueOf(f0, 'sentryban_lines_read_total', { jail: 'app' })).toBe(0);
    expect(valueOf(f0, 'sentryban_bans_total', { jail: 'app' })).toBe(0);
    expect(valueOf(f0, 'sentryban_bans_in_force', { jail: 'app' })).toBe(0);
    expect(valueOf(f0, 'sentryban_store_bytes')).toBeGreaterThan(0);
    expect(valueOf(f0, 'process_resident_memory_bytes')).toBeGreaterThan(10e6);
    expect(valueOf(f0, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(f0, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(f0, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    const types = new Map(f0.map((f) => [f.name, f.type]));
    expect(types.get('sentryban_lines_read')).toBe('counter'); // the parser names a counter family without _total
    expect(types.get('sentryban_bans_in_force')).toBe('gauge');
    expect(types.get('sentryban_action_seconds')).toBe('histogram');

    const log = join(dir, 'app.log');
    appendFileSync(log, 'noise\nauth failure from 192.0.2.7\nmore noise\nauth failure from 192.0.2.7\n');
    await waitFor(() => denyLines(dir).includes('ALL: 192.0.2.7'), { what: 'the ban in hosts.deny' });
    const f1 = await waitFor(
      async () => {
        const f = await page();
        return valueOf(f, 'sentryban_lines_read_total', { jail: 'app' }) === 4 ? f : null;
      },
      { what: 'four lines counted' },
    );
    const filter = f1.find((f) => f.name === 'sentryban_lines_read')?.samples.find((s) => s.labels.jail === 'app')
      ?.labels.filter;
    expect(filter).toBeTruthy();
    expect(valueOf(f1, 'sentryban_lines_matched_total', { jail: 'app', filter: filter ?? '' })).toBe(2);
    expect(valueOf(f1, 'sentryban_failures_total', { jail: 'app' })).toBe(2);
    expect(valueOf(f1, 'sentryban_bans_total', { jail: 'app' })).toBe(1);
    expect(valueOf(f1, 'sentryban_bans_in_force', { jail: 'app' })).toBe(1);
    const ban = { jail: 'app', backend: 'hostsdeny', verb: 'ban' };
    expect(valueOf(f1, 'sentryban_action_seconds_count', ban)).toBe(1);
    expect(valueOf(f1, 'sentryban_action_seconds_bucket', { ...ban, le: '+Inf' })).toBe(1);
    expect(valueOf(f1, 'sentryban_action_seconds_sum', ban)).toBeGreaterThan(0);
    expect(valueOf(f1, 'sentryban_action_failures_total', ban)).toBeUndefined();

    const r = await execa('node', [bin, 'unban', '192.0.2.7', '--config', dir], { reject: false, timeout: 20_000 });
    expect(r.exitCode).toBe(0);
    const f2 = await page();
    expect(valueOf(f2, 'sentryban_unbans_total', { jail: 'app' })).toBe(1);
    expect(valueOf(f2, 'sentryban_bans_in_force', { jail: 'app' })).toBe(0);
    expect(valueOf(f2, 'sentryban_bans_total', { jail: 'app' })).toBe(1);
    expect(valueOf(f2, 'sentryban_action_seconds_count', { ...ban, verb: 'unban' })).toBe(1);
  });

  real('answers GET /metrics only', async () => {
    const base = url.replace('/metrics', '');
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/x`)).status).toBe(404);
    const post = await fetch(url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await fetch(`${url}?name[]=x`)).status).toBe(200);
  });

  real('the metrics port is the only TCP port the daemon listens on', () => {
    expect(listeningPorts(d.pid)).toEqual([Number(new URL(url).port)]);
  });
});

describe('sentryban metrics: a failing action', () => {
  real('a backend call that fails is counted and timed under its backend and verb', async () => {
    const port = await freePort();
    // (the first line goes on writeConfig's `actions:` mapping)
    const dir = configDir(
      `  missing: {backend: command, action: missing}\nmetrics: 127.0.0.1:${port}\ncheckinterval: 0\n`,
    );
    mkdirSync(join(dir, 'actions'));
    writeFileSync(
      join(dir, 'actions', 'missing.yaml'),
      'ban: /nonexistent/fw add $ADDRESS$\nunban: /nonexistent/fw del $ADDRESS$\n',
    );
    writeFileSync(join(dir, 'jails', 'app.yaml'), JAIL.replace('actions: [deny]', 'actions: [missing]'));
    const d = await startDaemon(dir);
    started.push(d);
    const r = await execa('node', [bin, 'ban', 'app', '192.0.2.9', '--config', dir], {
      reject: false,
      timeout: 20_000,
    });
    expect(r.exitCode).toBe(0);
    const l = { jail: 'app', backend: 'command:missing', verb: 'ban' };
    const f = await waitFor(
      async () => {
        const p = (await scrape(`http://127.0.0.1:${port}/metrics`)).families;
        return valueOf(p, 'sentryban_action_failures_total', l) === 1 ? p : null;
      },
      { what: 'the failed ban counted' },
    );
    expect(valueOf(f, 'sentryban_action_seconds_count', l)).toBe(1);
    expect(valueOf(f, 'sentryban_bans_in_force', { jail: 'app' })).toBe(1); // the ban stands; the repairer retries
  });
});

describe('sentryban metrics: off or refused', () => {
  real('without `metrics:` no TCP port is bound', async () => {
    const d = await startDaemon(configDir(''));
    started.push(d);
    expect(listeningPorts(d.pid)).toEqual([]);
  });

  real('an address in use: the daemon does not start, and says why', async () => {
    const holder = createServer();
    await new Promise<void>((res) => holder.listen(0, '127.0.0.1', res));
    const port = (holder.address() as { port: number }).port;
    try {
      const dir = configDir(`metrics: 127.0.0.1:${port}\n`);
      const r = await execa('node', [bin, 'daemon', '--foreground', '--config', dir], {
        reject: false,
        timeout: 30_000,
      });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`sentryban: metrics 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      holder.close();
    }
  });

  real('a bad address refuses the configuration with file:line', async () => {
    const dir = configDir('metrics: 0.0.0.0:9102\n');
    const r = await execa('node', [bin, 'daemon', '--foreground', '--config', dir], {
      reject: false,
      timeout: 30_000,
    });
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toContain(
      `${join(dir, 'sentryban.yaml')}:7:10: metrics: 0.0.0.0 listens on every interface; name one address`,
    );
  });
});

import { afterAll, describe, expect } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../helpers/netns.js';
import { listeningPorts, parseExposition, valueOf, type Family } from '../helpers/prom.js';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { BIN, Collector, tcpConnect } from './side.js';

// portsentry's METRICS endpoint (docs/metrics.md) on the real daemon (-tcp) in a lab namespace: probes from the
// attacker namespace, the page fetched with Node's fetch inside the namespace and parsed by the reference
// Prometheus parser (Debian python3-prometheus-client).
const real = itReal({ root: true, commands: ['ip', 'nc', 'unshare', 'python3'] });
const { dir, cleanup } = makeTmpDir('ps-metrics-');
afterAll(() => cleanup());

const TRAPS = [1, 40421, 54320]; // one port of each class: system, user, dynamic
const confText = (metrics: string | null): string =>
  [
    `TCP_PORTS="${TRAPS.join(',')}"`,
    `IGNORE_FILE="${dir}/ignore"`,
    `HISTORY_FILE="${dir}/history"`,
    `BLOCKED_FILE="${dir}/blocked"`,
    'BLOCK_TCP="1"',
    'SCAN_TRIGGER="0"',
    'KILL_HOSTS_DENY="ALL: $TARGET$"',
    'KILL_RUN_CMD="/bin/true $TARGET$"',
    // METRICS_TCP wins over METRICS for -tcp (each mode's process needs a port of its own)
    ...(metrics === null ? [] : ['METRICS="127.0.0.1:9999"', `METRICS_TCP="${metrics}"`]),
    '',
  ].join('\n');

// The daemon in the victim namespace with a private /dev/log; its pid once it says it is active.
const start = async (lab: Lab, conf: string, c: Collector): Promise<{ pid: number; done: Promise<unknown> }> => {
  writeFileSync(join(dir, 'ignore'), '');
  writeFileSync(join(dir, 'hosts.deny'), '');
  const path = join(dir, 'portsentry.conf');
  writeFileSync(path, conf);
  const wrap = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/log && exec "$@"'];
  const argv = [process.execPath, BIN, '-tcp', '--foreground', '--config', path, '--hosts-deny', `${dir}/hosts.deny`];
  const done = lab.run(lab.victim, [...wrap, c.path, ...argv], { reject: false, timeout: 60_000 });
  const active = await waitFor(() => c.datagrams.find((d) => /now active|shutting down/.test(d.message)), {
    timeoutMs: 15_000,
    what: 'portsentry active',
  });
  expect(active.message).toMatch(/now active/);
  return { pid: active.pid, done };
};

const FETCH = `fetch(process.argv[1]).then(async (r) => process.stdout.write(JSON.stringify(
  { status: r.status, type: r.headers.get('content-type'), text: await r.text() })))`;
const scrapeIn = async (lab: Lab, url: string): Promise<{ status: number; type: string; families: Family[] }> => {
  const r = await lab.run(lab.victim, [process.execPath, '-e', FETCH, url], { timeout: 20_000 });
  const got = JSON.parse(String(r.stdout)) as { status: number; type: string; text: string };
  return { status: got.status, type: got.type, families: got.status === 200 ? await parseExposition(got.text) : [] };
};

describe('portsentry METRICS', () => {
  real(
    'a probe raises probes per mode and port class, alerts, blocks; commands are timed; only GET /metrics',
    async () => {
      const lab = await createLab();
      const c = new Collector(join(dir, 'log.sock'));
      let pid = 0;
      try {
        const url = 'http://127.0.0.1:9102/metrics';
        const d = await start(lab, confText('127.0.0.1:9102'), c);
        pid = d.pid;
        expect(c.datagrams.map((x) => x.message)).toContain('adminalert: Metrics at http://127.0.0.1:9102/metrics');
        expect(listeningPorts(pid)).toEqual([...TRAPS, 9102].sort((a, b) => a - b));
        const before = await scrapeIn(lab, url);
        expect(before.status).toBe(200);
        expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
        expect(valueOf(before.families, 'portsentry_probes_total')).toBeUndefined();
        expect(valueOf(before.families, 'portsentry_blocks_total')).toBe(0);
        expect(valueOf(before.families, 'process_resident_memory_bytes')).toBeGreaterThan(10e6);

        await tcpConnect(lab, 40421);
        await waitFor(() => readFileSync(join(dir, 'hosts.deny'), 'utf8').includes(`ALL: ${lab.attackerV4}`), {
          what: 'the attacker blocked',
        });
        await tcpConnect(lab, 54320);
        await tcpConnect(lab, 1);
        await lab.run(lab.victim, ['nc', '-z', '-w', '2', '127.0.0.1', '40421'], { reject: false });
        const f = await waitFor(
          async () => {
            const p = await scrapeIn(lab, url);
            return valueOf(p.families, 'portsentry_alerts_total') === 4 ? p.families : null;
          },
          { what: 'four alerts counted' },
        );
        expect(valueOf(f, 'portsentry_probes_total', { mode: 'tcp', port_class: 'user' })).toBe(2);
        expect(valueOf(f, 'portsentry_probes_total', { mode: 'tcp', port_class: 'dynamic' })).toBe(1);
        expect(valueOf(f, 'portsentry_probes_total', { mode: 'tcp', port_class: 'system' })).toBe(1);
        expect(valueOf(f, 'portsentry_blocks_total')).toBe(1);
        expect(valueOf(f, 'portsentry_already_blocked_total')).toBe(2);
        expect(valueOf(f, 'portsentry_ignored_total')).toBe(1); // 127.0.0.1: an address of this host
        expect(valueOf(f, 'portsentry_block_failures_total')).toBe(0);
        expect(valueOf(f, 'portsentry_command_seconds_count', { command: 'true' })).toBe(1);
        expect(valueOf(f, 'portsentry_command_seconds_sum', { command: 'true' })).toBeGreaterThan(0);
        expect(valueOf(f, 'portsentry_command_failures_total', { command: 'true' })).toBeUndefined();
        expect(f.find((x) => x.name === 'portsentry_probes')?.type).toBe('counter');
        expect(f.find((x) => x.name === 'portsentry_command_seconds')?.type).toBe('histogram');

        expect((await scrapeIn(lab, 'http://127.0.0.1:9102/')).status).toBe(404);
        process.kill(pid, 'SIGTERM');
        await d.done;
        pid = 0;
      } finally {
        if (pid) process.kill(pid, 'SIGKILL');
        c.close();
        await lab.destroy();
      }
    },
    90_000,
  );

  real('without METRICS only the trap ports are bound', async () => {
    const lab = await createLab();
    const c = new Collector(join(dir, 'log-off.sock'));
    let pid = 0;
    try {
      const d = await start(lab, confText(null), c);
      pid = d.pid;
      expect(listeningPorts(pid)).toEqual(TRAPS);
      expect(c.datagrams.some((x) => x.message.includes('Metrics'))).toBe(false);
      process.kill(pid, 'SIGTERM');
      await d.done;
      pid = 0;
    } finally {
      if (pid) process.kill(pid, 'SIGKILL');
      c.close();
      await lab.destroy();
    }
  });

  real('a METRICS port in use: nothing starts, and the key to set is named', async () => {
    const lab = await createLab();
    const c = new Collector(join(dir, 'log-busy.sock'));
    const holder = lab.run(lab.victim, ['nc', '-l', '127.0.0.1', '9102'], { reject: false, timeout: 30_000 });
    try {
      await waitFor(
        async () => String((await lab.run(lab.victim, ['ss', '-Hltn', 'sport = :9102'])).stdout).includes('9102'),
        { what: 'nc listening' },
      );
      writeFileSync(join(dir, 'portsentry.conf'), confText('127.0.0.1:9102'));
      const wrap = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/log && exec "$@"'];
      const r = await lab.run(
        lab.victim,
        [...wrap, c.path, process.execPath, BIN, '-tcp', '--foreground', '--config', join(dir, 'portsentry.conf')],
        { reject: false, timeout: 30_000 },
      );
      const why = 'metrics 127.0.0.1:9102: EADDRINUSE (each running mode needs a port of its own: METRICS_TCP)';
      expect(r.exitCode).toBe(255);
      expect(String(r.stderr)).toContain(`portsentry: not started: ${why}`);
      await c.settle();
      const lines = c.datagrams.map((x) => x.message);
      expect(lines).toContain(`adminalert: ERROR: could not open the METRICS endpoint: ${why}. Shutting down.`);
      expect(lines.some((l) => l.includes('now active') || l.includes('Going into listen mode'))).toBe(false);
    } finally {
      holder.kill();
      await holder;
      c.close();
      await lab.destroy();
    }
  });
});

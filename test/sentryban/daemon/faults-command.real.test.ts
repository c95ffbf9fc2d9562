import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { Collector } from '../../portsentry/side.js';
import { bin, query } from './run-daemon.js';

// Faults with real commands run by the real daemon: a command that fails until a gate file appears, a tool
// that does not exist, a command that hangs past its timeout. The daemon runs with its own /dev/log (a private
// mount namespace binds a socket this test reads over it), so syslog lines are collected without the host's
// syslog. Only files in a temp folder are touched.
const it = itReal({ root: true, commands: ['unshare', 'mount'] });
let dir = '';
let cleanup = (): void => {};
let collector: Collector | null = null;
let daemon: ResultPromise | null = null;
let out = '';

const ACTIONS: Record<string, string> = {
  'gated.yaml': [
    'timeout: 5s',
    'params: {gate: /nonexistent, dir: /nonexistent}',
    'start: mkdir -p $DIR$',
    'ban: [test -e $GATE$, touch "$DIR$/$ADDRESS$"]',
    'unban: rm -f "$DIR$/$ADDRESS$"',
    'check: test -e $DIR$/.never', // always re-runs start + every ban from the store
  ].join('\n'),
  'missing.yaml':
    'ban: /nonexistent/sbin/fw-tool add $ADDRESS$\nunban: /nonexistent/sbin/fw-tool del $ADDRESS$\ncheck: /nonexistent/sbin/fw-tool list\n',
  'slow.yaml': 'timeout: 1s\nban: sleep 20\ncheck: sleep 20\n',
};
const jail = (name: string, action: string): string =>
  `${name}:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  bantime: 1h\n  ignoreself: false\n  actions: [${action}]\n`;

const cli = async (...args: string[]) => {
  const r = await execa('node', [bin, ...args, '--config', dir], { reject: false, timeout: 20_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
};
type Row = { kind: string; jail: string; target: string | null; detail: string };
const audit = (j: string): Row[] =>
  query<Row>(dir, 'SELECT kind, jail, target, detail FROM audit WHERE jail = ? ORDER BY id', j);
const syslog = (): string[] =>
  (collector?.raw ?? []).map((r) =>
    r.replace(/^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d sentryban\[\d+\]: /, '<$1>'),
  );

beforeAll(async () => {
  const t = makeTmpDir('sentryban-faults-');
  dir = t.dir;
  cleanup = t.cleanup;
  mkdirSync(join(dir, 'jails'));
  mkdirSync(join(dir, 'actions'));
  for (const [n, text] of Object.entries(ACTIONS)) writeFileSync(join(dir, 'actions', n), text);
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    [
      'state: state',
      'checkinterval: 0',
      'sysloglevel: NOTICE',
      'actions:',
      `  gated: {backend: command, action: gated, gate: ${join(dir, 'gate')}, dir: ${join(dir, 'applied')}}`,
      '  missing: {backend: command, action: missing}',
      '  slow: {backend: command, action: slow}',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'jails', 'gj.yaml'), jail('gj', 'gated'));
  writeFileSync(join(dir, 'jails', 'mj.yaml'), jail('mj', 'missing'));
  writeFileSync(join(dir, 'jails', 'sj.yaml'), jail('sj', 'slow'));
  writeFileSync(join(dir, 'app.log'), '');
});
afterAll(async () => {
  if (daemon?.pid && daemon.exitCode === null) {
    try {
      process.kill(daemon.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await daemon?.catch(() => {});
  collector?.close();
  cleanup();
});

describe('faults with real commands: the ban stays, retries with backoff, audit and syslog, the daemon runs on', () => {
  it('a failing command is retried until it succeeds; a missing tool and a timeout leave the daemon running', async () => {
    collector = new Collector(join(dir, 'log.sock'));
    const wrap = [
      'unshare',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /dev/log && exec "$@"',
      collector.path,
    ];
    daemon = execa(wrap[0]!, [...wrap.slice(1), 'node', bin, 'daemon', '--foreground', '--config', dir], {
      reject: false,
      buffer: false,
      timeout: 120_000,
    });
    daemon.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    daemon.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await waitFor(() => out.includes('sentryban: ready') || daemon!.exitCode !== null, {
      timeoutMs: 20_000,
      what: 'daemon ready',
    });
    expect(out).toContain('sentryban: ready');

    // 1. Gate closed: the ban is committed, reported failed (never applied), and retried 1 s, 2 s, 4 s apart.
    const banned = JSON.parse((await cli('ban', 'gj', '192.0.2.5', '--json')).stdout);
    expect(banned).toMatchObject({
      target: '192.0.2.5',
      applied: 'failed',
      backends: { 'command:gated:gj': 'failed' },
    });
    expect((await cli('list', 'gj')).stdout).toMatch(/\ngj +192\.0\.2\.5 .* failed \(command:gated:gj: failed\)$/);
    await waitFor(() => audit('gj').filter((r) => r.kind === 'action-failed').length >= 3, {
      timeoutMs: 15_000,
      what: 'three failures',
    });
    const failed = audit('gj')
      .filter((r) => r.kind === 'action-failed')
      .slice(0, 3)
      .map((r) => r.detail);
    expect(failed[0]).toMatch(
      /^command:gated:gj ban failed \(attempt 1; next retry in 1s at .*\): test -e .*\/gate: exit 1$/,
    );
    expect(failed[1]).toMatch(
      /^command:gated:gj check \(retry\) failed \(attempt 2; next retry in 2s at .*\): test -e .*\/gate: exit 1$/,
    );
    expect(failed[2]).toMatch(/^command:gated:gj check \(retry\) failed \(attempt 3; next retry in 4s /);
    expect(existsSync(join(dir, 'applied', '192.0.2.5'))).toBe(false);
    await waitFor(() => syslog().filter((l) => l.startsWith('<27>ERROR   [gj] command:gated:gj')).length >= 3, {
      timeoutMs: 5000,
      what: 'syslog errors',
    });
    expect(syslog()).toContain('<29>NOTICE  [gj] Ban 192.0.2.5');

    // 2. Gate open: the next retry applies the store's bans, audits the recovery, and the ban reads applied.
    writeFileSync(join(dir, 'gate'), '');
    await waitFor(() => existsSync(join(dir, 'applied', '192.0.2.5')), {
      timeoutMs: 20_000,
      what: 'ban applied after the gate opened',
    });
    await waitFor(() => audit('gj').some((r) => r.kind === 'action-repaired'), {
      timeoutMs: 5000,
      what: 'repaired row',
    });
    const fails = audit('gj').filter((r) => r.kind === 'action-failed').length;
    expect(audit('gj').find((r) => r.kind === 'action-repaired')!.detail).toBe(
      `command:gated:gj check (retry) back in sync after ${fails} failure(s); repaired: check failed (test -e ${join(dir, 'applied')}/.never: exit 1); start re-run with 1 ban(s)`,
    );
    expect((await cli('list', 'gj')).stdout).toMatch(/ applied$/);
    await waitFor(
      () => syslog().some((l) => l.startsWith('<29>NOTICE  [gj] command:gated:gj check (retry) back in sync')),
      { timeoutMs: 5000, what: 'syslog recovery' },
    );
    expect(syslog().filter((l) => l.startsWith('<27>ERROR   [gj] command:gated:gj'))).toHaveLength(fails);

    // 3. A tool that does not exist: the ban stays in the store, reads failed, the daemon keeps answering.
    expect(JSON.parse((await cli('ban', 'mj', '2001:db8::6', '--json')).stdout)).toMatchObject({ applied: 'failed' });
    const mj = await waitFor(() => audit('mj').find((r) => r.kind === 'action-failed'), {
      timeoutMs: 5000,
      what: 'missing tool row',
    });
    expect(mj.detail).toMatch(
      /^command:missing:mj ban failed \(attempt 1; next retry in 1s at .*\): \/nonexistent\/sbin\/fw-tool add 2001:db8::6: no exit code .*ENOENT/,
    );
    expect(
      query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM bans WHERE jail = 'mj' AND state = 'active'")[0]!.n,
    ).toBe(1);

    // 4. A command over its timeout is killed and counted as a failure; the control socket still answers.
    expect(JSON.parse((await cli('ban', 'sj', '192.0.2.7', '--json')).stdout)).toMatchObject({ applied: 'failed' });
    expect(audit('sj').find((r) => r.kind === 'action-failed')!.detail).toMatch(
      /^command:slow:sj ban failed \(attempt 1; next retry in 1s at .*\): sleep 20: no exit code timed out/,
    );
    // sj's retries are checks that run 1 s (to their timeout) between waits that grow: a reply can fall inside one
    // (checking, nothing planned yet) or between two (a retry planned). Every reply says one of the two; wait for
    // a reply between two, the state asserted below.
    type Health = { jail: string; inSync: boolean; checking: boolean; nextRetryAt: string | null };
    const seen: Health[] = [];
    const status = (await waitFor(
      async () => {
        const s = JSON.parse((await cli('status', '--json')).stdout) as { actions: Health[] };
        const sj = s.actions.find((a) => a.jail === 'sj')!;
        seen.push(sj);
        return sj.nextRetryAt !== null ? s : undefined;
      },
      { timeoutMs: 15_000, what: 'sj between two retries' },
    )) as { actions: Health[]; jails: { jail: string }[] };
    expect(seen.filter((h) => !h.inSync && !h.checking && h.nextRetryAt === null)).toEqual([]);
    expect(status.actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          jail: 'gj',
          backend: 'command:gated:gj',
          inSync: true,
          failures: 0,
          checking: false,
          nextRetryAt: null,
        }),
        expect.objectContaining({ jail: 'mj', inSync: false, lastError: expect.stringContaining('ENOENT') }),
        expect.objectContaining({ jail: 'sj', inSync: false, checking: false, nextRetryAt: expect.any(String) }),
      ]),
    );
    expect(status.jails.find((j: { jail: string }) => j.jail === 'mj')).toMatchObject({ banned: 1, notApplied: 1 });
    const check = await cli('check', 'mj');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      /^JAIL +ACTION +RESULT\nmj +command:missing:mj +FAILED: \/nonexistent\/sbin\/fw-tool add 2001:db8::6: no exit code Command failed with ENOENT: [^\n]* ENOENT$/,
    ); // check failed, start and the store's bans re-run
    expect(syslog().some((l) => l.startsWith('<27>ERROR   [sj] command:slow:sj ban failed'))).toBe(true);

    // The daemon is alive throughout and stops cleanly with retries still scheduled.
    process.kill(daemon.pid!, 'SIGTERM');
    const end = await daemon;
    expect({ exitCode: end.exitCode, signal: end.signal, tail: end.exitCode === 0 ? '' : out.slice(-2000) }).toEqual({
      exitCode: 0,
      signal: undefined,
      tail: '',
    });
  }, 90_000);
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { bin, denyLines, kill9, query, startDaemon, writeConfig, type Running } from './run-daemon.js';

// Reload of the real daemon (bin/sentryban): `sentryban reload` and SIGHUP. A command action `probe` records
// every start (a new file each time) and every ban (a folder per address: a second ban of the same address
// would fail and be audited), so "nothing re-applied, nothing doubled" is seen from outside.
const running: Running[] = [];
const tmps: (() => void)[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) if (r.proc.exitCode === null) await kill9(r).catch(() => {});
  while (tmps.length) tmps.pop()?.();
});
const setup = (jails: Record<string, string>): string => {
  const t = makeTmpDir('sentryban-reload-');
  tmps.push(t.cleanup);
  const dir = t.dir;
  mkdirSync(join(dir, 'actions'));
  mkdirSync(join(dir, 'probe'));
  writeFileSync(
    join(dir, 'actions', 'probe.yaml'),
    `start: mktemp -p ${dir}/probe start.XXXXXX\nban: mkdir ${dir}/probe/ban-$ADDRESS$\nunban: rmdir ${dir}/probe/ban-$ADDRESS$\n`,
  );
  writeConfig(dir, jails, '  probe: {backend: command, action: probe}\ncheckinterval: 0\n');
  return dir;
};
const jail = (name: string, extra = '', log = `${name}.log`): string =>
  `${name}:\n  logpath: ${log}\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n  actions: [deny, probe]\n${extra}`;
const put = (dir: string, name: string, text: string | null): void => {
  const f = join(dir, 'jails', `${name}.yaml`);
  if (text === null) rmSync(f);
  else writeFileSync(f, text);
};
const fail = (dir: string, log: string, addr: string): void =>
  appendFileSync(join(dir, log), `${new Date().toISOString()} auth failure from ${addr}\n`);
const cli = async (dir: string, ...args: string[]) => {
  const r = await execa('node', [bin, ...args, '--config', dir], { reject: false, timeout: 30_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
};
const probe = (dir: string): { starts: number; bans: string[] } => {
  const names = readdirSync(join(dir, 'probe'));
  return {
    starts: names.filter((n) => n.startsWith('start.')).length,
    bans: names.filter((n) => n.startsWith('ban-')).map((n) => n.slice(4)),
  };
};
type Row = { kind: string; jail: string; target: string | null; detail: string };
const audit = (dir: string): Row[] => query<Row>(dir, 'SELECT kind, jail, target, detail FROM audit ORDER BY id');
// The daemon's own log (fail2ban's format), in its state folder.
const logText = (dir: string): string => {
  const f = join(dir, 'state', 'sentryban.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};
const start = async (dir: string): Promise<Running> => {
  for (const f of readdirSync(dir)) if (f.endsWith('.log')) writeFileSync(join(dir, f), '');
  const d = await startDaemon(dir);
  running.push(d);
  return d;
};

describe('sentryban reload', () => {
  it('a broken config is refused with file:line:col and the running config goes on (reload and SIGHUP)', async () => {
    const dir = setup({ app: jail('app') });
    writeFileSync(join(dir, 'app.log'), '');
    const d = await start(dir);
    put(dir, 'app', jail('app').replace('maxretry: 1', 'maxretry: three'));
    const r = await cli(dir, 'reload');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'sentryban reload: configuration refused, the running one goes on:\n' +
        `${join(dir, 'jails', 'app.yaml')}:4:13: app.maxretry: expected an integer >= 1, got "three"`,
    );
    process.kill(d.pid, 'SIGHUP');
    await waitFor(() => logText(dir).includes('ERROR   reload refused: '), { timeoutMs: 5000, what: 'SIGHUP refused' });
    fail(dir, 'app.log', '192.0.2.5'); // still maxretry 1
    await waitFor(() => denyLines(dir).includes('ALL: 192.0.2.5'), { timeoutMs: 5000, what: 'ban on the old config' });
    expect(d.proc.exitCode).toBeNull();
  });

  it('changed ignoreip and maxretry take effect, an added jail starts, a removed one stops; no ban lost or re-applied', async () => {
    const dir = setup({ app: jail('app'), old: jail('old') });
    const d = await start(dir);
    writeFileSync(join(dir, 'neu.log'), '');
    // One after the other: two files' lines have no order between them (the audit's order is checked below).
    fail(dir, 'app.log', '192.0.2.5');
    await waitFor(() => denyLines(dir).length === 1, { what: "app's ban" });
    fail(dir, 'old.log', '192.0.2.9');
    await waitFor(() => denyLines(dir).length === 2 && probe(dir).bans.length === 2, { what: 'two bans' });
    expect(probe(dir).starts).toBe(2); // one start per jail

    put(dir, 'app', jail('app', '  ignoreip: 198.51.100.0/24\n').replace('maxretry: 1', 'maxretry: 2'));
    put(dir, 'old', null);
    put(dir, 'neu', jail('neu'));
    const r = await cli(dir, 'reload', '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      added: ['neu'],
      removed: ['old'],
      reloaded: ['app'],
      restartNeeded: [],
    });

    // The removed jail's ban is taken out of its actions (as fail2ban's stop); app's ban stays, applied once.
    expect(denyLines(dir)).toEqual(['ALL: 192.0.2.5']);
    expect(probe(dir).bans).toEqual(['192.0.2.5']);
    expect(probe(dir).starts).toBe(3); // app's probe kept running (not started again); neu's started
    // The new settings: an ignored range, two failures to ban.
    fail(dir, 'app.log', '198.51.100.7');
    fail(dir, 'app.log', '203.0.113.4');
    fail(dir, 'neu.log', '192.0.2.20');
    await waitFor(() => denyLines(dir).includes('ALL: 192.0.2.20'), { what: 'the added jail bans' });
    await waitFor(() => audit(dir).some((x) => x.kind === 'found' && x.target?.startsWith('203.0.113.4')), {
      what: 'first failure counted',
    });
    expect(denyLines(dir)).not.toContain('ALL: 203.0.113.4');
    fail(dir, 'app.log', '203.0.113.4');
    await waitFor(() => denyLines(dir).includes('ALL: 203.0.113.4'), { what: 'maxretry 2 reached' });
    expect(audit(dir).find((x) => x.target?.startsWith('198.51.100.7'))).toMatchObject({
      kind: 'ignored',
      detail: expect.stringContaining('198.51.100.0/24') as unknown as string,
    });
    expect(
      audit(dir)
        .filter((x) => x.kind === 'ban')
        .map((x) => `${x.jail} ${x.target}`),
    ).toEqual(['app 192.0.2.5/32', 'old 192.0.2.9/32', 'neu 192.0.2.20/32', 'app 203.0.113.4/32']);
    expect(audit(dir).filter((x) => x.kind === 'action-failed')).toEqual([]);
    // The removed jail's ban is still in the store; adding the jail back restores it.
    put(dir, 'old', jail('old'));
    expect((await cli(dir, 'reload', 'old')).code).toBe(0);
    await waitFor(() => denyLines(dir).includes('ALL: 192.0.2.9'), { what: 'restored with the jail' });
    expect(d.proc.exitCode).toBeNull();
  });

  it('reloads during a burst of lines (SIGHUP, sources restarted): no line lost or read twice, no ban lost or doubled', async () => {
    const dir = setup({ burst: jail('burst') });
    writeFileSync(join(dir, 'other.log'), '');
    const d = await start(dir);
    const N = 600; // each ban runs a command and rewrites hosts.deny: ~30 bans/s on a loaded 2-core machine
    const addr = (i: number): string => `2001:db8:${(i >> 8).toString(16)}::${(i & 255).toString(16)}`;
    let reloads = 0;
    for (let i = 0; i < N; i += 50) {
      appendFileSync(
        join(dir, 'burst.log'),
        Array.from({ length: 50 }, (_, k) => `${new Date().toISOString()} auth failure from ${addr(i + k)}\n`).join(''),
      );
      if (i % 100 === 0) {
        // alternate the logpaths, so the sources stop and start mid-burst
        const two = reloads % 2 === 0;
        put(
          dir,
          'burst',
          jail('burst', two ? '  findtime: 20m\n' : '').replace(
            '  logpath: burst.log\n',
            two ? '  logpath: [burst.log, other.log]\n' : '  logpath: burst.log\n',
          ),
        );
        const before = logText(dir).split('NOTICE  Reloaded').length;
        process.kill(d.pid, 'SIGHUP');
        await waitFor(() => logText(dir).split('NOTICE  Reloaded').length > before, {
          timeoutMs: 60_000, // a reload runs after the batches read before it
          what: 'reloaded',
        });
        reloads++;
      }
    }
    expect(reloads).toBe(6);
    await waitFor(() => probe(dir).bans.length === N, { timeoutMs: 60_000, what: `${N} bans` });
    // committed first, applied after (the applier runs behind the decisions): hosts.deny catches up
    await waitFor(() => denyLines(dir).length >= N, { timeoutMs: 60_000, what: `${N} hosts.deny lines` });
    const status = JSON.parse((await cli(dir, 'status', 'burst', '--json')).stdout) as {
      lines: number;
      failures: number;
      banned: number;
    };
    expect(status.banned).toBe(N);
    expect(status.lines).toBe(N); // every line read once across the source restarts
    expect(status.failures).toBe(N);
    expect(denyLines(dir)).toHaveLength(N);
    expect(new Set(denyLines(dir)).size).toBe(N);
    const rows = audit(dir);
    expect(rows.filter((x) => x.kind === 'ban')).toHaveLength(N);
    expect(rows.filter((x) => x.kind === 'action-failed')).toEqual([]);
    expect(query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM bans WHERE state = 'active'")[0]!.n).toBe(N);
    expect(probe(dir).starts).toBe(1); // the probe action never changed: never started again
    expect(logText(dir)).not.toContain('reload refused');
  }, 240_000);
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { denyLines, kill9, query, startDaemon, writeConfig, type Running } from './run-daemon.js';

// Real restarts of the real daemon (bin/sentryban, a subprocess) with a hosts.deny action in a temp folder.
const running: Running[] = [];
const tmps: (() => void)[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) if (r.proc.exitCode === null) await kill9(r).catch(() => {});
  while (tmps.length) tmps.pop()?.();
});
const start = async (dir: string): Promise<Running> => {
  const r = await startDaemon(dir);
  running.push(r);
  return r;
};
const tmp = (): string => {
  const t = makeTmpDir('sentryban-e2e-');
  tmps.push(t.cleanup);
  return t.dir;
};
const iso = (): string => new Date().toISOString();
const jail = (name: string, bantime: string, maxretry = 1): string =>
  `${name}:\n  logpath: ${name}.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: ${maxretry}\n  bantime: ${bantime}\n  ignoreself: false\n  actions: [deny]\n`;
const addrOf = (i: number): string =>
  i % 3 === 2
    ? `2001:db8::${(i + 1).toString(16)}`
    : `${i % 3 === 0 ? '198.51.100' : '203.0.113'}.${(Math.floor(i / 3) % 250) + 1}`;
const lineOf = (i: number): string => (i < 750 ? addrOf(i) : `192.0.2.${i - 749}`);
const denyOf = (a: string): string => (a.includes(':') ? `ALL: [${a}]` : `ALL: ${a}`);

describe('sentryban daemon, real restarts', () => {
  it('a 2 s bantime expires on time, end to end', async () => {
    const dir = tmp();
    writeConfig(dir, { app: jail('app', '2') });
    writeFileSync(join(dir, 'app.log'), '');
    const d = await start(dir);
    appendFileSync(join(dir, 'app.log'), `${iso()} auth failure from 192.0.2.5\n`);
    await waitFor(() => denyLines(dir).includes('ALL: 192.0.2.5'), { timeoutMs: 5000, what: 'ban in hosts.deny' });
    const [ban] = query<{ expires_at: number }>(dir, "SELECT expires_at FROM bans WHERE target = '192.0.2.5/32'");
    await waitFor(() => !denyLines(dir).includes('ALL: 192.0.2.5'), { timeoutMs: 6000, intervalMs: 10, what: 'unban' });
    const gone = Date.now();
    expect(gone).toBeGreaterThanOrEqual(ban!.expires_at);
    expect(gone - ban!.expires_at).toBeLessThan(1500); // a timer on the end, not a polling cron
    const rows = query<{ kind: string; detail: string }>(
      dir,
      "SELECT kind, detail FROM audit WHERE kind IN ('ban','unban') ORDER BY id",
    );
    expect(rows.map((r) => [r.kind, r.detail.split(';')[0]])).toEqual([
      ['ban', '1 failure within findtime 600s reached maxretry 1'],
      ['unban', 'expired'],
    ]);
    const log = readFileSync(join(dir, 'state', 'sentryban.log'), 'utf8');
    expect(log).toMatch(/ fail2ban\.actions {8}\[\d+\]: NOTICE {2}\[app\] Ban 192\.0\.2\.5\n/);
    expect(log).toMatch(/NOTICE {2}\[app\] Unban 192\.0\.2\.5\n/);
    process.kill(d.pid, 'SIGTERM');
    expect((await d.proc).exitCode).toBe(0);
    expect(existsSync(join(dir, 'state', 'sentryban.sock'))).toBe(false);
  });

  it('kill -9 at random points of a 1,000-ban burst: every ban in force exactly once, expired ones lifted; a reboot puts them back', async () => {
    const dir = tmp();
    writeConfig(dir, { burst: jail('burst', '1h'), short: jail('short', '2') });
    writeFileSync(join(dir, 'burst.log'), '');
    writeFileSync(join(dir, 'short.log'), '');
    let seed = 0x5eed;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let d = await start(dir);
    for (let i = 0; i < 20; i++)
      appendFileSync(join(dir, 'short.log'), `${iso()} auth failure from 198.51.100.${200 + i}\n`);
    // A 2 s ban whose line is read more than 2 s late is never made ("bantime already over", as in fail2ban): on a
    // loaded machine the burst below could delay the short lines that long, so they are in force before it starts.
    await waitFor(
      () =>
        query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM bans WHERE jail = 'short' AND state = 'active'")[0]!.n ===
        20,
      { timeoutMs: 5000, intervalMs: 10, what: 'the 20 short bans in force' },
    );
    // the burst arrives in 20 appends of 50 lines while the daemon is being killed and restarted
    const writer = (async () => {
      for (let c = 0; c < 20; c++) {
        let text = '';
        for (let i = c * 50; i < (c + 1) * 50; i++) text += `${iso()} auth failure from ${lineOf(i)}\n`;
        appendFileSync(join(dir, 'burst.log'), text);
        await sleep(60);
      }
    })();
    const kills: number[] = [];
    for (let k = 0; k < 3; k++) {
      // somewhere in the k-th third of the burst, by bans already applied (hosts.deny lines)
      const target = Math.floor((k + rnd()) * 320) + 20;
      await waitFor(() => denyLines(dir).length >= target, {
        timeoutMs: 60_000,
        intervalMs: 2,
        what: `${target} bans applied`,
      });
      await kill9(d);
      kills.push(
        denyLines(dir).length,
        query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM bans WHERE jail = 'burst'")[0]!.n,
      );
      if (k === 2) await sleep(2200); // the short bans end while the daemon is down
      d = await start(dir);
    }
    await writer;
    await waitFor(
      () =>
        query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM bans WHERE jail = 'burst' AND state = 'active'")[0]!.n ===
          1000 && denyLines(dir).length === 1000,
      { timeoutMs: 120_000, intervalMs: 50, what: '1000 bans in force' },
    );
    const check = (): void => {
      const lines = denyLines(dir);
      expect(new Set(lines).size).toBe(lines.length);
      expect(new Set(lines)).toEqual(new Set(Array.from({ length: 1000 }, (_, i) => denyOf(lineOf(i)))));
      const rows = query<{ target: string; n: number }>(
        dir,
        "SELECT target, COUNT(*) AS n FROM bans WHERE jail = 'burst' GROUP BY target",
      );
      expect(rows).toHaveLength(1000);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    };
    check();
    const short = query<{ state: string; lift_reason: string | null }>(
      dir,
      "SELECT state, lift_reason FROM bans WHERE jail = 'short'",
    );
    expect(short).toHaveLength(20);
    expect(short.every((r) => r.state === 'lifted' && r.lift_reason === 'expired')).toBe(true);
    expect(
      query(dir, "SELECT 1 FROM audit WHERE jail = 'short' AND kind = 'unban' AND detail = 'expired'"),
    ).toHaveLength(20);
    // every line was read once: one 'found' per failure line despite three kills
    expect(
      query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM audit WHERE jail = 'burst' AND kind = 'found'")[0]!.n,
    ).toBe(1000);
    // a reboot: the daemon stops cleanly, the firewall (here hosts.deny) is flushed, the daemon starts again
    process.kill(d.pid, 'SIGTERM');
    expect((await d.proc).exitCode).toBe(0);
    rmSync(join(dir, 'state', 'hosts.deny'));
    d = await start(dir);
    await waitFor(() => denyLines(dir).length === 1000, { timeoutMs: 60_000, what: 'bans restored after reboot' });
    check();
    expect(query(dir, "SELECT 1 FROM audit WHERE jail = 'burst' AND kind = 'restored'").length).toBeGreaterThanOrEqual(
      1000,
    );
    process.kill(d.pid, 'SIGTERM');
    expect((await d.proc).exitCode).toBe(0);
    process.stdout.write(`kill -9 at (applied, committed): ${kills.join(', ')}\n`);
  }, 240_000);

  it('restart resumes each log where it stopped', async () => {
    const dir = tmp();
    writeConfig(dir, { app: jail('app', '1h', 2) });
    const log = join(dir, 'app.log');
    writeFileSync(log, `${iso()} auth failure from 192.0.2.7\n`);
    let d = await start(dir);
    await waitFor(() => query(dir, "SELECT 1 FROM audit WHERE kind = 'found'").length === 1, { what: 'first failure' });
    process.kill(d.pid, 'SIGTERM');
    await d.proc;
    appendFileSync(log, `${iso()} auth failure from 192.0.2.8\n`);
    d = await start(dir);
    await waitFor(() => query(dir, "SELECT 1 FROM audit WHERE kind = 'found'").length === 2, {
      what: 'second failure',
    });
    await sleep(300);
    expect(
      query<{ target: string }>(dir, "SELECT target FROM audit WHERE kind = 'found' ORDER BY id").map((r) => r.target),
    ).toEqual(['192.0.2.7', '192.0.2.8']);
    process.kill(d.pid, 'SIGINT');
    expect((await d.proc).exitCode).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../../helpers/netns.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { query, startDaemon } from './run-daemon.js';

// A simulated reboot with a real firewall: the daemon runs inside a namespace this test creates, bans into
// nftables there, is killed, the namespace's ruleset is flushed (what a reboot does), and the restarted daemon
// puts every ban back. The host's own rules are never touched.
const it = itReal({ root: true, commands: ['nft', 'ip'] });
let lab: Lab | null = null;
let dir = '';
let cleanup = (): void => {};
const procs: ReturnType<typeof execa>[] = [];

beforeAll(async () => {
  const t = makeTmpDir('sentryban-nft-');
  dir = t.dir;
  cleanup = t.cleanup;
  writeFileSync(join(dir, 'sentryban.yaml'), 'state: state\nactions:\n  fw:\n    backend: nftables\n');
  await execa('mkdir', ['-p', join(dir, 'jails')]);
  writeFileSync(
    join(dir, 'jails', 'app.yaml'),
    "app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n  actions: [fw]\n",
  );
  writeFileSync(join(dir, 'app.log'), '');
});
afterAll(async () => {
  for (const p of procs)
    if (p.exitCode === null && p.pid) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await p.catch(() => {});
    }
  await lab?.destroy();
  cleanup();
});

const start = async (ns: string) => {
  const r = await startDaemon(dir, { prefix: ['ip', 'netns', 'exec', ns], timeoutMs: 120_000 });
  procs.push(r.proc);
  return { p: r.proc, pid: r.pid };
};

describe('simulated reboot with nftables in a namespace', () => {
  it('puts every ban back after the ruleset is flushed', async () => {
    lab = await createLab();
    const ns = lab.victim;
    const ruleset = async (): Promise<string> => (await lab!.run(ns, ['nft', 'list', 'ruleset'])).stdout as string;
    const addrs = Array.from({ length: 40 }, (_, i) =>
      i % 2 ? `198.51.100.${i + 1}` : `2001:db8:1::${(i + 1).toString(16)}`,
    );
    let d = await start(ns);
    const now = new Date().toISOString();
    appendFileSync(join(dir, 'app.log'), addrs.map((a) => `${now} auth failure from ${a}\n`).join(''));
    await waitFor(
      async () => {
        const r = await ruleset();
        return addrs.every((a) => r.includes(a));
      },
      { timeoutMs: 30_000, what: 'all bans in nft' },
    );
    process.kill(d.pid, 'SIGKILL');
    await d.p;
    await lab.run(ns, ['nft', 'flush', 'ruleset']);
    expect(await ruleset()).not.toContain(addrs[0]);
    d = await start(ns);
    await waitFor(
      async () => {
        const r = await ruleset();
        return addrs.every((a) => r.includes(a));
      },
      { timeoutMs: 30_000, what: 'bans restored' },
    );
    expect(query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM audit WHERE kind = 'restored'")[0]!.n).toBe(40);
    expect(query<{ n: number }>(dir, "SELECT COUNT(*) AS n FROM bans WHERE state = 'active'")[0]!.n).toBe(40);
    process.kill(d.pid, 'SIGTERM');
    expect((await d.p).exitCode).toBe(0);
  }, 120_000);
});

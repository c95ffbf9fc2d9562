import { afterAll, describe, expect } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { Collector } from '../../portsentry/side.js';
import { openFwLab, type FwLab } from '../actions/fw-lab.js';
import { bin, query, startDaemon } from './run-daemon.js';

// The client's table as tab-separated rows, without its heading (columns are two or more spaces apart).
const rowsOf = (out: string): string[] =>
  out
    .split('\n')
    .slice(1)
    .map((l) => l.split(/ {2,}/).join('\t'));

// Rules removed by hand come back: the real daemon runs inside the victim namespace of a lab this test creates
// (with its own /dev/log), bans one attacker address into nftables (jail nj) and iptables (jail ij), then the
// test deletes the nft element and the iptables rule inside the namespace. `sentryban check` puts them back at
// once; with a short checkinterval the periodic check does it alone. Connections from the attacker are the judge.
const it = itReal({ root: true, commands: ['nft', 'iptables', 'ip6tables', 'ip', 'nc', 'unshare'] });
let fw: FwLab | null = null;
let dir = '';
let cleanup = (): void => {};
const procs: ResultPromise[] = [];
let collector: Collector | null = null;

afterAll(async () => {
  for (const p of procs)
    if (p.pid && p.exitCode === null) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await p.catch(() => {});
    }
  collector?.close();
  await fw?.close();
  cleanup();
}, 60_000);

const writeConfig = (checkinterval: string): void => {
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    `state: state\ncheckinterval: ${checkinterval}\nactions:\n  fw: {backend: nftables}\n  ipt: {backend: iptables}\n`,
  );
};
const jail = (name: string, action: string): string =>
  `${name}:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  bantime: 1h\n  ignoreself: false\n  actions: [${action}]\n`;

// Returns a wrapper: an async function returning the subprocess itself would wait for it to end.
const start = async (ns: string): Promise<{ p: ResultPromise }> => {
  const wrap = [
    'unshare',
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$0" /dev/log && exec "$@"',
    collector!.path,
  ];
  const r = await startDaemon(dir, { prefix: ['ip', 'netns', 'exec', ns, ...wrap], timeoutMs: 150_000 });
  procs.push(r.proc);
  return { p: r.proc };
};
const cli = async (...args: string[]) => {
  const r = await execa('node', [bin, ...args, '--config', dir], { reject: false, timeout: 30_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
};

// Removal by hand, inside the namespace: the nft element, and our iptables/ip6tables rule for the address.
const removeByHand = async (f: FwLab): Promise<void> => {
  await f.victim(['nft', 'delete', 'element', 'inet', 'sentryban-nj', 'h4', `{ ${f.banned.v4} }`]);
  await f.victim(['nft', 'delete', 'element', 'inet', 'sentryban-nj', 'h6', `{ ${f.banned.v6} }`]);
  for (const [tool, addr] of [
    ['iptables', f.banned.v4],
    ['ip6tables', f.banned.v6],
  ] as const) {
    const rules = (await f.victim([tool, '-w', '-S', 'sb-ij']))
      .split('\n')
      .filter((l) => l.startsWith('-A sb-ij') && l.includes(addr));
    expect(rules).toHaveLength(1);
    await f.victim([tool, '-w', ...rules[0]!.replace(/^-A /, '-D ').split(' ')]);
  }
};

describe('a rule removed by hand comes back through check', () => {
  it('by `sentryban check`, then by the periodic check alone; audited and sent to syslog', async () => {
    const t = makeTmpDir('sentryban-fw-faults-');
    dir = t.dir;
    cleanup = t.cleanup;
    mkdirSync(join(dir, 'jails'));
    writeFileSync(join(dir, 'jails', 'nj.yaml'), jail('nj', 'fw'));
    writeFileSync(join(dir, 'jails', 'ij.yaml'), jail('ij', 'ipt'));
    writeFileSync(join(dir, 'app.log'), '');
    writeConfig('1h');
    collector = new Collector(join(dir, 'log.sock'));
    fw = await openFwLab();
    const f = fw;
    let d = (await start(f.lab.victim)).p;
    for (const j of ['nj', 'ij'])
      for (const a of [f.banned.v4, f.banned.v6]) expect((await cli('ban', j, a)).code).toBe(0);
    expect(await f.canConnect(f.banned.v4)).toBe(false);
    expect(rowsOf((await cli('list')).stdout).every((l) => l.endsWith('\tapplied'))).toBe(true);

    // By hand: both firewalls lose the address; it gets through.
    await removeByHand(f);
    expect(await f.canConnect(f.banned.v4)).toBe(true);
    expect(await f.canConnect(f.banned.v6)).toBe(true);
    const c = await cli('check');
    expect(c.code).toBe(0);
    expect(rowsOf(c.stdout).sort()).toEqual([
      `ij\tiptables:ij\trepaired: iptables: restored ${f.banned.v4}/32; ip6tables: restored ${f.banned.v6}/128`,
      `nj\tnftables:nj\trepaired: restored ${f.banned.v4}, ${f.banned.v6}`,
    ]);
    expect(await f.canConnect(f.banned.v4)).toBe(false);
    expect(await f.canConnect(f.banned.v6)).toBe(false);
    expect(await f.canConnect(f.other.v4)).toBe(true);
    expect(rowsOf((await cli('check', 'nj')).stdout)).toEqual(['nj\tnftables:nj\tin sync']);
    expect((await cli('check', 'nope')).stderr).toContain('no jail "nope"');
    expect(
      query<{ detail: string }>(dir, "SELECT detail FROM audit WHERE kind = 'action-repaired' AND jail = 'nj'").map(
        (r) => r.detail,
      ),
    ).toEqual([`nftables:nj check (manual); repaired: restored ${f.banned.v4}, ${f.banned.v6}`]);

    // Restart with a 2 s check interval: nobody asks, the periodic check repairs a second removal.
    process.kill(d.pid!, 'SIGTERM');
    expect((await d).exitCode).toBe(0);
    writeConfig('2s');
    d = (await start(f.lab.victim)).p;
    await removeByHand(f);
    await waitFor(async () => !(await f.canConnect(f.banned.v4)) && !(await f.canConnect(f.banned.v6)), {
      timeoutMs: 20_000,
      intervalMs: 500,
      what: 'periodic repair',
    });
    await waitFor(
      () =>
        query(dir, "SELECT 1 FROM audit WHERE kind = 'action-repaired' AND detail LIKE '%(periodic)%'").length === 2,
      { timeoutMs: 10_000, what: 'two periodic rows' },
    );
    const rows = query<{ jail: string; detail: string }>(
      dir,
      "SELECT jail, detail FROM audit WHERE kind = 'action-repaired' AND detail LIKE '%(periodic)%' ORDER BY jail",
    );
    expect(rows.map((r) => r.jail)).toEqual(['ij', 'nj']);
    await waitFor(
      () =>
        collector!.raw.some((r) =>
          /^<28>.*sentryban\[\d+\]: WARNING \[nj\] nftables:nj check \(periodic\); repaired: restored /.test(r),
        ),
      { timeoutMs: 5000, what: 'syslog warning' },
    );
    expect(
      collector.raw.some((r) =>
        /^<28>.*sentryban\[\d+\]: WARNING \[ij\] iptables:ij check \(periodic\); repaired: iptables: restored /.test(r),
      ),
    ).toBe(true);
    process.kill(d.pid!, 'SIGTERM');
    expect((await d).exitCode).toBe(0);
  }, 120_000);
});

import { execa } from 'execa';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCidr } from '../src/core/addr.js';
import { ManualClock } from '../src/core/clock.js';
import { createBackend } from '../src/sentryban/actions/factory.js';
import { DEFAULT_ROUTE_PROTO, specFromOptions } from '../src/sentryban/actions/options.js';
import { execaRunner } from '../src/sentryban/actions/runner.js';
import type { ActionBackend, Ban } from '../src/sentryban/types.js';
import { openBenchLab, type BenchLab } from './lib/ban-lab.js';

// ban-scale: apply 1k/10k/100k bans per backend (start = one batch), restore 100k after a flush against a bare
// `nft -f` / `ipset restore` of the same addresses, per-packet cost of 10k bans (iptables chain vs ipset vs nft
// set) with UDP traffic inside the namespace, and 1,000,000 bans. Banned addresses are set elements in
// 10.0.0.0/8 only: no packet is ever sent to them. Machine: 2 shared cores; medians of RUNS.
const NOW = 1_700_000_000_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LIMIT_MS = 180_000;

const bansOf = (n: number): Ban[] =>
  Array.from({ length: n }, (_, i) => {
    const t = parseCidr(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)!;
    return {
      jail: 'bench',
      target: t,
      bannedAt: NOW,
      expiresAt: NOW + 3600_000 + (i % 600) * 1000,
      bantimeSec: 3600,
      banCount: 1,
    };
  });
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 0) : 'n/a');

type Kind = 'nftables' | 'ipset' | 'iptables' | 'route' | 'hostsdeny';

const make = (lab: BenchLab, kind: Kind, dir: string, proto = 'tcp'): ActionBackend => {
  const opts: Record<string, string> =
    kind === 'hostsdeny' ? { file: join(dir, 'hosts.deny') } : kind === 'route' ? {} : { protocol: proto };
  const s = specFromOptions(kind, 'bench', opts);
  if (!s.ok) throw new Error(JSON.stringify(s.errors));
  const b = createBackend(s.value, {
    clock: new ManualClock(NOW),
    runner: execaRunner({ prefix: ['ip', 'netns', 'exec', lab.victim], timeoutMs: LIMIT_MS }),
  });
  if (!b.ok) throw new Error('backend');
  return b.value;
};

// Everything of `kind`'s in the victim namespace removed with the bare tools (the backends have no teardown: the
// daemon keeps its rules when it stops), so each timed start begins from nothing of ours.
const teardown = async (lab: BenchLab, kind: Kind, dir: string): Promise<void> => {
  const nsx = (argv: string[]) =>
    execa('ip', ['netns', 'exec', lab.victim, ...argv], { timeout: LIMIT_MS, reject: false });
  if (kind === 'nftables') await nsx(['nft', 'delete', 'table', 'inet', 'sentryban-bench']);
  if (kind === 'iptables' || kind === 'ipset')
    for (const tool of ['iptables', 'ip6tables']) {
      await nsx([tool, '-w', '-F']);
      await nsx([tool, '-w', '-X']);
    }
  if (kind === 'ipset') for (const k of ['h4', 'h6', 'n4', 'n6']) await nsx(['ipset', 'destroy', `sb-bench-${k}`]);
  if (kind === 'route')
    for (const f of ['-4', '-6']) await nsx(['ip', f, 'route', 'flush', 'proto', String(DEFAULT_ROUTE_PROTO)]);
  if (kind === 'hostsdeny') rmSync(join(dir, 'hosts.deny'), { force: true });
};

const timed = async (fn: () => Promise<{ ok: boolean }>): Promise<number> => {
  const t0 = process.hrtime.bigint();
  const o = await fn();
  if (!o.ok) throw new Error(`failed: ${JSON.stringify(o).slice(0, 400)}`);
  return ms(t0);
};

const applyFigures = async (lab: BenchLab, dir: string): Promise<void> => {
  for (const kind of ['nftables', 'ipset', 'iptables', 'route', 'hostsdeny'] as const) {
    for (const n of [1000, 10000, 100000]) {
      const bans = bansOf(n);
      const b = make(lab, kind, dir);
      const times: number[] = [];
      try {
        for (let r = 0; r < RUNS; r++) {
          await teardown(lab, kind, dir);
          times.push(await timed(() => b.start(bans)));
        }
        console.log(`apply ${kind} ${n} bans (one batch): ${f1(median(times))} ms median of ${RUNS}`);
      } catch (e) {
        console.log(`apply ${kind} ${n} bans: FAILED ${String(e).slice(0, 200)}`);
      }
      await teardown(lab, kind, dir);
    }
    const b = make(lab, kind, dir);
    await b.start([]);
    const one = bansOf(200);
    const t = await timed(async () => {
      for (const x of one) {
        const o = await b.ban(x);
        if (!o.ok) return o;
      }
      return { ok: true };
    });
    console.log(`ban ${kind} one at a time: ${f1(t / one.length)} ms per ban (200 bans)`);
    await teardown(lab, kind, dir);
  }
};

const bareNft = (bans: readonly Ban[]): string => {
  const lines = [
    'table inet bare',
    'delete table inet bare',
    'table inet bare {',
    '  set h4 { type ipv4_addr; flags timeout; }',
    '}',
  ];
  for (let i = 0; i < bans.length; i += 5000)
    lines.push(
      `add element inet bare h4 { ${bans
        .slice(i, i + 5000)
        .map((b) => `${b.target.base.text} timeout ${Math.ceil(((b.expiresAt ?? NOW) - NOW) / 1000)}s`)
        .join(', ')} }`,
    );
  return `${lines.join('\n')}\n`;
};
const bareIpset = (bans: readonly Ban[]): string =>
  [
    'create bare hash:ip family inet timeout 0 maxelem 2097152 -exist',
    'flush bare',
    ...bans.map((b) => `add bare ${b.target.base.text} timeout ${Math.ceil(((b.expiresAt ?? NOW) - NOW) / 1000)}`),
  ].join('\n') + '\n';

const restoreFigures = async (lab: BenchLab, dir: string, n: number): Promise<void> => {
  const bans = bansOf(n);
  const nsx = (argv: string[], input?: string) =>
    execa('ip', ['netns', 'exec', lab.victim, ...argv], { timeout: LIMIT_MS, ...(input ? { input } : {}) });
  for (const kind of ['nftables', 'ipset'] as const) {
    const ours: number[] = [];
    const bare: number[] = [];
    const b = make(lab, kind, dir);
    for (let r = 0; r < RUNS; r++) {
      await b.start(bans);
      if (kind === 'nftables') await nsx(['nft', 'flush', 'ruleset']);
      else await teardown(lab, kind, dir);
      ours.push(await timed(() => b.start(bans)));
      const file = join(dir, `bare-${kind}`);
      writeFileSync(file, kind === 'nftables' ? bareNft(bans) : bareIpset(bans));
      const t0 = process.hrtime.bigint();
      await nsx(kind === 'nftables' ? ['nft', '-f', file] : ['ipset', 'restore', '-f', file]);
      bare.push(ms(t0));
      if (kind === 'nftables') await nsx(['nft', 'delete', 'table', 'inet', 'bare']);
      if (kind === 'ipset') await nsx(['ipset', 'destroy', 'bare']);
    }
    await teardown(lab, kind, dir);
    const o = median(ours);
    const p = median(bare);
    console.log(
      `restore ${n} after flush, ${kind}: ours ${f1(o)} ms, bare ${kind === 'nftables' ? 'nft -f' : 'ipset restore'} ${f1(p)} ms, ratio ${(o / p).toFixed(2)} (median of ${RUNS}; goal <= 1.5)`,
    );
  }
};

// Packets per second that get through 10k non-matching bans, measured by a counter after our hook.
const packetFigures = async (lab: BenchLab, dir: string): Promise<void> => {
  const nsv = (argv: string[], input?: string) =>
    execa('ip', ['netns', 'exec', lab.victim, ...argv], { timeout: 60000, ...(input ? { input } : {}) });
  await nsv(
    ['nft', '-f', '-'],
    'table inet bench {\n chain c { type filter hook input priority 10; policy accept;\n udp dport 9 counter drop\n }\n}\n',
  );
  const counted = async (): Promise<number> =>
    Number(/packets (\d+)/.exec((await nsv(['nft', 'list', 'table', 'inet', 'bench'])).stdout)?.[1] ?? 0);
  const rate = async (): Promise<number> => {
    const before = await counted();
    const t0 = process.hrtime.bigint();
    await execa(
      'ip',
      [
        'netns',
        'exec',
        lab.attacker,
        'timeout',
        '-s',
        'INT',
        '2',
        'hping3',
        '--udp',
        '-p',
        '9',
        '--flood',
        '-q',
        '192.0.2.1',
      ],
      { reject: false, timeout: 20000 },
    );
    const secs = ms(t0) / 1000;
    return ((await counted()) - before) / secs;
  };
  const runs = async (): Promise<number> => {
    const xs: number[] = [];
    for (let r = 0; r < RUNS; r++) xs.push(await rate());
    return median(xs);
  };
  const base = await runs();
  console.log(`packets/s through no bans: ${f1(base)} (hping3 --udp --flood, 2 s, median of ${RUNS})`);
  for (const kind of ['iptables', 'ipset', 'nftables'] as const) {
    const b = make(lab, kind, dir, 'udp');
    await b.start(bansOf(10000));
    const pps = await runs();
    await teardown(lab, kind, dir);
    const extraNs = 1e9 / pps - 1e9 / base;
    console.log(
      `per-packet cost of 10,000 bans, ${kind === 'iptables' ? 'iptables chain (10k rules)' : kind === 'ipset' ? 'ipset (10k elements)' : 'nft set (10k elements)'}: ${f1(pps)} packets/s, +${f1(extraNs)} ns per packet vs no bans`,
    );
  }
  await nsv(['nft', 'delete', 'table', 'inet', 'bench']);
};

const millionFigures = async (lab: BenchLab, dir: string): Promise<void> => {
  const bans = bansOf(1_000_000);
  for (const kind of ['nftables', 'ipset'] as const) {
    const b = make(lab, kind, dir);
    try {
      const t = await timed(() => b.start(bans));
      const sample = bans[777_777]!.target.base.text;
      const probe =
        kind === 'nftables'
          ? ['nft', 'get', 'element', 'inet', 'sentryban-bench', 'h4', `{ ${sample} }`]
          : ['ipset', 'test', 'sb-bench-h4', sample];
      const r = await execa('ip', ['netns', 'exec', lab.victim, ...probe], { reject: false, timeout: 60000 });
      const c = await timed(() => b.check(bans));
      console.log(
        `1,000,000 bans ${kind}: start ${f1(t)} ms, check ${f1(c)} ms, sample element present: ${r.exitCode === 0}`,
      );
    } catch (e) {
      console.log(`1,000,000 bans ${kind}: FAILED ${String(e).slice(0, 200)}`);
    }
    await teardown(lab, kind, dir);
  }
};

export async function main(args: string[]): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('ban-scale: needs root (network namespaces); skipped');
    return;
  }
  const only = new Set(args.length ? args : (process.env.BAN_SCALE ?? 'apply,restore,packets,million').split(','));
  const dir = mkdtempSync(join(tmpdir(), 'sb-ban-scale-'));
  const lab = await openBenchLab();
  try {
    if (only.has('apply')) await applyFigures(lab, dir);
    if (only.has('restore')) await restoreFigures(lab, dir, 100000);
    if (only.has('packets')) await packetFigures(lab, dir);
    if (only.has('million')) await millionFigures(lab, dir);
  } finally {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

import { execa } from 'execa';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

// How the tools reach the victim namespace: `ip netns exec NS` in front of each, or nothing from a process that runs
// inside it already (the restore figures: see restoreInside).
type Where = readonly string[];
const viaExec = (lab: BenchLab): Where => ['ip', 'netns', 'exec', lab.victim];
const runIn = (where: Where, argv: string[], reject = true) => {
  const [cmd, ...args] = [...where, ...argv];
  return execa(cmd!, args, { timeout: LIMIT_MS, reject });
};

const make = (where: Where, kind: Kind, dir: string, proto = 'tcp'): ActionBackend => {
  const opts: Record<string, string> =
    kind === 'hostsdeny' ? { file: join(dir, 'hosts.deny') } : kind === 'route' ? {} : { protocol: proto };
  const s = specFromOptions(kind, 'bench', opts);
  if (!s.ok) throw new Error(JSON.stringify(s.errors));
  const b = createBackend(s.value, {
    clock: new ManualClock(NOW),
    runner: execaRunner({ prefix: where, timeoutMs: LIMIT_MS }),
  });
  if (!b.ok) throw new Error('backend');
  return b.value;
};

// Everything of `kind`'s in the victim namespace removed with the bare tools (the backends have no teardown: the
// daemon keeps its rules when it stops), so each timed start begins from nothing of ours.
const teardown = async (where: Where, kind: Kind, dir: string): Promise<void> => {
  const nsx = (argv: string[]) => runIn(where, argv, false);
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
      const b = make(viaExec(lab), kind, dir);
      const times: number[] = [];
      try {
        for (let r = 0; r < RUNS; r++) {
          await teardown(viaExec(lab), kind, dir);
          times.push(await timed(() => b.start(bans)));
        }
        console.log(`apply ${kind} ${n} bans (one batch): ${f1(median(times))} ms median of ${RUNS}`);
      } catch (e) {
        console.log(`apply ${kind} ${n} bans: FAILED ${String(e).slice(0, 200)}`);
      }
      await teardown(viaExec(lab), kind, dir);
    }
    const b = make(viaExec(lab), kind, dir);
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
    await teardown(viaExec(lab), kind, dir);
  }
};

// Bans for the restore figures, as varied as a ban list in production: sources spread over the whole space (a
// fixed seed), 20% IPv6, 1% prefixes, remaining times spread over an hour. Addresses only in 10.0.0.0/8 and
// 2001:db8::/32: no packet is ever sent to them.
const variedBans = (n: number): Ban[] => {
  let x = 0x9e3779b9;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const seen = new Set<string>();
  const out: Ban[] = [];
  while (out.length < n) {
    const r = rnd();
    const kind = out.length % 100;
    const text =
      kind === 0
        ? `10.${r & 255}.${(r >>> 8) & 255}.0/24`
        : kind < 21
          ? `2001:db8:${(r & 0xffff).toString(16)}:${(rnd() & 0xffff).toString(16)}::${(rnd() & 0xffff).toString(16)}`
          : `10.${(r >>> 16) & 255}.${(r >>> 8) & 255}.${r & 255}`;
    const t = parseCidr(text)!;
    if (seen.has(t.text)) continue;
    seen.add(t.text);
    out.push({
      jail: 'bench',
      target: t,
      bannedAt: NOW,
      expiresAt: NOW + 60_000 + (rnd() % 3600) * 1000,
      bantimeSec: 3600,
      banCount: 1,
    });
  }
  return out;
};

// The bare tools get the same work as ours: the same sets (types, flags, maxelem), the same elements with the same
// timeouts, and for nft the same chain and rules, each written the fastest way the tool takes it (nft: elements
// inside the set declarations; ipset: straight into the sets, with a swap only where ours must replace live sets).
// Written here from the bans, not from our plans.
const SETS = [
  { key: 'h4', nft: 'ipv4_addr; flags timeout', ipset: 'hash:ip family inet', v6: false, net: false },
  { key: 'h6', nft: 'ipv6_addr; flags timeout', ipset: 'hash:ip family inet6', v6: true, net: false },
  { key: 'n4', nft: 'ipv4_addr; flags interval,timeout', ipset: 'hash:net family inet', v6: false, net: true },
  { key: 'n6', nft: 'ipv6_addr; flags interval,timeout', ipset: 'hash:net family inet6', v6: true, net: true },
] as const;
const secs = (b: Ban): number => Math.ceil(((b.expiresAt ?? NOW) - NOW) / 1000);
const inSet = (bans: readonly Ban[], s: (typeof SETS)[number]): Ban[] =>
  bans.filter((b) => (b.target.base.family === 6) === s.v6 && !b.target.isHost() === s.net);
const elemOf = (b: Ban): string => (b.target.isHost() ? b.target.base.text : b.target.text);
const bareNft = (bans: readonly Ban[]): string => {
  const t = 'sentryban-bench';
  const sets = SETS.map((s) => {
    const e = inSet(bans, s).map((b) => `${elemOf(b)} timeout ${secs(b)}s`);
    return `  set ${s.key} { type ${s.nft};${e.length ? ` elements = { ${e.join(', ')} }` : ''} }`;
  });
  const rules = SETS.map(
    (s) => `    meta l4proto tcp ${s.v6 ? 'ip6' : 'ip'} saddr @${s.key} reject with icmpx port-unreachable`,
  );
  return [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    ...sets,
    '  chain input {',
    '    type filter hook input priority -1; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
};
const bareIpset = (bans: readonly Ban[], swap: boolean): string =>
  SETS.flatMap((s) => {
    const name = `sb-bench-${s.key}`;
    const into = swap ? `${name}.t` : name;
    return [
      `create ${into} ${s.ipset} timeout 0 maxelem 2097152`,
      ...inSet(bans, s).map((b) => `add ${into} ${elemOf(b)} timeout ${secs(b)}`),
      ...(swap ? [`swap ${into} ${name}`, `destroy ${into}`] : []),
    ];
  }).join('\n') + '\n';
// After a flush the bans are not enforced until rules match the sets: the bare tool's work then includes them, one
// per set (as ours, tcp, REJECT), both families at once once the sets exist. Over bans in force they are there.
const bareRules = (v6: boolean): string =>
  [
    '*filter',
    ...SETS.filter((s) => s.v6 === v6).map(
      (s) =>
        `-A INPUT -p tcp -m set --match-set sb-bench-${s.key} src -j REJECT --reject-with icmp${v6 ? '6' : ''}-port-unreachable`,
    ),
    'COMMIT',
    '',
  ].join('\n');

// CPU time of this process and of the children it has waited for (/proc/self/stat: utime, stime, cutime, cstime, in
// clock ticks): on a loaded machine, the work done rather than the time waited for a core.
let tick = 0;
const cpuMs = async (): Promise<number> => {
  tick ||= 1000 / Number((await execa('getconf', ['CLK_TCK'])).stdout);
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ').map(Number);
  return ((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0)) * tick;
};

// Restore 100k bans as the daemon does at start (a fresh backend's start(bans), Node-side work included), against
// the bare tool given the same work in the same run, alternating which goes first. "after a flush": nothing of
// ours in the kernel (a reboot); "over 100k in force": a daemon restart, our sets already full. RESTORE_KINDS
// (e.g. `ipset`) limits the backends.
const restoreFigures = async (where: Where, dir: string, n: number): Promise<void> => {
  const bans = variedBans(n);
  const nsx = (argv: string[]) => runIn(where, argv);
  const kinds = (['nftables', 'ipset'] as const).filter((k) => (process.env.RESTORE_KINDS ?? k).split(',').includes(k));
  for (const kind of kinds) {
    for (const over of [false, true]) {
      const ours: number[] = [];
      const bare: number[] = [];
      const oursCpu: number[] = [];
      const bareCpu: number[] = [];
      // ipset after a flush: the bare sets alone, before their rules (the figure before rules were counted).
      const setsOnly: number[] = [];
      const setsOnlyCpu: number[] = [];
      const withRules = kind === 'ipset' && !over;
      const file = join(dir, `bare-${kind}`);
      writeFileSync(file, kind === 'nftables' ? bareNft(bans) : bareIpset(bans, over));
      for (const v6 of [false, true]) writeFileSync(join(dir, `bare-rules-${v6 ? 6 : 4}`), bareRules(v6));
      const reset = async (): Promise<void> => {
        await teardown(where, kind, dir);
        if (over) {
          const o = await make(where, kind, dir).start(bans);
          if (!o.ok) throw new Error(`failed: ${JSON.stringify(o).slice(0, 400)}`);
        }
      };
      const runOurs = async (): Promise<void> => {
        await reset();
        const c0 = await cpuMs();
        ours.push(await timed(() => make(where, kind, dir).start(bans)));
        oursCpu.push((await cpuMs()) - c0);
      };
      const runBare = async (): Promise<void> => {
        await reset();
        const c0 = await cpuMs();
        const t0 = process.hrtime.bigint();
        await nsx(kind === 'nftables' ? ['nft', '-f', file] : ['ipset', 'restore', '-f', file]);
        if (withRules) {
          setsOnly.push(ms(t0));
          setsOnlyCpu.push((await cpuMs()) - c0);
          await Promise.all(
            ['iptables-restore', 'ip6tables-restore'].map((t, i) =>
              nsx([t, '-w', '--noflush', join(dir, `bare-rules-${i === 0 ? 4 : 6}`)]),
            ),
          );
        }
        bare.push(ms(t0));
        bareCpu.push((await cpuMs()) - c0);
      };
      for (let r = 0; r < RUNS; r++) {
        if (r % 2 === 0) await runOurs();
        await runBare();
        if (r % 2 === 1) await runOurs();
      }
      await teardown(where, kind, dir);
      const o = median(ours);
      const p = median(bare);
      const oc = median(oursCpu);
      const tool = kind === 'nftables' ? 'nft -f' : withRules ? 'ipset restore then both rules' : 'ipset restore';
      const alone = withRules
        ? `; against the bare sets alone (no rules: bans not enforced) ${f1(median(setsOnly))} ms, ratio ` +
          `${(o / median(setsOnly)).toFixed(2)}, CPU ${f1(median(setsOnlyCpu))} ms, ratio ${(oc / median(setsOnlyCpu)).toFixed(2)}`
        : '';
      console.log(
        `restore ${n} ${over ? `over ${n} in force` : 'after flush'}, ${kind}: ours ${f1(o)} ms, bare ${tool} ${f1(p)} ms, ` +
          `ratio ${(o / p).toFixed(2)} (median of ${RUNS}; goal <= 1.2); CPU (this process and the tools it ran) ` +
          `ours ${f1(oc)} ms, bare ${f1(median(bareCpu))} ms, ratio ${(oc / median(bareCpu)).toFixed(2)}${alone}`,
      );
    }
  }
};

// The restore figures measured from a process inside the victim namespace: this bench re-run there through one
// `ip netns exec`, so neither side pays `ip netns exec` per process it starts (as in production, where the daemon
// runs in the host's namespace with no prefix; ours starts up to six processes, the bare tool one to three, and
// `ip netns exec` costs 6-13 ms a process on a slow machine). RESTORE_VIA_EXEC=1: the way sessions 9-13 measured
// (this process outside, `ip netns exec` in front of every tool of both sides).
const restoreInside = async (lab: BenchLab, dir: string): Promise<void> => {
  if (process.env.RESTORE_VIA_EXEC === '1') return restoreFigures(viaExec(lab), dir, RESTORE_N);
  const runJs = fileURLToPath(new URL('./run.js', import.meta.url));
  await execa('ip', ['netns', 'exec', lab.victim, process.execPath, runJs, 'ban-scale'], {
    env: { BAN_SCALE: INSIDE, BAN_SCALE_DIR: dir },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 30 * 60_000,
  });
};
const INSIDE = 'restore-inside';
const RESTORE_N = 100000;

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
    const b = make(viaExec(lab), kind, dir, 'udp');
    await b.start(bansOf(10000));
    const pps = await runs();
    await teardown(viaExec(lab), kind, dir);
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
    const b = make(viaExec(lab), kind, dir);
    try {
      const t = await timed(() => b.start(bans));
      const sample = bans[777_777]!.target.base.text;
      const probe =
        kind === 'nftables'
          ? ['nft', 'get', 'element', 'inet', 'sentryban-bench', 'h4', `{ ${sample} }`]
          : ['ipset', 'test', 'sb-bench-h4', sample];
      // `nft get element` walks the whole set: about 100 s for 1M elements on a loaded machine.
      const r = await execa('ip', ['netns', 'exec', lab.victim, ...probe], { reject: false, timeout: 300000 });
      const c = await timed(() => b.check(bans));
      console.log(
        `1,000,000 bans ${kind}: start ${f1(t)} ms, check ${f1(c)} ms, sample element present: ${r.timedOut ? 'probe timed out' : r.exitCode === 0}`,
      );
    } catch (e) {
      console.log(`1,000,000 bans ${kind}: FAILED ${String(e).slice(0, 200)}`);
    }
    await teardown(viaExec(lab), kind, dir);
  }
};

export async function main(args: string[]): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('ban-scale: needs root (network namespaces); skipped');
    return;
  }
  const only = new Set(args.length ? args : (process.env.BAN_SCALE ?? 'apply,restore,packets,million').split(','));
  // The restore figures, inside the namespace restoreInside made this process run in (its lab and folder).
  if (only.has(INSIDE)) return restoreFigures([], process.env.BAN_SCALE_DIR ?? tmpdir(), RESTORE_N);
  const dir = mkdtempSync(join(tmpdir(), 'sb-ban-scale-'));
  const lab = await openBenchLab();
  try {
    if (only.has('apply')) await applyFigures(lab, dir);
    if (only.has('restore')) await restoreInside(lab, dir);
    if (only.has('packets')) await packetFigures(lab, dir);
    if (only.has('million')) await millionFigures(lab, dir);
  } finally {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBenchLab, type BenchLab } from '../../lib/ban-lab.js';
import { kill9, sleep, startAndKill, startDaemon, until, type Daemon } from './storm-daemon.js';
import { FAILREGEX, planStorm, rng, type StormPlan } from './storm-log.js';
import { readKernel, StoreView, type Kernel } from './storm-probe.js';

// crash-storm: kill -9 the real daemon (nftables backend, in a namespace of its own) at seeded random moments
// of a burst of bans read from a followed log that a writer keeps appending to; after each restart every
// committed ban must be in the kernel set exactly once, and at the end every line must have been counted once.
// The burst lasts about kills x msPerKill (default 3 s): the writer paces the lines to fill it, and the kills fall
// at seeded random moments of it.
export type StormOptions = {
  bans: number;
  kills: number;
  seed: number;
  msPerKill?: number;
  say?: (line: string) => void;
};
export type StormFigures = {
  seed: number;
  bans: number;
  kills: number;
  lines: number;
  decoys: number;
  durationMs: number;
  // committed bans missing from the kernel after a restart; addresses that should be banned and are not
  bansLost: number;
  // a second ban row or 'ban' audit row for one address, an element twice in the set, rules beyond one per set
  duplicates: number;
  wronglyBanned: number; // kernel elements with no committed ban (at a kill, after a restart), decoys banned
  linesLost: number;
  linesDoubled: number; // by each line's seq, from the 'found'/'ignored' audit rows
};

const JAIL = 'storm';
const TABLE = `sentryban-${JAIL}`;
const RULES = 4; // one per set (h4, h6, n4, n6)

const writeConfig = (dir: string): void => {
  mkdirSync(join(dir, 'jails'), { recursive: true });
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    'state: state\nlogtarget: sentryban.log\nactions:\n  fw:\n    backend: nftables\n',
  );
  writeFileSync(
    join(dir, 'jails', `${JAIL}.yaml`),
    `${JAIL}:\n  logpath: ${JAIL}.log\n  failregex: '${FAILREGEX}'\n` +
      '  maxretry: 2\n  findtime: 1d\n  bantime: 1d\n  ignoreself: false\n  actions: [fw]\n',
  );
  writeFileSync(join(dir, `${JAIL}.log`), '');
};

// Appends the planned lines in chunks every 50 ms, spread over `ms`; bounded by the plan's length.
const writeLog = async (path: string, plan: StormPlan, ms: number, stop: () => boolean): Promise<void> => {
  const t0 = Date.now();
  let i = 0;
  while (i < plan.lines.length && !stop()) {
    const due = Math.min(plan.lines.length, Math.ceil(((Date.now() - t0 + 50) / ms) * plan.lines.length));
    const iso = new Date().toISOString();
    if (due > i)
      appendFileSync(
        path,
        plan.lines
          .slice(i, due)
          .map((l) => l.text(iso))
          .join(''),
      );
    i = Math.max(i, due);
    await sleep(50);
  }
};

const minus = (a: Iterable<string>, b: Set<string>): number => {
  let n = 0;
  for (const x of a) if (!b.has(x)) n++;
  return n;
};
const extra = (counts: Iterable<number>): number => {
  let n = 0;
  for (const c of counts) n += Math.max(0, c - 1);
  return n;
};
const kernelDuplicates = (k: Kernel): number =>
  k.elems.length - new Set(k.elems).size + Math.abs(k.rules - RULES) + Math.abs(k.tables - 1);

// The kill moments (seeded): `kills` instants spread at random over the burst (ms from its start). A kill whose
// moment passed while the daemon was restarting comes 0-300 ms after it is ready (reading the backlog). One kill
// in five also kills the next start 0-800 ms in, ready or not (loading, restoring the bans).
type Kill = { atMs: number; lateMs: number; startKillMs: number | null };
const killPlan = (o: StormOptions, burstMs: number, random: () => number): Kill[] =>
  Array.from({ length: o.kills }, () => Math.floor(random() * burstMs))
    .sort((a, b) => a - b)
    .map((atMs) => ({
      atMs,
      lateMs: Math.floor(random() * 300),
      startKillMs: random() < 0.2 ? Math.floor(random() * 800) : null,
    }));

export const runCrashStorm = async (o: StormOptions): Promise<StormFigures> => {
  const t0 = Date.now();
  const say = o.say ?? (() => {});
  const random = rng(o.seed);
  const plan = planStorm(o.bans, random);
  const burstMs = o.kills * (o.msPerKill ?? 3000);
  const kills = killPlan(o, burstMs, random);
  const f: StormFigures = {
    seed: o.seed,
    bans: o.bans,
    kills: 0,
    lines: plan.lines.length,
    decoys: plan.decoys.length,
    durationMs: 0,
    bansLost: 0,
    duplicates: 0,
    wronglyBanned: 0,
    linesLost: 0,
    linesDoubled: 0,
  };
  const dir = mkdtempSync(join(tmpdir(), 'sentryban-storm-'));
  const log = join(dir, `${JAIL}.log`);
  let lab: BenchLab | null = null;
  let d: Daemon | null = null;
  let view: StoreView | null = null;
  let writing = true;
  let writer: Promise<void> = Promise.resolve();
  try {
    writeConfig(dir);
    lab = await openBenchLab();
    const ns = lab.victim;
    d = await startDaemon(ns, dir);
    const v = new StoreView(join(dir, 'state', 'sentryban.sqlite3'), JAIL);
    view = v;
    const burst0 = Date.now();
    writer = writeLog(log, plan, burstMs, () => !writing);
    for (const k of kills) {
      const wait = burst0 + k.atMs - Date.now();
      await sleep(wait > 0 ? wait : k.lateMs);
      const at = Date.now() - burst0;
      await kill9(d);
      d = null;
      f.kills++;
      // Dead: the store and the kernel hold still. Nothing may be in the kernel that the store has not committed.
      const committed = new Set(v.active());
      const atKill = await readKernel(ns, TABLE);
      f.wronglyBanned += minus(atKill.elems, committed);
      if (k.startKillMs !== null) await startAndKill(ns, dir, k.startKillMs);
      d = await startDaemon(ns, dir);
      // Restarted: every ban committed before the kill is in force, and the kernel holds nothing uncommitted.
      const after = await readKernel(ns, TABLE);
      const now = new Set(v.active());
      const inKernel = new Set(after.elems);
      f.bansLost += minus(committed, inKernel);
      f.wronglyBanned += minus(inKernel, now);
      f.duplicates += kernelDuplicates(after);
      const also = k.startKillMs === null ? '' : `, and the next start ${k.startKillMs} ms in`;
      say(
        `kill ${f.kills}/${kills.length} at ${(at / 1000).toFixed(2)} s: ${committed.size} bans committed, ` +
          `${atKill.elems.length} in the kernel, ${v.offset(log)} of ${statSync(log).size} bytes read${also}`,
      );
    }
    await writer;
    const size = statSync(log).size;
    const last = d;
    await until(
      'the whole log read and applied',
      last,
      async () => v.offset(log) === size && (await readKernel(ns, TABLE)).elems.length === v.active().length,
      600_000,
      200,
    );
    // The final restart: a clean stop, then a start; the figures are read from what it restored.
    process.kill(last.pid, 'SIGTERM');
    if ((await last.proc).exitCode !== 0) throw new Error(`daemon did not stop cleanly:\n${last.output()}`);
    d = await startDaemon(ns, dir);
    const k = await readKernel(ns, TABLE);
    const store = new Set(v.active());
    const kernel = new Set(k.elems);
    const wanted = new Set(plan.banned);
    f.bansLost += minus(wanted, store) + minus(store, kernel);
    f.wronglyBanned += minus(store, wanted) + minus(kernel, store);
    f.duplicates += kernelDuplicates(k) + extra(v.banRows().values()) + extra(v.banAudits().values());
    const seen = v.linesSeen();
    for (const l of plan.lines) {
      const c = seen.get(l.seq) ?? 0;
      if (c === 0) f.linesLost++;
      else f.linesDoubled += c - 1;
    }
    process.kill(d.pid, 'SIGTERM');
    await d.proc;
    d = null;
    f.durationMs = Date.now() - t0;
    return f;
  } finally {
    writing = false;
    await writer.catch(() => {});
    if (d && d.proc.exitCode === null) {
      process.kill(d.pid, 'SIGKILL');
      await d.proc;
    }
    view?.close();
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

export const formatFigures = (f: StormFigures): string =>
  `crash-storm: bans lost ${f.bansLost}, duplicate rules ${f.duplicates}, wrongly banned ${f.wronglyBanned}, ` +
  `lines lost ${f.linesLost}, lines double counted ${f.linesDoubled} (${f.kills} kills -9 during ${f.bans} bans, ` +
  `${f.lines} lines with ${f.decoys} decoys; seed ${f.seed}; ${(f.durationMs / 1000).toFixed(1)} s)`;

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Matcher } from '../filters/matcher.js';
import type { Filter } from '../filters/filter.js';
import type { RegexSetup } from './regex-setup.js';
import type { Tally, TallyPart } from './regex-tally.js';

// `sentryban regex` on a big file: the file is cut at line starts into pieces. This thread matches them from the
// first on, with one matcher, as with one thread; worker threads take pieces from the last backward (each claim
// an atomic compare-and-swap, so that a piece is matched once and the two sides meet wherever the load puts them).
// The workers get the filter this thread loaded (posted once loaded: a Filter is plain data, its RegExps cloned
// from their source and flags), so that they load only the modules that match and read lines.
// A worker matches a piece with a fresh matcher after replaying the bytes before it (the warm-up), to rebuild the
// state the earlier lines leave (fail2ban's session cache, the multi-line buffer, the date template order). The
// workers' pieces are taken only when each one's start state is exactly the state the piece before it ended with
// (Matcher.stateKey) and its date templates did not move; otherwise this thread matches them itself, in order.
// Either way the summary is the one-thread summary.

const AUTO_MIN_BYTES = 80 << 20; // below this (~800,000 syslog lines), a worker costs more than it saves (measured)
const PIECES_PER_THREAD = 8;
const SHRINK = 0.75; // each piece this times the one before it, toward the middle
const MIN_PIECE = 4 << 20;
const WARM_BYTES = 1 << 19; // replayed before a piece (~5,000 log lines; ~8 ms)

export type RangePlan = { log: string; size: number; starts: number[]; warmFrom: number[]; workers: number };

// The first line start at or after byte `at` (the file's size when none).
const lineStartFrom = (fd: number, at: number, size: number): number => {
  if (at <= 0) return 0;
  const buf = Buffer.allocUnsafe(1 << 16);
  for (let pos = at - 1; pos < size;) {
    const r = readSync(fd, buf, 0, buf.length, pos);
    if (r <= 0) break;
    const i = buf.subarray(0, r).indexOf(10);
    if (i >= 0) return pos + i + 1;
    pos += r;
  }
  return size;
};

// The pieces for a file, or null for one thread: threads given (--threads), else one per core for files of
// 80 MiB or more; up to 8 pieces per thread while they average 4 MiB or more (else one per thread),
// shrinking toward the middle.
// SENTRYBAN_REGEX_WARMUP (bytes) changes the warm-up (tests use it to exercise the re-run).
export const planRanges = (log: string, threads: number | undefined): RangePlan | null => {
  let size: number;
  try {
    const st = statSync(log);
    if (!st.isFile()) return null;
    size = st.size;
  } catch {
    return null;
  }
  const k = threads ?? (size >= AUTO_MIN_BYTES ? availableParallelism() : 1);
  if (k < 2 || size === 0) return null;
  const pieces = Math.max(k, Math.min(k * PIECES_PER_THREAD, Math.floor(size / MIN_PIECE)));
  const env = process.env.SENTRYBAN_REGEX_WARMUP;
  const warm = env !== undefined && /^\d+$/.test(env) ? Number(env) : WARM_BYTES;
  // Pieces shrink toward the middle, where this thread and the workers meet: the last one waited for is short.
  const weights = Array.from({ length: pieces }, (_, i) => SHRINK ** Math.min(i, pieces - 1 - i));
  const total = weights.reduce((a, b) => a + b, 0);
  const cut: number[] = [];
  for (let i = 0, acc = 0; i < pieces; acc += weights[i] as number, i++) cut.push(acc / total);
  const fd = openSync(log, 'r');
  const starts = [0];
  const warmFrom = [0];
  try {
    for (let i = 1; i < pieces; i++) {
      const s = lineStartFrom(fd, Math.floor(size * (cut[i] as number)), size);
      if (s > (starts.at(-1) as number) && s < size) {
        starts.push(s);
        warmFrom.push(lineStartFrom(fd, s - warm, size));
      }
    }
  } finally {
    closeSync(fd);
  }
  return starts.length < 2 ? null : { log, size, starts, warmFrom, workers: Math.min(k - 1, starts.length - 1) };
};

// What a worker posts for each piece it matched, then { done: true } (see regex-worker.ts).
export type RangeResult = { piece: number; startKey: string; endKey: string; reorders: number; part: TallyPart };
export type RangeJob = {
  setup: RegexSetup;
  log: string;
  starts: number[];
  warmFrom: number[];
  size: number;
  claims: Int32Array;
};

// claims[i]: 0 free, 1 this thread's, 2 a worker's; claims[pieces] is the next piece the workers take + 1.
export const CLAIMED_HERE = 1;
export const CLAIMED_BY_WORKER = 2;

const runWorker = (job: RangeJob, results: Map<number, RangeResult>, all: Worker[]): Promise<boolean> =>
  new Promise((resolve) => {
    let w: Worker;
    // No node flags for the worker (--input-type and V8 flags are refused there; V8's apply to the process anyway).
    try {
      w = new Worker(new URL('./regex-worker.js', import.meta.url), { workerData: job, execArgv: [] });
    } catch {
      resolve(false);
      return;
    }
    all.push(w);
    w.on('message', (r: RangeResult | { done: true }) => {
      if ('done' in r) resolve(true);
      else results.set(r.piece, r);
    });
    w.once('error', (e) => {
      if (process.env.SENTRYBAN_REGEX_DEBUG) process.stderr.write(`sentryban regex: worker: ${String(e)}\n`);
      resolve(false);
    });
    w.once('exit', () => resolve(false));
  });

// The workers of a plan, started as early as possible (they start while this thread loads the filter, then
// wait for it: share()).
export type Crew = {
  plan: RangePlan;
  claims: Int32Array;
  results: Map<number, RangeResult>;
  done: Array<Promise<boolean>>;
  share: (filter: Filter) => void;
  stop: () => Promise<void>;
};
export const startCrew = (plan: RangePlan, setup: RegexSetup): Crew => {
  const n = plan.starts.length;
  const claims = new Int32Array(new SharedArrayBuffer(4 * (n + 1)));
  claims[0] = CLAIMED_HERE;
  claims[n] = n;
  const results = new Map<number, RangeResult>();
  const job: RangeJob = { setup, log: plan.log, starts: plan.starts, warmFrom: plan.warmFrom, size: plan.size, claims };
  const all: Worker[] = [];
  const done: Array<Promise<boolean>> = [];
  for (let i = 0; i < plan.workers; i++) done.push(runWorker(job, results, all));
  return {
    plan,
    claims,
    results,
    done,
    share: (filter) => {
      for (const w of all) w.postMessage(filter);
    },
    stop: async () => {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
};

// Matches the planned pieces: from the first on with `m` (counted into `tally` by runRange), from the last back
// by the crew. Returns a note on what was done (for SENTRYBAN_REGEX_DEBUG).
export const matchInRanges = async (
  crew: Crew,
  m: Matcher,
  tally: Tally,
  runRange: (from: number, to: number) => Promise<void>,
): Promise<string> => {
  const { plan, claims, results } = crew;
  const { starts, size } = plan;
  const n = starts.length;
  const t0 = performance.now();
  let here = 0; // pieces [0, here) matched here
  // SENTRYBAN_REGEX_HERE=k: at most k pieces here, the rest left to the workers (tests, whatever the timing).
  const cap = /^\d+$/.test(process.env.SENTRYBAN_REGEX_HERE ?? '')
    ? Math.max(1, Number(process.env.SENTRYBAN_REGEX_HERE))
    : n;
  while (here < n && here < cap && (here === 0 || Atomics.compareExchange(claims, here, 0, CLAIMED_HERE) === 0)) {
    await runRange(starts[here] as number, here + 1 < n ? (starts[here + 1] as number) : size);
    here++;
  }
  let key = m.stateKey();
  const t1 = performance.now();
  const ok = (await Promise.all(crew.done)).every(Boolean);
  const t2 = performance.now();
  const taken: TallyPart[] = [];
  for (let i = here; ok && i < n; i++) {
    const r = results.get(i);
    if (r === undefined || r.reorders !== 0 || r.startKey !== key) break;
    taken.push(r.part);
    key = r.endKey;
  }
  const note = `sentryban regex: ${n} ranges, ${taken.length} of ${n - here} taken from threads (${here} here in ${(t1 - t0).toFixed(0)} ms, then waited ${(t2 - t1).toFixed(0)} ms)`;
  if (here + taken.length === n) {
    for (const p of taken) tally.add(p);
    return note;
  }
  // A piece's start state could not be rebuilt: the rest in order, here.
  await runRange(starts[here] as number, size);
  return `${note}, re-run`;
};

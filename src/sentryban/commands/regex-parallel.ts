import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Matcher } from '../filters/matcher.js';
import type { RegexSetup } from './regex.js';
import type { Tally, TallyPart } from './regex-tally.js';

// `sentryban regex` on a big file: the file is cut at line starts into one range per core; the first range is
// matched here, the others in worker threads, each after replaying the lines before its range (the warm-up) from
// a fresh matcher, to rebuild the state the earlier lines leave (fail2ban's session cache, multi-line buffer,
// date template order). A range's counts are taken only when that state is exactly the state the previous range
// ended with (Matcher.stateKey) and its date templates did not move; otherwise the lines after the first range
// are matched here, in order, as with one thread. Either way the summary is the one-thread summary.

const AUTO_MIN_BYTES = 16 << 20; // below this, a thread's start-up (~60 ms) costs about what it saves
const WARM_BYTES = 1 << 20; // replayed before a range (~10,000 log lines; ~15 ms)

export type RangePlan = { log: string; size: number; starts: number[]; warmFrom: number[] };

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

// The ranges for a file, or null for one thread: threads given (--threads), else one per core for files of 16 MiB
// or more. SENTRYBAN_REGEX_WARMUP (bytes) changes the warm-up (tests use it to exercise the re-run).
export const planRanges = (log: string, threads: number | undefined): RangePlan | null => {
  let size: number;
  try { const st = statSync(log); if (!st.isFile()) return null; size = st.size; } catch { return null; }
  const k = threads ?? (size >= AUTO_MIN_BYTES ? availableParallelism() : 1);
  if (k < 2 || size === 0) return null;
  const env = process.env.SENTRYBAN_REGEX_WARMUP;
  const warm = env !== undefined && /^\d+$/.test(env) ? Number(env) : WARM_BYTES;
  const fd = openSync(log, 'r');
  const starts = [0]; const warmFrom = [0];
  try {
    for (let i = 1; i < k; i++) {
      const s = lineStartFrom(fd, Math.floor((size * i) / k), size);
      if (s > (starts.at(-1) as number) && s < size) { starts.push(s); warmFrom.push(lineStartFrom(fd, s - warm, size)); }
    }
  } finally { closeSync(fd); }
  return starts.length < 2 ? null : { log, size, starts, warmFrom };
};

// What a worker posts back (see regex-worker.ts).
export type RangeResult = { startKey: string; endKey: string; reorders: number; part: TallyPart };
export type RangeJob = { setup: RegexSetup; log: string; warmFrom: number; from: number; to: number };

const runWorker = (job: RangeJob): Promise<RangeResult | null> => new Promise((resolve) => {
  let w: Worker;
  // Node's flags go to the worker too, except --input-type (refused there: the worker is a file).
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  try { w = new Worker(new URL('./regex-worker.js', import.meta.url), { workerData: job, execArgv }); } catch { resolve(null); return; }
  w.once('message', (r: RangeResult) => resolve(r));
  w.once('error', (e) => { if (process.env.SENTRYBAN_REGEX_DEBUG) process.stderr.write(`sentryban regex: worker: ${String(e)}\n`); resolve(null); });
  w.once('exit', () => resolve(null));
});

// Matches the planned ranges: the first with `m` (counted into `tally` by runRange), the others in workers.
// Returns a note on what was done (for SENTRYBAN_REGEX_DEBUG).
export const matchInRanges = async (plan: RangePlan, setup: RegexSetup, m: Matcher, tally: Tally, runRange: (from: number, to: number) => Promise<void>): Promise<string> => {
  const { starts, size, log } = plan;
  const jobs: Array<Promise<RangeResult | null>> = [];
  for (let i = 1; i < starts.length; i++) {
    const from = starts[i] as number;
    const to = i + 1 < starts.length ? starts[i + 1] as number : size;
    jobs.push(runWorker({ setup, log, warmFrom: plan.warmFrom[i] as number, from, to }));
  }
  const first = starts[1] as number;
  const t0 = performance.now();
  await runRange(0, first);
  let key = m.stateKey();
  const t1 = performance.now();
  const results = await Promise.all(jobs);
  const t2 = performance.now();
  const taken: TallyPart[] = [];
  for (const r of results) {
    if (r === null || r.reorders !== 0 || r.startKey !== key) break;
    taken.push(r.part); key = r.endKey;
  }
  const note = `sentryban regex: ${starts.length} ranges, ${taken.length} of ${results.length} taken from threads (first range ${(t1 - t0).toFixed(0)} ms, then waited ${(t2 - t1).toFixed(0)} ms)`;
  if (taken.length === results.length) { for (const p of taken) tally.add(p); return note; }
  await runRange(first, size); // the state at a range's start could not be rebuilt: on in order, one thread
  return `${note}, re-run`;
};

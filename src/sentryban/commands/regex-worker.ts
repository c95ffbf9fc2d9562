import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import type { LogLine } from '../types.js';
import type { Filter } from '../filters/filter.js';
import { forEachLine, matcherFor, skipped } from './regex-lines.js';
import { CLAIMED_BY_WORKER, type RangeJob, type RangeResult } from './regex-parallel.js';
import { Tally } from './regex-tally.js';

// Pieces of `sentryban regex` in a worker thread (see regex-parallel.ts): takes pieces from the last backward
// while the main thread has not reached them; for each, a fresh matcher replays the warm-up lines (not counted),
// then counts the piece's lines; posts the matcher's state keys at the piece's start and end. A warm-up from the
// file's first line rebuilds the whole state, hit counts included: date template moves then need no check.
// The filter is the main thread's, posted once it has loaded it (the first message).
const job = workerData as RangeJob;
const { claims, starts } = job;
const n = starts.length;
const [filter] = (await once(parentPort as NonNullable<typeof parentPort>, 'message')) as [Filter];
for (;;) {
  const i = Atomics.sub(claims, n, 1) - 1;
  if (i < 1 || Atomics.compareExchange(claims, i, 0, CLAIMED_BY_WORKER) !== 0) break;
  const { m, tick } = matcherFor(job.setup, filter);
  const line: LogLine = { text: '', source: job.log };
  const tally = new Tally(true);
  let counting = false;
  const one = (text: string): void => {
    if (skipped(text)) return;
    line.text = text;
    const r = m.match(line);
    if (counting) tally.count(r, null);
  };
  const from = starts[i] as number;
  await forEachLine(job.log, one, tick, job.warmFrom[i], from);
  const startKey = m.stateKey();
  const reorders0 = m.dateReorders;
  counting = true;
  await forEachLine(job.log, one, tick, from, i + 1 < n ? starts[i + 1] : job.size);
  const res: RangeResult = {
    piece: i,
    startKey,
    endKey: m.stateKey(),
    reorders: job.warmFrom[i] === 0 ? 0 : m.dateReorders - reorders0,
    part: tally.part(),
  };
  parentPort?.postMessage(res);
}
parentPort?.postMessage({ done: true });

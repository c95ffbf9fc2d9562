import { parentPort, workerData } from 'node:worker_threads';
import type { LogLine } from '../types.js';
import { forEachLine, makeMatcher, skipped } from './regex.js';
import type { RangeJob, RangeResult } from './regex-parallel.js';
import { Tally } from './regex-tally.js';

// One range of `sentryban regex` in a worker thread (see regex-parallel.ts): the warm-up lines are matched and
// not counted, then the range's lines are counted; posts the matcher's state keys at the range's start and end.
const job = workerData as RangeJob;
const made = makeMatcher(job.setup);
if (!Array.isArray(made)) {
  const { m, tick } = made;
  const line: LogLine = { text: '', source: job.log };
  const tally = new Tally(true);
  let counting = false;
  const one = (text: string): void => {
    if (skipped(text)) return;
    line.text = text;
    const r = m.match(line);
    if (counting) tally.count(r, null);
  };
  await forEachLine(job.log, one, tick, job.warmFrom, job.from);
  const startKey = m.stateKey();
  const reorders0 = m.dateReorders;
  counting = true;
  await forEachLine(job.log, one, tick, job.from, job.to);
  const res: RangeResult = { startKey, endKey: m.stateKey(), reorders: m.dateReorders - reorders0, part: tally.part() };
  parentPort?.postMessage(res);
}

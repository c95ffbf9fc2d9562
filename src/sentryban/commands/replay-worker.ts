import { parentPort, workerData } from 'node:worker_threads';
import { compileFilter, type Filter } from '../filters/filter.js';
import { ReplayFeed, type Batch } from './replay-feed.js';
import { LineCursor, openInputs } from './replay-input.js';
import { AHEAD, threadCpu, type FeedGoOn, type FeedJob, type FeedStart } from './replay-thread.js';

// The matching half of `sentryban replay` in a worker thread (replay-thread.ts): waits for the jails' filters
// (compiled again here from the main thread's recipes: the same filters), reads and matches the inputs, and posts
// the batches (their numbers transferred, not copied), at most AHEAD of them not yet read by the main thread.
const job = workerData as FeedJob;
const post = (b: Batch): void => {
  Atomics.add(job.ahead, 0, 1);
  parentPort?.postMessage(b, [b.nums.buffer as ArrayBuffer, b.bytes.buffer as ArrayBuffer]);
  for (let n = Atomics.load(job.ahead, 0); n >= AHEAD; n = Atomics.load(job.ahead, 0)) Atomics.wait(job.ahead, 0, n);
};
const fail = (reason: string): void =>
  post({
    nums: new Float64Array(0),
    used: 0,
    strs: '',
    bytes: new Uint8Array(0),
    bytesRead: 0,
    end: { kind: 'io', reason },
    done: true,
  });

const start = await new Promise<FeedStart>((resolve) => parentPort?.once('message', resolve));
const filters: Filter[] = [];
for (const j of start.jails) {
  const f = compileFilter(j.recipe.spec, j.recipe.opts);
  if (f.ok) filters.push(f.value);
}
// Opened once the jails are known and read at once: a .gz stream opened earlier would start on its own.
const inputs = openInputs(job.logs, process.stdin);
if (filters.length !== start.jails.length) fail('a filter could not be compiled again');
else if (!Array.isArray(inputs)) fail(inputs.reason);
else {
  const split = job.split;
  // With a split, the one file up to it (then on, when the main thread's piece does not follow: replay-split.ts).
  const cursors = inputs.map((i) => new LineCursor(i, split ? { from: 0, to: split.at } : undefined));
  try {
    const jails = filters.map((filter, i) => ({ filter, command: start.jails[i]?.command === true }));
    const feed = new ReplayFeed(cursors, jails, job.window, job.startedAt);
    for await (const b of feed.batches()) {
      if (split && b.done && b.end === null) {
        b.done = false;
        b.split = { keys: feed.stateKeys(), lines: feed.lines };
        const answer = new Promise<FeedGoOn>((resolve) => parentPort?.once('message', resolve));
        post(b);
        if ((await answer).go) {
          (cursors[0] as LineCursor).extendTo(split.size);
          for await (const rest of feed.batches()) post(rest);
        }
      } else post(b);
    }
  } finally {
    for (const c of cursors) c.close();
    threadCpu('matching');
  }
}

import { parentPort, workerData } from 'node:worker_threads';
import { ReplayFeed, type Batch } from './replay-feed.js';
import { LineCursor, openInputs } from './replay-input.js';
import { AHEAD, threadCpu, type FeedJob, type FeedStart } from './replay-thread.js';

// The matching half of `sentryban replay` in a worker thread (replay-thread.ts): waits for the jails' filters
// (the main thread's, posted), reads and matches the inputs, and posts
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
// Opened once the jails are known and read at once: a .gz stream opened earlier would start on its own.
const inputs = openInputs(job.logs, process.stdin);
if (!Array.isArray(inputs)) fail(inputs.reason);
else {
  const cursors = inputs.map((i) => new LineCursor(i));
  try {
    const feed = new ReplayFeed(cursors, start.jails, job.window, job.startedAt);
    for await (const b of feed.batches()) post(b);
  } finally {
    for (const c of cursors) c.close();
    threadCpu('matching');
  }
}

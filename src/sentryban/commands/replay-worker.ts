import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../config/load.js';
import { ReplayFeed, type Batch } from './replay-feed.js';
import { LineCursor, openInputs } from './replay-input.js';
import { AHEAD, pickJails, threadCpu, type FeedJob } from './replay-thread.js';

// The matching half of `sentryban replay` in a worker thread (replay-thread.ts): loads the same configuration,
// reads and matches the inputs, and posts the batches (their numbers transferred, not copied), at most AHEAD of
// them not yet read by the main thread.
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

const loaded = await loadConfig(job.configDir ?? (await import('../this-host.js')).defaultConfigDir());
const inputs = loaded.ok ? openInputs(job.logs, process.stdin) : null;
if (!loaded.ok) fail('the configuration changed while replaying');
else if (!Array.isArray(inputs)) fail(`${inputs?.reason ?? 'unreadable'}`);
else {
  const jails = pickJails(loaded.value.jails, job.jails);
  const cursors = inputs.map((i) => new LineCursor(i));
  try {
    if (jails.length === 0) fail('the configuration changed while replaying');
    else {
      const feed = new ReplayFeed(
        cursors,
        jails.map((j) => ({ filter: j.filter, command: Boolean(j.spec.config.ignore.command) })),
        job.window,
        job.startedAt,
      );
      for await (const b of feed.batches()) post(b);
    }
  } finally {
    for (const c of cursors) c.close();
    threadCpu('matching');
  }
}

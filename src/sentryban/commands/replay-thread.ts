import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { LoadedJail } from '../config/loaded.js';
import type { Filter } from '../filters/filter.js';
import type { Batch } from './replay-feed.js';

// `sentryban replay` with its matching half (replay-feed.ts) in a worker thread: the worker reads and matches
// while this thread runs the jails on the batches already matched. One worker for all inputs: the merge in time
// order needs only the lines' times, so it is done there too, and this thread gets one stream in order.
// The worker starts first (its start-up runs while this thread loads the configuration) and waits for the jails'
// filters as this thread compiled them (FeedStart: a Filter is plain data, its RegExps cloned from their source
// and flags, as `sentryban regex` posts it to its workers): it loads no configuration of its own, only the
// matching's modules (~45 instead of ~110: the config loader brings every action backend).
export type FeedJob = {
  logs: string[]; // files only (stdin is read on the main thread)
  window: { since: number | null; until: number | null };
  startedAt: number;
  ahead: Int32Array; // batches posted and not yet read (shared)
};
// The jails replayed, in order: each one's filter and whether it has an ignorecommand (its failures then carry
// their groups and lines).
export type FeedStart = { jails: Array<{ filter: Filter; command: boolean }> };
export const AHEAD = 16; // at most this many batches (of 4,096 lines) ahead of the jails

// SENTRYBAN_REPLAY_DEBUG: each thread's CPU time on stderr at its end (Linux).
export const threadCpu = (who: string): void => {
  if (!process.env.SENTRYBAN_REPLAY_DEBUG) return;
  try {
    const f = readFileSync('/proc/thread-self/stat', 'utf8');
    const [user, sys] = f
      .slice(f.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 13)
      .map(Number);
    process.stderr.write(`sentryban replay: ${who} thread CPU ${(((user ?? 0) + (sys ?? 0)) / 100).toFixed(2)} s\n`);
  } catch {
    /* not Linux */
  }
};

// The jails replayed: those asked for (in the configuration's order), else all.
export const pickJails = (all: readonly LoadedJail[], names: readonly string[]): LoadedJail[] =>
  names.length ? all.filter((j) => names.includes(j.spec.config.name)) : [...all];

export const feedStartOf = (jails: readonly LoadedJail[]): FeedStart => ({
  jails: jails.map((j) => ({ filter: j.filter, command: Boolean(j.spec.config.ignore.command) })),
});

// start: hands the worker its jails (once the configuration is checked); stop: ends it, started or not.
export type FeedThread = { batches: AsyncIterable<Batch>; start: (s: FeedStart) => void; stop: () => Promise<void> };

export const startFeedThread = (job: Omit<FeedJob, 'ahead'>): FeedThread => {
  const ahead = new Int32Array(new SharedArrayBuffer(4));
  // No node flags for the worker (V8's apply to the process anyway).
  const w = new Worker(new URL('./replay-worker.js', import.meta.url), {
    workerData: { ...job, ahead },
    execArgv: [],
    stdin: false,
  });
  const queue: Batch[] = [];
  let wake: (() => void) | null = null;
  let ended: string | null = null; // the worker failed or left without its last batch
  let last = false;
  const poke = (): void => {
    const f = wake;
    wake = null;
    f?.();
  };
  w.on('message', (b: Batch) => {
    if (b.done) last = true;
    queue.push(b);
    poke();
  });
  w.once('error', (e) => {
    ended ??= e.message;
    poke();
  });
  const exited = new Promise<void>((resolve) =>
    w.once('exit', () => {
      ended ??= 'the matching thread stopped';
      poke();
      resolve();
    }),
  );
  async function* batches(): AsyncGenerator<Batch> {
    for (;;) {
      const b = queue.shift();
      if (b !== undefined) {
        Atomics.sub(ahead, 0, 1);
        Atomics.notify(ahead, 0);
        yield b;
        if (b.done) return;
        continue;
      }
      if (ended !== null && !last) {
        yield {
          nums: new Float64Array(0),
          used: 0,
          strs: '',
          bytes: new Uint8Array(0),
          bytesRead: 0,
          end: { kind: 'io', reason: ended },
          done: true,
        };
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  }
  return {
    batches: batches(),
    start: (s) => w.postMessage(s),
    // After its last batch the worker ends by itself; it is stopped when it has not (or before its last batch:
    // woken first when it waits for room).
    stop: async () => {
      if (last) {
        // Its end is waited for (its CPU time is on stderr with SENTRYBAN_REPLAY_DEBUG); 2 s at most.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((r) => (timer = setTimeout(r, 2000)));
        await Promise.race([exited, late]);
        clearTimeout(timer);
      }
      Atomics.store(ahead, 0, 0);
      Atomics.notify(ahead, 0);
      await w.terminate();
    },
  };
};

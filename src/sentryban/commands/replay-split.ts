import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { lineStartFrom } from './regex-parallel.js';
import { ReplayFeed, type Batch, type FeedJail } from './replay-feed.js';
import { LineCursor, openInputs } from './replay-input.js';
import type { FeedThread } from './replay-thread.js';

// `sentryban replay` of one big plain file, its matching shared by both threads (when asked: SHARE below): the
// matching thread matches the
// file up to a line start near its end (the split), while this thread, between the batches it runs through the
// jails, matches the rest (the piece) whenever it would otherwise wait for the next batch. A piece's matchers first
// read the lines just before it (the warm-up, nothing recorded), to rebuild the state the earlier lines leave
// (fail2ban's session cache, the multi-line buffer, the date template order). At the split the matching thread
// hands over its matchers' state keys: when they are the piece's after its warm-up and the piece reordered no date
// template, the piece's batches follow the matching thread's (the same records as one thread would have made);
// otherwise the piece is dropped and the matching thread goes on to the end. Either way the output is the one
// thread's. The jails run in the lines' order, as always: only the matching is split.
export type SplitPlan = { log: string; size: number; at: number; warmFrom: number };

// The piece's share of the file: none by default. Measured on the bench's 1M sshd lines (2 cores shared with
// other sessions, load 4-12, 2026-12-07 18:20-18:35 UTC): the main thread's piece costs it ~0.13 s of CPU more
// than its share of the matching thread's time (its own isolate's matcher starts cold: compiled and optimized
// again, the warm-up), so that the whole command took 0.15-0.3 s more CPU with a share of 0.12-0.45 and was not
// faster in wall time. It may pay on an idle machine (the main thread waits ~20% of the time for the matching
// thread there): SENTRYBAN_REPLAY_SPLIT=0.2 to measure it.
const SHARE = 0;
const WARM_BYTES = 1 << 19; // ~5,000 log lines (as `sentryban regex`)

// The split for these inputs (one plain file), or null. SENTRYBAN_REPLAY_SPLIT sets the piece's share (0 to 0.9;
// 0: no split) or, as `@N`, puts the split at the first line start at or after byte N (tests);
// SENTRYBAN_REPLAY_WARMUP the warm-up (bytes).
export const planSplit = (logs: readonly string[]): SplitPlan | null => {
  const env = process.env.SENTRYBAN_REPLAY_SPLIT ?? '';
  const byte = /^@\d+$/.test(env) ? Number(env.slice(1)) : null;
  const asked = byte !== null ? 1 : env === '' ? SHARE : Number(env);
  const share = Number.isFinite(asked) ? Math.min(0.9, Math.max(0, asked)) : SHARE;
  const warmEnv = Number(process.env.SENTRYBAN_REPLAY_WARMUP ?? WARM_BYTES);
  const warm = Number.isFinite(warmEnv) && warmEnv >= 0 ? warmEnv : WARM_BYTES;
  const log = logs[0];
  if (logs.length !== 1 || log === undefined || log === '-' || share === 0) return null;
  let fd: number | null = null;
  try {
    const st = statSync(log);
    if (!st.isFile() || st.size === 0) return null;
    fd = openSync(log, 'r');
    const head = Buffer.alloc(2);
    if (readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b) return null; // .gz: read as a stream
    const at = lineStartFrom(fd, byte ?? Math.floor(st.size * (1 - share)), st.size);
    if (at <= 0 || at >= st.size) return null;
    return { log, size: st.size, at, warmFrom: lineStartFrom(fd, Math.max(0, at - warm), st.size) };
  } catch {
    return null; // refused later, with its reason
  } finally {
    if (fd !== null) closeSync(fd);
  }
};

// The piece, matched here in steps (a batch each) into batches kept until the split is reached. A piece that
// cannot be read (the file went away) is done and does not follow: the matching thread then reads on.
export class HerePiece {
  readonly #plan: SplitPlan;
  readonly #jails: readonly FeedJail[];
  readonly #window: { since: number | null; until: number | null };
  readonly #startedAt: number;
  #feed: ReplayFeed | null = null;
  #cursor: LineCursor | null = null;
  #gen: AsyncGenerator<Batch> | null = null;
  #keys: string[] | null = null;
  #reorders = 0;
  #done = false;
  readonly batches: Batch[] = [];

  constructor(
    plan: SplitPlan,
    jails: readonly FeedJail[],
    window: { since: number | null; until: number | null },
    startedAt: number,
  ) {
    this.#plan = plan;
    this.#jails = jails;
    this.#window = window;
    this.#startedAt = startedAt;
  }

  // Matches the next batch of the piece (the warm-up first); false once the piece is done.
  async step(): Promise<boolean> {
    if (this.#done) return false;
    if (this.#gen === null) {
      const inputs = openInputs([this.#plan.log], process.stdin);
      const input = Array.isArray(inputs) ? inputs[0] : undefined;
      if (input === undefined) return this.#end(false);
      // Both cursors read the one file descriptor at their own positions.
      const warm = new LineCursor(input, { from: this.#plan.warmFrom, to: this.#plan.at });
      this.#cursor = new LineCursor(input, { from: this.#plan.at, to: this.#plan.size });
      this.#feed = new ReplayFeed([this.#cursor], this.#jails, this.#window, this.#startedAt);
      await this.#feed.warm(warm);
      this.#keys = this.#feed.stateKeys();
      this.#reorders = this.#feed.reorders;
      this.#gen = this.#feed.batches();
    }
    const r = await this.#gen.next();
    if (r.done) return this.#end(true);
    this.batches.push(r.value);
    return true;
  }

  #end(read: boolean): false {
    if (!read) this.#keys = null;
    else if (this.#feed) this.#reorders = this.#feed.reorders - this.#reorders;
    this.close();
    return false;
  }

  // Whether the piece, done, follows the matching thread's state at the split (keys: its matchers' states).
  follows(keys: readonly string[]): boolean {
    const own = this.#keys;
    return (
      this.#done &&
      own !== null &&
      this.#reorders === 0 &&
      keys.length === own.length &&
      keys.every((k, i) => k === own[i])
    );
  }
  close(): void {
    this.#cursor?.close();
    this.#cursor = null;
    this.#done = true;
  }
}

// The matching thread's batches up to the split, then the piece's (its line numbers and bytes read counted on
// from the split), or the matching thread's on to the end when the piece does not follow. While no batch is
// waiting, this thread matches the piece a step at a time (each step then lets the thread's messages in).
export async function* splitBatches(thread: FeedThread, piece: HerePiece): AsyncGenerator<Batch> {
  const idle = async (): Promise<boolean> => {
    const more = await piece.step();
    await new Promise<void>((r) => setImmediate(r));
    return more;
  };
  try {
    for await (const b of thread.batches(idle)) {
      yield b;
      if (!b.split) continue;
      while (await piece.step());
      const follows = piece.follows(b.split.keys);
      if (process.env.SENTRYBAN_REPLAY_DEBUG)
        process.stderr.write(
          `sentryban replay: split at line ${b.split.lines + 1}: ${follows ? 'the piece follows' : 'matched on by the matching thread'}\n`,
        );
      thread.goOn(!follows);
      if (!follows) continue;
      for (const p of piece.batches) {
        p.lineBase = b.split.lines;
        p.bytesRead += b.bytesRead;
        yield p;
      }
      return;
    }
  } finally {
    piece.close();
  }
}

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { lineStartFrom } from './regex-parallel.js';
import { ReplayFeed, type Batch, type FeedJail } from './replay-feed.js';
import { LineCursor, openInputs } from './replay-input.js';
import { threadCpuMs } from './replay-thread.js';

// `sentryban replay` of one big plain file, its matching shared by the two threads: the file is cut at line starts
// into pieces. The worker matches them from the first on, in order, with one feed, as it would the whole file; this
// thread, whenever it has no matched batch to run the jails on, takes the last piece not yet taken and matches it
// with a fresh feed, after replaying the bytes before it (the warm-up, as `sentryban regex` does) to rebuild the
// state the earlier lines leave. Each side claims a piece with an atomic compare-and-swap, so a piece is matched
// once and the two meet wherever the load puts them. The jails run on the worker's batches, then on this thread's
// pieces in order, each taken only when its start state is exactly the state the piece before it ended with
// (Matcher.stateKey) and its date templates did not move; otherwise the rest is matched here again, in order, from
// the file's first line. Either way the batches are the one-feed batches.
export type PiecePlan = { log: string; size: number; starts: number[]; warmFrom: number[]; claims: Int32Array };
// What the worker hands over with its last batch: how many pieces it matched, their lines, its feed's end state.
export type WorkerTail = { pieces: number; lines: number; key: string };

// ~36,000 sshd lines: a piece taken here costs ~40 ms, while the worker fills its queue.
const PIECE_BYTES = 4 << 20;
const WARM_BYTES = 1 << 19;
const GZIP = [0x1f, 0x8b];
export const CLAIMED_BY_WORKER = 1;
const CLAIMED_HERE = 2;

const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback;
};

// The pieces of `log`, or null when it is not one plain file of two pieces or more. SENTRYBAN_REPLAY_PIECE and
// SENTRYBAN_REPLAY_WARMUP (bytes) change the piece size and the warm-up (tests).
export const planPieces = (logs: readonly string[]): PiecePlan | null => {
  const log = logs[0];
  if (logs.length !== 1 || log === undefined || log === '-') return null;
  const piece = Math.max(1, envNumber('SENTRYBAN_REPLAY_PIECE', PIECE_BYTES));
  const warm = envNumber('SENTRYBAN_REPLAY_WARMUP', WARM_BYTES);
  let fd: number;
  let size: number;
  try {
    const st = statSync(log);
    if (!st.isFile()) return null;
    size = st.size;
    fd = openSync(log, 'r');
  } catch {
    return null;
  }
  const starts = [0];
  const warmFrom = [0];
  try {
    const head = Buffer.alloc(2);
    if (readSync(fd, head, 0, 2, 0) === 2 && head[0] === GZIP[0] && head[1] === GZIP[1]) return null;
    for (let at = piece; at < size; at += piece) {
      const s = lineStartFrom(fd, at, size);
      if (s > (starts.at(-1) as number) && s < size) {
        starts.push(s);
        warmFrom.push(lineStartFrom(fd, s - warm, size));
      }
    }
  } finally {
    closeSync(fd);
  }
  if (starts.length < 2) return null;
  // claims[i]: 0 free, else who took piece i; claims[n]: the next piece this thread tries + 1. The worker has the
  // first.
  const claims = new Int32Array(new SharedArrayBuffer(4 * (starts.length + 1)));
  claims[0] = CLAIMED_BY_WORKER;
  claims[starts.length] = starts.length;
  return { log, size, starts, warmFrom, claims };
};

export const pieceEnd = (p: Pick<PiecePlan, 'starts' | 'size'>, i: number): number => p.starts[i + 1] ?? p.size;

// The worker's side: the file's end as far as it has claimed it, extended one piece at a time while the next one
// is free. `claimed()`: how many pieces it holds.
export const workerRange = (
  p: Pick<PiecePlan, 'starts' | 'size' | 'claims'>,
): { from: number; to: number; more: () => number | null; claimed: () => number } => {
  let next = 1;
  // SENTRYBAN_REPLAY_WORKER_PIECES=k: the worker takes k pieces at most, the rest are matched here (tests).
  const cap = envNumber('SENTRYBAN_REPLAY_WORKER_PIECES', p.starts.length);
  return {
    from: 0,
    to: pieceEnd(p, 0),
    more: () => {
      if (next >= Math.min(cap, p.starts.length)) return null;
      if (Atomics.compareExchange(p.claims, next, 0, CLAIMED_BY_WORKER) !== 0) return null;
      return pieceEnd(p, next++);
    },
    claimed: () => next,
  };
};

type Piece = { batches: Batch[]; startKey: string; endKey: string; reorders: number; lines: number };
type Window = { since: number | null; until: number | null };

// The batches of the lines in [from, to), by a fresh feed warmed up on [warmFrom, from); their line numbers count
// from `from` (lineBase moves them).
async function* feedOf(
  log: string,
  jails: readonly FeedJail[],
  window: Window,
  startedAt: number,
  range: { warmFrom: number; from: number; to: number },
  out: { startKey?: string; endKey?: string; reorders?: number; lines?: number },
): AsyncGenerator<Batch> {
  const inputs = openInputs([log], process.stdin);
  if (!Array.isArray(inputs)) throw Object.assign(new Error(inputs.reason), { code: inputs.reason });
  const input = inputs[0] as (typeof inputs)[number];
  const cursor = new LineCursor(input, { from: range.from, to: range.to });
  try {
    const feed = new ReplayFeed([cursor], jails, window, startedAt);
    await feed.warm(new LineCursor(input, { from: range.warmFrom, to: range.from }));
    out.startKey = feed.stateKey();
    const reorders = feed.dateReorders;
    yield* feed.batches();
    out.endKey = feed.stateKey();
    out.reorders = range.warmFrom === 0 ? 0 : feed.dateReorders - reorders;
    out.lines = cursor.lineNo;
  } finally {
    cursor.close(); // the warm-up's cursor shares its file
  }
}

// This thread's side.
export class PieceHelper {
  readonly #plan: PiecePlan;
  readonly #jails: readonly FeedJail[];
  readonly #window: Window;
  readonly #startedAt: number;
  readonly #taken = new Map<number, Piece>();

  constructor(plan: PiecePlan, jails: readonly FeedJail[], window: Window, startedAt: number) {
    this.#plan = plan;
    this.#jails = jails;
    this.#window = window;
    this.#startedAt = startedAt;
  }

  // Takes and matches the last free piece; false when none is left.
  async steal(): Promise<boolean> {
    const { claims, starts } = this.#plan;
    const n = starts.length;
    const i = Atomics.sub(claims, n, 1) - 1;
    if (i < 1 || Atomics.compareExchange(claims, i, 0, CLAIMED_HERE) !== 0) return false;
    const range = {
      warmFrom: this.#plan.warmFrom[i] as number,
      from: starts[i] as number,
      to: pieceEnd(this.#plan, i),
    };
    const out: Partial<Piece> = {};
    const batches: Batch[] = [];
    const debug = process.env.SENTRYBAN_REPLAY_DEBUG ? threadCpuMs() : null;
    for await (const b of this.#feed(range, out)) batches.push(b);
    if (debug !== null)
      process.stderr.write(`sentryban replay: piece ${i} here: ${out.lines} lines, ${threadCpuMs() - debug} ms CPU\n`);
    this.#taken.set(i, { batches, startKey: '', endKey: '', reorders: 0, lines: 0, ...out });
    return true;
  }

  // The batches after the worker's: this thread's pieces in order while each starts where the one before ended,
  // then (from the first that does not) the rest matched again from the file's first line.
  async *rest(tail: WorkerTail): AsyncGenerator<Batch> {
    const n = this.#plan.starts.length;
    // The pieces nobody took yet (the worker stopped at SENTRYBAN_REPLAY_WORKER_PIECES) are taken now.
    while (await this.steal());
    let key = tail.key;
    let lineBase = tail.lines;
    let i = tail.pieces;
    for (; i < n; i++) {
      const p = this.#taken.get(i);
      if (!p || p.startKey !== key || p.reorders !== 0) break;
      this.#taken.delete(i);
      for (const b of p.batches) {
        yield this.#moved(b, lineBase, pieceEnd(this.#plan, i));
        if (b.end) return;
      }
      key = p.endKey;
      lineBase += p.lines;
    }
    if (process.env.SENTRYBAN_REPLAY_DEBUG)
      process.stderr.write(
        `sentryban replay: ${n} pieces, ${tail.pieces} matched by the worker, ${i - tail.pieces} here` +
          (i < n
            ? `, the rest (${n - i}) again here: ${this.#taken.has(i) ? 'another start state' : 'not taken'}`
            : '') +
          '\n',
      );
    if (i >= n) return;
    this.#taken.clear();
    const range = { warmFrom: 0, from: this.#plan.starts[i] as number, to: this.#plan.size };
    for await (const b of this.#feed(range, {})) yield this.#moved(b, lineBase, b.bytesRead + range.from);
  }

  #feed(range: { warmFrom: number; from: number; to: number }, out: Partial<Piece>): AsyncGenerator<Batch> {
    return feedOf(this.#plan.log, this.#jails, this.#window, this.#startedAt, range, out);
  }

  #moved(b: Batch, lineBase: number, bytesRead: number): Batch {
    const end = b.end?.kind === 'nodate' ? { ...b.end, line: b.end.line + lineBase } : b.end;
    return { ...b, lineBase, bytesRead, end };
  }
}

import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { EX_USAGE, type ReplayOptions } from './replay-options.js';
import { startFeedThread } from './replay-thread.js';

// `sentryban replay LOG... [--config DIR] [--jail J] [--json] [--since T] [--until T]`: what the configured jails
// would have done on past logs, on the lines' own timestamps, with no action run and no store opened. This module
// is the light front (the options, the worker started); the rest (replay-run.ts) is loaded after the worker is
// started, so that the worker's start-up (its modules, the configuration) runs while this thread loads its own.
const USAGE = 'usage: sentryban replay [--config DIR] [--jail J]... [--json] [--since T] [--until T] LOG...\n';

// A time for --since/--until: an ISO 8601 date or date and time (without a zone: local time, as Date.parse), or
// epoch seconds.
export const parseWhen = (s: string): number | null => {
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(s)) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
};

export const parseReplayArgs = (argv: readonly string[]): ReplayOptions | string => {
  const o: ReplayOptions = { configDir: null, jails: [], json: false, since: null, until: null, logs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string | undefined => argv[++i];
    if (a === '--json') o.json = true;
    else if (a === '--config' || a === '-c') {
      const v = value();
      if (!v) return '--config needs a folder';
      o.configDir = v;
    } else if (a === '--jail') {
      const v = value();
      if (!v) return '--jail needs a jail name';
      o.jails.push(v);
    } else if (a === '--since' || a === '--until') {
      const v = value() ?? '';
      const t = parseWhen(v);
      if (t === null) return `${a} expects a date (2026-12-06, 2026-12-06T10:00:00Z) or epoch seconds, got "${v}"`;
      if (a === '--since') o.since = t;
      else o.until = t;
    } else if (a === '-' || !a.startsWith('-')) o.logs.push(a);
    else return `unknown option ${a}`;
  }
  if (o.logs.length === 0) return 'no LOG given';
  if (o.logs.filter((l) => l === '-').length > 1) return 'stdin (-) can be read once';
  return o;
};

export const runReplay = async (
  argv: string[],
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; stdin: Readable; isTTY: boolean } = {
    out: process.stdout,
    err: process.stderr,
    stdin: process.stdin,
    isTTY: process.stderr.isTTY === true,
  },
): Promise<number> => {
  const say = (s: string): void => void io.err.write(`sentryban replay: ${s}\n`);
  if (argv.includes('-h') || argv.includes('--help')) {
    io.out.write(USAGE);
    return 0;
  }
  const o = parseReplayArgs(argv);
  if (typeof o === 'string') {
    say(o);
    io.err.write(USAGE);
    return EX_USAGE;
  }
  // A one-shot batch, as `sentryban regex`: the young generation grows to its maximum at its first growth (the
  // daemon keeps it small, young-gen.js). Measured on 1,000,000 sshd lines (one run each, loaded machine): user
  // CPU 5.5 s -> 4.2 s, the collector's share of the CPU profile 34% -> 15%. Before the worker starts: V8's flags
  // are the process's.
  try {
    setFlagsFromString('--semi-space-growth-factor=16');
  } catch {
    /* an unknown flag: the default growth */
  }
  // Dates without a year are read as fail2ban-regex reads them: this year, or last year when in the future.
  const startedAt = Date.now();
  // The worker starts up and opens the inputs while this thread loads the configuration and checks them; it is
  // handed the jails once they are checked (replay-run.ts), and stopped when they are refused.
  const thread = threaded(o.logs) ? startFeedThread({ logs: o.logs, window: o, startedAt }) : null;
  try {
    const { checked } = await import('./replay-run.js');
    return await checked(o, io, thread, startedAt, say);
  } finally {
    await thread?.stop();
  }
};

// Matching in a worker thread pays from about THREAD_MIN_BYTES of input on (varied sshd lines, medians of 5
// interleaved runs: 11 MB 0.67 s with the worker vs 0.65 s without, 23 MB 0.83 s vs 0.89 s); stdin is read here.
// SENTRYBAN_REPLAY_THREAD=0 or 1 decides instead (tests).
const THREAD_MIN_BYTES = 16 << 20;
const threaded = (logs: readonly string[]): boolean => {
  if (logs.includes('-')) return false;
  const env = process.env.SENTRYBAN_REPLAY_THREAD;
  if (env === '0' || env === '1') return env === '1';
  let size = 0;
  for (const l of logs) {
    try {
      size += statSync(l).size;
    } catch {
      return false; // refused below
    }
  }
  return availableParallelism() >= 2 && size >= THREAD_MIN_BYTES;
};

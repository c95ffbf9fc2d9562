import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import type { Clock } from '../../core/clock.js';
import type { FilePosition, LogLine } from '../types.js';
import { journalWhereArgs, type JournalOptions } from './journald-backend.js';

export type JournalEntry = Record<string, unknown>;
export type JournalLine = { line: LogLine; timeMs: number };

const str = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'
      ? String(v)
      : undefined;

// The line fail2ban builds from a journal entry: "<host> <ident>[<pid>]: <message>", newlines as literal "\n";
// the entry's own realtime stamp is the time (no date detection).
export const formatJournalEntry = (e: JournalEntry, source: string): JournalLine | null => {
  let msg = e.MESSAGE;
  if (Array.isArray(msg)) msg = Buffer.from(msg as number[]).toString('utf8');
  if (typeof msg !== 'string') return null;
  const host = str(e._HOSTNAME) ?? '';
  const ident = str(e.SYSLOG_IDENTIFIER) ?? str(e._COMM) ?? '';
  const pid = str(e.SYSLOG_PID) ?? str(e._PID);
  const text = `${host} ${ident}${pid ? `[${pid}]` : ''}: ${msg.replace(/\n/g, '\\n')}`;
  const us = Number(str(e.__REALTIME_TIMESTAMP) ?? NaN);
  return { line: { text, source }, timeMs: Number.isFinite(us) ? Math.floor(us / 1000) : Date.now() };
};

// journalctl argv for a filter's journalmatch lines (terms split on spaces, "+" kept as journalctl's OR).
export const journalctlArgv = (journalmatch: readonly string[], fromStart = false): string[] => [
  'journalctl',
  '-f',
  '-o',
  'json',
  ...(fromStart ? [] : ['-n', '0']),
  ...matchTerms(journalmatch),
];

// Each journalmatch line is one group of terms; lines are OR-ed, as fail2ban adds a disjunction between them.
const matchTerms = (journalmatch: readonly string[]): string[] => {
  const lines = journalmatch
    .flatMap((m) => m.split('\n'))
    .map((l) => l.split(/\s+/).filter(Boolean))
    .filter((t) => t.length > 0);
  return lines.flatMap((t, i) => (i === 0 ? t : ['+', ...t]));
};

// Where reading starts: after the entry a cursor names (a restart), at a time (fail2ban's first start reads back
// one findtime), or at the end (new entries only).
export type JournalStart = { cursor: string } | { sinceMs: number } | { tail: true };

export const journalFollowArgv = (
  o: JournalOptions,
  journalmatch: readonly string[],
  start: JournalStart,
): string[] => [
  'journalctl',
  '--follow',
  '--output=json',
  '--no-pager',
  ...journalWhereArgs(o),
  ...('cursor' in start
    ? [`--after-cursor=${start.cursor}`]
    : 'sinceMs' in start
      ? [`--since=@${Math.floor(start.sinceMs / 1000)}`]
      : ['--lines=0']),
  ...matchTerms(journalmatch),
];

// The journal's "position" as the store keeps file positions: the cursor of the last entry handed on.
export const journalPosition = (key: string, cursor: string, realtimeUs: number): FilePosition => ({
  path: key,
  inode: 0,
  offset: realtimeUs,
  firstLineHash: cursor,
});

export type ParsedJournalLine = { ok: true; line: LogLine | null } | { ok: false; error: string };

// One line of `journalctl -o json`: a LogLine carrying its entry time and position, null for an entry without a
// message, or an error for output that is not a JSON object (never thrown: one bad line costs that line only).
export const parseJournalLine = (raw: string, key: string): ParsedJournalLine => {
  let e: unknown;
  try {
    e = JSON.parse(raw);
  } catch {
    return { ok: false, error: `not JSON: ${JSON.stringify(raw.slice(0, 80))}` };
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e))
    return { ok: false, error: `not a JSON object: ${JSON.stringify(raw.slice(0, 80))}` };
  const entry = e as JournalEntry;
  const f = formatJournalEntry(entry, key);
  if (!f) return { ok: true, line: null };
  const cursor = str(entry.__CURSOR);
  const us = Number(str(entry.__REALTIME_TIMESTAMP) ?? NaN);
  return {
    ok: true,
    line: {
      ...f.line,
      at: f.timeMs,
      entryTime: f.timeMs,
      ...(cursor ? { position: journalPosition(key, cursor, Number.isFinite(us) ? us : 0) } : {}),
    },
  };
};

export type JournalFollowerOptions = {
  key: string; // "journal:<jail>": the source name and the position's path
  options: JournalOptions;
  journalmatch: readonly string[];
  start: JournalStart;
  clock: Clock;
  onLines: (lines: LogLine[]) => void;
  onError: (message: string) => void;
  command?: readonly string[]; // argv prefix instead of "journalctl" (a wrapper in tests)
};

const GROUP_LINES = 500;

// Follows the journal through `journalctl --follow --output=json` (execa, no shell). Lines go out in groups (each
// group committed with the cursor of its last entry); if journalctl ends, it is started again after the last
// cursor seen, with a growing pause (1 s .. 30 s).
export class JournalFollower {
  readonly #o: JournalFollowerOptions;
  #child: ResultPromise | null = null;
  #cursor: string | null = null;
  #pending: LogLine[] = [];
  #flushQueued = false;
  #stopped = false;
  #backoffMs = 1000;
  #cancelRestart: () => void = () => {};
  badLines = 0;

  constructor(o: JournalFollowerOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#stopped) return;
    const start: JournalStart = this.#cursor ? { cursor: this.#cursor } : this.#o.start;
    const argv = journalFollowArgv(this.#o.options, this.#o.journalmatch, start);
    const [cmd, ...args] = this.#o.command ? [...this.#o.command, ...argv.slice(1)] : argv;
    const child = execa(cmd as string, args, {
      buffer: false,
      reject: false,
      stdin: 'ignore',
      stderr: 'pipe',
      encoding: 'utf8',
    });
    this.#child = child;
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString();
    });
    if (child.stdout)
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (raw) => this.#line(raw));
    void child.then((r) => {
      if (this.#child !== child) return;
      this.#child = null;
      this.#flush();
      if (this.#stopped) return;
      this.#o.onError(
        `journalctl ended (exit ${String(r.exitCode ?? r.signal)}${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ''}); restarting in ${this.#backoffMs / 1000}s`,
      );
      this.#cancelRestart = this.#o.clock.at(this.#o.clock.now() + this.#backoffMs, () => this.start());
      this.#backoffMs = Math.min(this.#backoffMs * 2, 30_000);
    });
  }

  #line(raw: string): void {
    const p = parseJournalLine(raw, this.#o.key);
    if (!p.ok) {
      this.badLines++;
      this.#o.onError(p.error);
      return;
    }
    this.#backoffMs = 1000;
    if (!p.line) return;
    if (p.line.position) this.#cursor = p.line.position.firstLineHash;
    this.#pending.push(p.line);
    if (this.#pending.length >= GROUP_LINES) this.#flush();
    else if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#o.onLines(lines);
  }

  get cursor(): string | null {
    return this.#cursor;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelRestart();
    const c = this.#child;
    if (!c) return;
    c.kill('SIGTERM');
    await c;
    this.#flush();
  }
}

// Follows the journal through `journalctl -f -o json`; returns a stop function (kept for simple callers).
export const followJournal = (
  journalmatch: readonly string[],
  onLine: (l: JournalLine) => void,
  onError: (e: Error) => void,
): (() => void) => {
  const [cmd, ...args] = journalctlArgv(journalmatch);
  const child = execa(cmd as string, args, { buffer: false, reject: false, stdin: 'ignore' });
  const source = `journal:${journalmatch.join(' ')}`;
  if (child.stdout) {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (raw) => {
      try {
        const l = formatJournalEntry(JSON.parse(raw) as JournalEntry, source);
        if (l) onLine(l);
      } catch (e) {
        onError(e as Error);
      }
    });
  }
  child.then((r) => {
    if (r.exitCode !== 0 && !r.isTerminated)
      onError(new Error(`journalctl exited ${r.exitCode}: ${String(r.stderr ?? '').slice(0, 200)}`));
  }, onError);
  return () => {
    child.kill();
  };
};

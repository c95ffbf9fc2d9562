import type { Instant } from '../../core/clock.js';
import type { Failure } from '../types.js';

// Failures of one id as fail2ban's FailTicket keeps them: first/last time and a retry count rescaled to the
// rate over one findtime when the span grows past it (server/ticket.py adjustTime), plus the last matched
// lines (maxmatches). Kept small: a daemon may count hundreds of thousands of ids.
export type Ticket = { first: Instant; last: Instant; retry: number; lines: string[] };

export const addToTicket = (t: Ticket | undefined, f: Failure, weight: number, findtimeMs: number, keep: number): Ticket => {
  const lines = f.lines.map(ownCopy);
  // A ticket whose last failure is older than findtime is purged, as fail2ban's cleanup does.
  if (!t || t.last < f.time - findtimeMs) return { first: f.time, last: f.time, retry: weight, lines: lines.slice(-Math.max(1, keep)) };
  if (f.time > t.last) {
    if (t.first < f.time - findtimeMs) {
      t.retry = pyRound((t.retry / (f.time - t.first)) * findtimeMs);
      t.first = f.time - findtimeMs;
    }
    t.last = f.time;
  }
  t.retry += weight;
  t.lines.push(...lines);
  if (t.lines.length > keep) t.lines.splice(0, t.lines.length - Math.max(1, keep));
  return t;
};

// A line read from a large chunk may be a slice that keeps the whole chunk alive; keep a copy of its own.
const ownCopy = (s: string): string => ` ${s}`.slice(1);

// Python 3 round(): halves to even.
const pyRound = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

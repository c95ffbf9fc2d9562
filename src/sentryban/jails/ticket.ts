import type { Instant } from '../../core/clock.js';
import type { Failure } from '../types.js';

// Failures of one id as fail2ban's FailTicket keeps them: first/last time and a retry count rescaled to the
// rate over one findtime when the span grows past it (server/ticket.py adjustTime).
export type Ticket = { first: Instant; last: Instant; retry: number; failures: Failure[] };

export const addToTicket = (t: Ticket | undefined, f: Failure, weight: number, findtimeMs: number, keep: number): Ticket => {
  // A ticket whose last failure is older than findtime is purged, as fail2ban's cleanup does.
  if (!t || t.last < f.time - findtimeMs) return { first: f.time, last: f.time, retry: weight, failures: [f] };
  let { first, retry } = t;
  let last = t.last;
  if (f.time > last) {
    if (first < f.time - findtimeMs) {
      retry = pyRound((retry / (f.time - first)) * findtimeMs);
      first = f.time - findtimeMs;
    }
    last = f.time;
  }
  const failures = [...t.failures, f].slice(-Math.max(1, keep));
  return { first, last, retry: retry + weight, failures };
};

// Python 3 round(): halves to even.
const pyRound = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

import type { Instant } from '../../core/clock.js';

// Failures of one id as fail2ban's FailTicket keeps them: first/last time and a retry count rescaled to the
// rate over one findtime when the span grows past it (server/ticket.py adjustTime). Kept small: a daemon may
// count hundreds of thousands of ids; the matched lines are in the store's audit rows, not here.
export type Ticket = { first: Instant; last: Instant; retry: number };

export const addToTicket = (t: Ticket | undefined, time: Instant, weight: number, findtimeMs: number): Ticket => {
  // A ticket whose last failure is older than findtime is purged, as fail2ban's cleanup does.
  if (!t || t.last < time - findtimeMs) return { first: time, last: time, retry: weight };
  if (time > t.last) {
    if (t.first < time - findtimeMs) {
      t.retry = pyRound((t.retry / (time - t.first)) * findtimeMs);
      t.first = time - findtimeMs;
    }
    t.last = time;
  }
  t.retry += weight;
  return t;
};

// Python 3 round(): halves to even.
const pyRound = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

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

// All tickets of a jail, by id, in three Float64Arrays instead of one object (and two boxed numbers) per id:
// about 24 bytes per counted id instead of about 80. Counting is addToTicket's, unchanged.
export class TicketTable {
  readonly #index = new Map<string, number>();
  readonly #free: number[] = [];
  #first = new Float64Array(64);
  #last = new Float64Array(64);
  #retry = new Float64Array(64);
  #used = 0;

  get size(): number {
    return this.#index.size;
  }

  // Adds a failure at `time` to id `key`; returns the ticket as it now stands (a copy).
  add(key: string, time: Instant, weight: number, findtimeMs: number): Ticket {
    const i = this.#index.get(key);
    const prev =
      i === undefined
        ? undefined
        : { first: this.#first[i] ?? 0, last: this.#last[i] ?? 0, retry: this.#retry[i] ?? 0 };
    const t = addToTicket(prev, time, weight, findtimeMs);
    const slot = i ?? this.#slot(key);
    this.#first[slot] = t.first;
    this.#last[slot] = t.last;
    this.#retry[slot] = t.retry;
    return t;
  }

  // Puts back a ticket as it stood (restart: the audit trail's last state for this key).
  set(key: string, t: Ticket): void {
    const slot = this.#index.get(key) ?? this.#slot(key);
    this.#first[slot] = t.first;
    this.#last[slot] = t.last;
    this.#retry[slot] = t.retry;
  }

  delete(key: string): void {
    const i = this.#index.get(key);
    if (i === undefined) return;
    this.#index.delete(key);
    this.#free.push(i);
  }

  // Forgets every ticket whose last failure is before `before`; returns how many. Each slot is checked once.
  forget(before: Instant): number {
    let n = 0;
    // forEach, not for-of: no [key, value] array per entry (a Map may lose entries while it is walked).
    this.#index.forEach((i, key) => {
      if ((this.#last[i] ?? 0) >= before) return;
      this.#index.delete(key);
      this.#free.push(i);
      n++;
    });
    return n;
  }

  #slot(key: string): number {
    let i = this.#free.pop();
    if (i === undefined) {
      if (this.#used === this.#first.length) {
        const grow = (a: Float64Array) => {
          const b = new Float64Array(a.length * 2);
          b.set(a);
          return b;
        };
        this.#first = grow(this.#first);
        this.#last = grow(this.#last);
        this.#retry = grow(this.#retry);
      }
      i = this.#used++;
    }
    this.#index.set(ownCopy(key), i);
    return i;
  }
}

// The table keeps its own flat copy of a key. An id as the matcher hands it over (an IPv6 address as ipaddr.js
// prints it) is a rope of parts; once hashed, V8 flattens it but keeps the rope's 32-byte head in front of the
// flat text for as long as the Map holds it: 24-32 bytes per counted address. JSON's round trip is exact for
// every string (lone surrogates included) and allocates one flat string; it runs once per new key (~0.2 us).
const ownCopy = (key: string): string => JSON.parse(JSON.stringify(key)) as string;

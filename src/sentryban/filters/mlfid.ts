// fail2ban's multi-line failure-id cache: failures, users and flags merged per session id (mlfid).
export type FailData = Record<string, unknown> & { users?: Set<string> };
type Entry = { data: FailData; at: number };

export class MlfidCache {
  #map = new Map<string, Entry>();
  #max: number;
  #maxAgeMs: number;
  constructor(max = 100, maxAgeMs = 300_000) {
    this.#max = max;
    this.#maxAgeMs = maxAgeMs;
  }
  get(k: string, nowMs: number): FailData | undefined {
    const e = this.#map.get(k);
    if (!e) return undefined;
    if (nowMs - e.at > this.#maxAgeMs) {
      this.#map.delete(k);
      return undefined;
    }
    return e.data;
  }
  set(k: string, data: FailData, nowMs: number): void {
    if (this.#map.size >= this.#max && !this.#map.has(k)) {
      const first = this.#map.keys().next().value;
      if (first !== undefined) this.#map.delete(first);
    }
    this.#map.set(k, { data, at: nowMs });
  }
  delete(k: string): void {
    this.#map.delete(k);
  }
  // The sessions in eviction order with their data, as text (times left out: they are the reader's clock).
  stateKey(): string {
    const out: unknown[] = [];
    for (const [k, e] of this.#map) out.push(k, e.data);
    return JSON.stringify(out, (_k, v: unknown) => (v instanceof Set ? { set: [...(v as Set<unknown>)] } : v));
  }
}

const addUser = (fail: FailData, user: unknown): Set<string> | undefined => {
  if (typeof user === 'string' && user) {
    (fail.users ??= new Set()).add(user);
  }
  return fail.users;
};

// Merges one hit into its session (as fail2ban's Filter._mergeFailure): nofail hits are kept as context,
// mlfgained cancels pending failures, mlfforget ends the session. (Matched-line lists are not kept.)
export const mergeFailure = (cache: MlfidCache, mlfid: string, fail0: FailData, nowMs: number): FailData => {
  let fail = fail0;
  let users: Set<string> | undefined;
  let nf = 0;
  if (fail.mlfgained) {
    nf |= 8 | 1;
    if (!fail.nofail) fail.nofail = fail.mlfgained;
  } else if (fail.nofail) nf |= 1;
  if (fail.mlfforget !== undefined) {
    fail.mlfforget = undefined;
    nf |= 2;
  }
  const prev = cache.get(mlfid, nowMs);
  if (prev) {
    users = addUser(prev, fail.user);
    if (prev.nofail !== undefined) {
      prev.nofail = undefined;
      nf |= 4;
    }
    if (prev.mlfgained !== undefined) {
      prev.mlfgained = undefined;
      nf |= 4;
    }
    if (nf & 8) prev.mlfpending = undefined;
    for (const k in fail) {
      const v = fail[k];
      if (v !== undefined && v !== null) prev[k] = v;
    }
    fail = prev;
    if (nf & 2) cache.delete(mlfid);
  } else if (!(nf & 2)) {
    users = addUser(fail, fail.user);
    cache.set(mlfid, fail, nowMs);
  }
  if (fail.mlfpending || (users && users.size > 1)) {
    fail.mlfpending = undefined;
    fail.nofail = undefined;
    fail.mlfgained = undefined;
  }
  return fail;
};

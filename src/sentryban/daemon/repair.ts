import type { Clock, Instant } from '../../core/clock.js';
import { backoffMs, guarded, type RetryPolicy } from '../actions/retry.js';
import type { ActionBackend, ActionFailed, ActionOutcome, Applied, Ban } from '../types.js';
import type { AuditRow } from '../store/audit.js';

// Faults: a failed ban, unban or start marks (jail, backend) out of sync. A repair is then scheduled through
// the clock (1 s, doubling to 60 s, for as long as it keeps failing); the repair is the backend's check against
// the bans the store has in force for that jail at that moment, so a ban lifted meanwhile is not re-added.
// Nothing here waits on the manager's queue, and the manager never waits for a retry. While a backend is out
// of sync, single bans and unbans are not sent to it: the next repair carries them.
export type CheckReason = 'retry' | 'periodic' | 'manual';
export type CheckResult = {
  jail: string;
  backend: string;
  ok: boolean;
  repaired: string | null;
  error: string | null;
  failures: number;
};
// Out of sync, a backend is always in one of two states: a check is running now (`checking`), or one is planned
// (`nextRetryAt`). Only a stopping daemon has neither.
export type BackendHealth = {
  jail: string;
  backend: string;
  inSync: boolean;
  failures: number;
  checking: boolean;
  nextRetryAt: Instant | null;
  lastError: string | null;
};

export type RepairDeps = {
  clock: Clock;
  bansOf: (jail: string) => Ban[]; // the store's bans in force for a jail
  audit: (row: AuditRow) => void;
  log: (level: 'ERROR' | 'WARNING' | 'NOTICE', text: string) => void;
  policy?: RetryPolicy;
  // Each backend call as it ends (the metrics' latency histogram): seconds taken, and whether it succeeded.
  timed?: ActionTimer;
};
export type ActionVerb = 'ban' | 'unban' | 'start' | 'check';
export type ActionTimer = (jail: string, backend: string, verb: ActionVerb, seconds: number, ok: boolean) => void;

export const REPAIR_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 60_000, factor: 2 };

type Slot = {
  jail: string;
  be: ActionBackend;
  failures: number; // consecutive, since the last success
  whole: boolean; // start or check failed: no ban of the jail is known to be applied
  marks: Map<string, 'pending' | 'failed'>; // per ban target; absent: applied
  cancel: (() => void) | null;
  nextAt: Instant | null;
  running: Promise<CheckResult> | null;
  dirty: boolean; // a ban or unban was left to the repair while one was running: its snapshot is stale
  lastError: string | null;
};

// A running repair whose snapshot went stale is run again at once, this many times, then left to a new one.
const MAX_ROUNDS = 4;

export const describeFailure = (f: ActionFailed): string =>
  `${f.argv.join(' ') || '(no command)'}: ${f.exitCode === null ? 'no exit code' : `exit ${f.exitCode}`}${f.stderr.trim() ? ` ${f.stderr.replace(/\s+/g, ' ').trim().slice(0, 300)}` : ''}`;

export class Repairer {
  readonly #deps: RepairDeps;
  readonly #slots: Slot[] = [];
  #stopped = false;
  #periodic: (() => void) | null = null;
  readonly #detached = new Set<Promise<void>>(); // first attempts of detached backends, still running

  constructor(backends: ReadonlyMap<string, readonly ActionBackend[]>, deps: RepairDeps) {
    this.#deps = deps;
    for (const [jail, list] of backends) this.addSlots(jail, list);
  }

  // A reload's backends: new ones get a slot (in sync until an action fails), dropped ones lose theirs (a
  // planned retry is cancelled; a running one finishes).
  addSlots(jail: string, list: readonly ActionBackend[]): void {
    for (const be of list)
      if (!this.#slotOf(jail, be))
        this.#slots.push({
          jail,
          be,
          failures: 0,
          whole: false,
          marks: new Map(),
          cancel: null,
          nextAt: null,
          running: null,
          dirty: false,
          lastError: null,
        });
  }
  dropSlots(jail: string, list: readonly ActionBackend[]): void {
    for (let i = this.#slots.length - 1; i >= 0; i--) {
      const s = this.#slots[i]!;
      if (s.jail !== jail || !list.includes(s.be)) continue;
      s.cancel?.();
      this.#slots.splice(i, 1);
    }
  }

  // One action of the manager. Returns once the first attempt is over (at once for a detached backend, a
  // notifier: its attempt goes on without holding the manager); retries happen later, on the clock.
  act(jail: string, be: ActionBackend, verb: 'ban' | 'unban' | 'start', arg: Ban | readonly Ban[]): Promise<void> {
    const attempt = this.#attempt(jail, be, verb, arg);
    if (!be.detached) return attempt;
    this.#detached.add(attempt);
    void attempt.finally(() => this.#detached.delete(attempt));
    return Promise.resolve();
  }

  // Bans handed to the applier (applier.ts), not yet to the backend: pending until their call ends.
  queued(jail: string, be: ActionBackend, bans: readonly Ban[]): void {
    const s = this.#slotOf(jail, be);
    if (s) for (const b of bans) s.marks.set(b.target.text, 'pending');
  }

  // Several bans of one jail for one backend, in order: one call when the backend takes a batch (banMany), else
  // one act per ban. The marks and the retry are act's: a failed batch marks each of its bans failed, and the
  // scheduled repair applies the store's view.
  async banMany(jail: string, be: ActionBackend, bans: readonly Ban[]): Promise<void> {
    const s = this.#slotOf(jail, be);
    if (!s || bans.length === 0) return;
    if (bans.length === 1 || !be.banMany || be.detached || s.failures > 0) {
      for (const b of bans) await this.act(jail, be, 'ban', b);
      return;
    }
    for (const b of bans) s.marks.set(b.target.text, 'pending');
    const many = be.banMany.bind(be);
    const r = await this.#call(s, 'ban', () => many(bans));
    if (r.ok) {
      for (const b of bans) s.marks.delete(b.target.text);
      return;
    }
    for (const b of bans) s.marks.set(b.target.text, 'failed');
    const first = (bans[0] as Ban).target.text;
    this.#failed(s, `ban of ${bans.length} targets (${first} first)`, null, r.failure);
  }

  async #attempt(
    jail: string,
    be: ActionBackend,
    verb: 'ban' | 'unban' | 'start',
    arg: Ban | readonly Ban[],
  ): Promise<void> {
    const s = this.#slotOf(jail, be);
    if (!s) return;
    const target = verb === 'start' ? null : (arg as Ban).target.text;
    if (s.failures > 0 && verb !== 'start') {
      // out of sync: the scheduled repair applies the store's view
      if (target !== null) {
        if (verb === 'ban') s.marks.set(target, 'pending');
        else s.marks.delete(target);
      }
      s.dirty = true;
      return;
    }
    if (verb === 'ban' && target !== null) s.marks.set(target, 'pending');
    if (verb === 'start') for (const b of arg as readonly Ban[]) s.marks.set(b.target.text, 'pending');
    const r = await this.#call(s, verb, () =>
      verb === 'start' ? be.start(arg as readonly Ban[]) : be[verb](arg as Ban),
    );
    if (verb === 'start') for (const b of arg as readonly Ban[]) s.marks.delete(b.target.text);
    if (r.ok) {
      if (target !== null) s.marks.delete(target);
      return;
    }
    if (verb === 'start') s.whole = true;
    else if (target !== null) {
      if (verb === 'ban') s.marks.set(target, 'failed');
      else s.marks.delete(target);
    }
    this.#failed(s, verb, target, r.failure);
  }

  // Run each backend's check (of one jail, or all) now; the result says what was repaired or what failed.
  check(jail: string | null, reason: CheckReason = 'manual'): Promise<CheckResult[]> {
    return Promise.all(this.#slots.filter((s) => jail === null || s.jail === jail).map((s) => this.#repair(s, reason)));
  }

  // Every `intervalSec` (0: never), a check of every backend against the store.
  startPeriodic(intervalSec: number): void {
    if (intervalSec <= 0 || this.#stopped) return;
    const arm = (): void => {
      this.#periodic = this.#deps.clock.at(this.#deps.clock.now() + intervalSec * 1000, () => {
        this.#periodic = null;
        void this.check(null, 'periodic').finally(() => {
          if (!this.#stopped) arm();
        });
      });
    };
    arm();
  }

  // Per backend: is this ban applied? A backend that failed as a whole reports every ban of its jail failed.
  stateOf(jail: string, target: string): Record<string, Applied> {
    const out: Record<string, Applied> = {};
    for (const s of this.#slots)
      if (s.jail === jail) out[s.be.name] = s.marks.get(target) ?? (s.whole ? 'failed' : 'applied');
    return out;
  }

  health(): BackendHealth[] {
    return this.#slots.map((s) => ({
      jail: s.jail,
      backend: s.be.name,
      inSync: s.failures === 0 && !s.whole,
      failures: s.failures,
      checking: s.running !== null,
      nextRetryAt: s.nextAt,
      lastError: s.lastError,
    }));
  }

  // No new retries; running ones finish.
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#periodic?.();
    for (const s of this.#slots) {
      s.cancel?.();
      s.cancel = null;
      s.nextAt = null;
    }
    await Promise.all([...this.#slots.flatMap((s) => (s.running ? [s.running] : [])), ...this.#detached]);
  }

  #slotOf(jail: string, be: ActionBackend): Slot | undefined {
    return this.#slots.find((s) => s.jail === jail && s.be === be);
  }

  #failed(s: Slot, verb: string, target: string | null, f: ActionFailed): void {
    s.failures++;
    s.lastError = describeFailure(f);
    if (s.cancel === null && !this.#stopped) {
      const delay = backoffMs(this.#deps.policy ?? REPAIR_POLICY, s.failures + 1);
      s.nextAt = this.#deps.clock.now() + delay;
      s.cancel = this.#deps.clock.at(s.nextAt, () => {
        s.cancel = null;
        s.nextAt = null;
        void this.#repair(s, 'retry');
      });
    }
    const next =
      s.nextAt === null
        ? 'no retry (stopping)'
        : `next retry in ${Math.max(0, Math.round((s.nextAt - this.#deps.clock.now()) / 1000))}s at ${new Date(s.nextAt).toISOString()}`;
    const detail = `${s.be.name} ${verb} failed (attempt ${s.failures}; ${next}): ${s.lastError}`;
    this.#deps.audit({
      at: this.#deps.clock.now(),
      jail: s.jail,
      target,
      kind: 'action-failed',
      detail,
      data: JSON.stringify({ ...f, verb, attempt: s.failures, nextRetryAt: s.nextAt }),
    });
    this.#deps.log('ERROR', `[${s.jail}] ${detail}`);
  }

  // One call of a backend, a throw turned into a failure, timed when metrics are on.
  async #call(s: Slot, verb: ActionVerb, op: () => Promise<ActionOutcome>): Promise<ActionOutcome> {
    const timed = this.#deps.timed;
    if (!timed) return guarded(op, s.be.name);
    const t0 = performance.now();
    const r = await guarded(op, s.be.name);
    timed(s.jail, s.be.name, verb, (performance.now() - t0) / 1000, r.ok);
    return r;
  }

  #repair(s: Slot, reason: CheckReason): Promise<CheckResult> {
    if (s.running) return s.running;
    s.cancel?.();
    s.cancel = null;
    s.nextAt = null;
    const run = async (): Promise<CheckResult> => {
      let bans: Ban[] = [];
      let r: ActionOutcome = { ok: true };
      for (let round = 0; round < MAX_ROUNDS; round++) {
        s.dirty = false;
        bans = this.#deps.bansOf(s.jail);
        r = await this.#call(s, 'check', () => s.be.check(bans));
        if (!r.ok || !s.dirty) break;
      }
      if (!r.ok) {
        s.whole = true;
        s.running = null;
        this.#failed(s, `check (${reason})`, null, r.failure);
        return {
          jail: s.jail,
          backend: s.be.name,
          ok: false,
          repaired: null,
          error: describeFailure(r.failure),
          failures: s.failures,
        };
      }
      const before = s.failures;
      s.failures = 0;
      s.whole = false;
      s.lastError = null;
      for (const b of bans) s.marks.delete(b.target.text);
      if (s.dirty && !this.#stopped && s.cancel === null) {
        // still changing under it: once more, soon
        s.nextAt = this.#deps.clock.now() + (this.#deps.policy ?? REPAIR_POLICY).baseMs;
        s.cancel = this.#deps.clock.at(s.nextAt, () => {
          s.cancel = null;
          s.nextAt = null;
          void this.#repair(s, 'retry');
        });
      }
      const repaired = r.repaired ?? null;
      if (before > 0 || repaired !== null) {
        const detail = `${s.be.name} check (${reason})${before > 0 ? ` back in sync after ${before} failure(s)` : ''}${repaired ? `; repaired: ${repaired}` : ''}`;
        this.#deps.audit({
          at: this.#deps.clock.now(),
          jail: s.jail,
          target: null,
          kind: 'action-repaired',
          detail,
          data: JSON.stringify({ reason, failures: before, repaired, bans: bans.length }),
        });
        this.#deps.log(repaired !== null && before === 0 ? 'WARNING' : 'NOTICE', `[${s.jail}] ${detail}`);
      }
      return { jail: s.jail, backend: s.be.name, ok: true, repaired, error: null, failures: 0 };
    };
    s.running = run().finally(() => {
      s.running = null;
    });
    return s.running;
  }
}

import type { Clock } from '../../core/clock.js';
import type { ActionFailed, ActionOutcome } from '../types.js';

// Retrying a failed action: the ban stays in the store whatever happens here; this only decides when to try
// again. Delays double from baseMs up to maxMs; between attempts an optional repair (usually
// `backend.check(storeBans)`) re-asserts the whole set, as fail2ban runs actioncheck/actionrepair.
export type RetryPolicy = { attempts: number; baseMs: number; maxMs: number; factor: number };
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 1000, maxMs: 60000, factor: 2 };

// Delay before attempt n (n >= 2; attempt 1 runs at once).
export const backoffMs = (p: RetryPolicy, attempt: number): number =>
  attempt <= 1 ? 0 : Math.min(p.maxMs, Math.round(p.baseMs * p.factor ** (attempt - 2)));

export type Attempted = { outcome: ActionOutcome; attempts: number; failures: ActionFailed[] };

export type RetryOptions = {
  clock: Clock;
  policy?: RetryPolicy;
  repair?: () => Promise<ActionOutcome>;
  // Each failure as it happens: the daemon writes it to the audit trail and to syslog.
  onFailure?: (failure: ActionFailed, attempt: number, nextInMs: number | null) => void;
};

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((r) => { clock.at(clock.now() + ms, r); });

export const applyWithRetry = async (op: () => Promise<ActionOutcome>, o: RetryOptions): Promise<Attempted> => {
  const p = o.policy ?? DEFAULT_RETRY;
  const failures: ActionFailed[] = [];
  let outcome: ActionOutcome = { ok: true };
  for (let attempt = 1; attempt <= p.attempts; attempt++) {
    if (attempt > 1) {
      await sleep(o.clock, backoffMs(p, attempt));
      if (o.repair) await guarded(o.repair, 'repair');
    }
    outcome = await guarded(op, 'action');
    if (outcome.ok) return { outcome, attempts: attempt, failures };
    failures.push(outcome.failure);
    o.onFailure?.(outcome.failure, attempt, attempt < p.attempts ? backoffMs(p, attempt + 1) : null);
  }
  return { outcome, attempts: p.attempts, failures };
};

// A throw from a backend is a bug, but it must not take the daemon down: it becomes an ActionFailed value.
export const guarded = async (op: () => Promise<ActionOutcome>, what: string): Promise<ActionOutcome> => {
  try { return await op(); } catch (e) {
    return { ok: false, failure: { kind: 'ActionFailed', backend: what, argv: [], exitCode: null, stderr: `threw: ${String((e as Error)?.message ?? e)}` } };
  }
};

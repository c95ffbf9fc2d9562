import type { ActionOutcome } from '../types.js';

// When to try a failed action again (the ban stays in the store whatever happens): delays double from baseMs up
// to maxMs, with no limit on the number of tries. The daemon's Repairer (daemon/repair.ts) schedules
// `backend.check(storeBans)` with it, and the StoreWriter its probes.
export type RetryPolicy = { baseMs: number; maxMs: number; factor: number };

// Delay before attempt n (n >= 2; attempt 1 runs at once).
export const backoffMs = (p: RetryPolicy, attempt: number): number =>
  attempt <= 1 ? 0 : Math.min(p.maxMs, Math.round(p.baseMs * p.factor ** (attempt - 2)));

// A throw from a backend is a bug, but it must not take the daemon down: it becomes an ActionFailed value.
export const guarded = async (op: () => Promise<ActionOutcome>, what: string): Promise<ActionOutcome> => {
  try {
    return await op();
  } catch (e) {
    return {
      ok: false,
      failure: {
        kind: 'ActionFailed',
        backend: what,
        argv: [],
        exitCode: null,
        stderr: `threw: ${String((e as Error)?.message ?? e)}`,
      },
    };
  }
};

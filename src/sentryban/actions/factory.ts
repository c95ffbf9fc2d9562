import type { Clock } from '../../core/clock.js';
import { diag, fail, ok, type Result } from '../../core/diagnostics.js';
import type { ActionBackend } from '../types.js';
import type { ActionSpec } from './spec.js';
import { execaRunner, type Runner } from './runner.js';
import { HostsDenyBackend } from './hostsdeny/apply.js';

// What backends need from the daemon: how to run commands (a namespace prefix in tests), the one clock
// (kernel-side timeouts are computed from it), and the loaded command actions.
export type BackendDeps = {
  runner?: Runner;
  clock: Clock;
};

// One backend instance per jail and action. Errors here are configuration errors (the spec names something
// that does not exist), never runtime failures: those come back as ActionOutcome values from each verb.
export const createBackend = (spec: ActionSpec, deps: BackendDeps): Result<ActionBackend> => {
  const runner = deps.runner ?? execaRunner();
  void runner;
  switch (spec.backend) {
    case 'hostsdeny': return ok(new HostsDenyBackend(spec));
    default: return fail([diag('', 0, `action backend "${spec.backend}" is not built yet`, 'action')]);
  }
};

// The actions stage as the daemon sees it: specs from config, a factory, the backoff and guard the repairs use.
export type { ActionSpec, BackendKind, PortMatch, Blocktype } from './spec.js';
export { BACKEND_KINDS } from './spec.js';
export { specFromOptions, DEFAULT_HOSTS_DENY, type Options, type Where } from './options.js';
export { mapFail2banAction, STOCK_ACTION_NAMES } from './fail2ban-map.js';
export { createBackend, type BackendDeps } from './factory.js';
export { execaRunner, type Runner, type RunResult } from './runner.js';
export { backoffMs, guarded, type RetryPolicy } from './retry.js';
export { loadCommandActions, loadCommandAction, type CommandAction } from './command/load.js';

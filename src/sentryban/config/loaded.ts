import type { ActionSpec } from '../actions/index.js';
import type { Filter } from '../filters/filter.js';
import type { JailSpec } from './jail-file.js';
import type { MainConfig } from './main-file.js';

// What loading the configuration returns: plain checked data, built once and never changed. Both readers make
// jails of this shape (load.ts from our YAML, fail2ban-jails.ts from jail.conf). Nothing here runs: the daemon
// builds the runtime objects from it (daemon/line-matcher.ts: one matcher per followed file, from `filter`).
export type LoadedJail = {
  spec: JailSpec;
  filter: Filter; // compiled, shared by every matcher made from it
  actions: ActionSpec[];
};
export type DaemonConfig = { dir: string; main: MainConfig; jails: LoadedJail[] };

import type { DaemonConfig, LoadedJail } from '../config/loaded.js';
import type { ActionBackend } from '../types.js';
import type { Reconfigure } from './manager.js';

// What a reload changes, decided from the running config and a new one that loaded without an error (data in,
// data out: daemon.ts applies it). `only`: one jail is reloaded, every other keeps its running config.
// - A jail in both is reloaded: its new settings and filter take effect (BanManager.reconfigure); each action
//   whose spec is unchanged keeps its running backend (nothing re-applied); its log sources keep running unless
//   its logpaths, journal choice or journalmatch changed.
// - A jail only in the new config starts; one only in the running config stops.
// - Settings of sentryban.yaml that only a restart changes (state, socket, dbfile, log targets, intervals, dns)
//   keep their running values and are named.
export type Running = { cfg: DaemonConfig; backends: ReadonlyMap<string, readonly ActionBackend[]> };
export type ReloadPlan = {
  cfg: DaemonConfig; // the config in force after the reload
  backends: Map<string, ActionBackend[]>;
  change: Reconfigure;
  stopSources: string[]; // jails whose sources stop (removed, or sources changed)
  startSources: LoadedJail[]; // jails whose sources start (added, or sources changed)
  restartNeeded: string[];
  summary: { added: string[]; removed: string[]; reloaded: string[] };
};

const sourcesKey = (j: LoadedJail): string =>
  JSON.stringify([
    j.spec.logpaths.map((l) => [l.path, l.tail]),
    j.spec.backend,
    j.spec.journalmatch ?? j.filter.journalmatch,
  ]);
// A URL prints as its text in JSON, so two specs compare by value.
const specKey = (spec: unknown): string => JSON.stringify(spec);

// Settings of sentryban.yaml a reload does not change (named actions and defaults reach the jails).
const MAIN_RESTART: readonly (keyof DaemonConfig['main'])[] = [
  'stateDir',
  'socket',
  'metrics',
  'dbfile',
  'logfile',
  'log',
  'checkIntervalSec',
  'selfRefreshSec',
  'purgeAgeSec',
  'dns',
];

export const planReload = (
  running: Running,
  next: DaemonConfig,
  nextBackends: ReadonlyMap<string, readonly ActionBackend[]>,
  only: string | null,
): ReloadPlan | string => {
  const before = new Map(running.cfg.jails.map((j) => [j.spec.config.name, j]));
  const after = new Map(next.jails.map((j) => [j.spec.config.name, j]));
  if (only !== null && !before.has(only) && !after.has(only))
    return `no jail "${only}" in the running or the new config`;
  const take = (name: string): boolean => only === null || name === only;
  const jails: LoadedJail[] = [];
  const backends = new Map<string, ActionBackend[]>();
  const change = {
    removed: [] as string[],
    changed: [] as Reconfigure['changed'][number][],
    added: [] as Reconfigure['added'][number][],
  };
  const stopSources: string[] = [];
  const startSources: LoadedJail[] = [];
  for (const [name, old] of before) {
    const nu = after.get(name);
    if (!take(name)) {
      jails.push(old);
      backends.set(name, [...(running.backends.get(name) ?? [])]);
      continue;
    }
    if (!nu) {
      change.removed.push(name);
      stopSources.push(name);
      continue;
    }
    const oldList = running.backends.get(name) ?? [];
    const fresh = nextBackends.get(name) ?? [];
    const list = nu.actions.map((spec, i) => {
      const k = old.actions.findIndex((o) => specKey(o) === specKey(spec));
      return k >= 0 && oldList[k] ? oldList[k] : fresh[i]!;
    });
    jails.push(nu);
    backends.set(name, list);
    change.changed.push({ loaded: nu, backends: list });
    if (sourcesKey(old) !== sourcesKey(nu)) {
      stopSources.push(name);
      startSources.push(nu);
    }
  }
  for (const [name, nu] of after) {
    if (before.has(name) || !take(name)) continue;
    const list = [...(nextBackends.get(name) ?? [])];
    jails.push(nu);
    backends.set(name, list);
    change.added.push({ loaded: nu, backends: list });
    startSources.push(nu);
  }
  const restartNeeded = MAIN_RESTART.filter((k) => specKey(running.cfg.main[k]) !== specKey(next.main[k]));
  return {
    cfg: { ...running.cfg, jails },
    backends,
    change,
    stopSources,
    startSources,
    restartNeeded,
    summary: {
      added: change.added.map((a) => a.loaded.spec.config.name),
      removed: change.removed,
      reloaded: change.changed.map((c) => c.loaded.spec.config.name),
    },
  };
};

import type { Clock } from '../../core/clock.js';
import { listHas } from '../config/fleet-settings.js';
import type { DaemonConfig } from '../config/loaded.js';
import { FleetLink } from '../fleet/link.js';
import type { BanManager } from './manager.js';
import type { DecisionLog } from './log.js';
import type { StoreWriter } from './store-writer.js';

// The fleet link over the running manager and store (docs/fleet.md), when sentryban.yaml has `fleet:`.
// A change of `fleet:` takes a restart (a reload keeps the link as it is).
export const startFleet = (
  cfg: DaemonConfig,
  manager: BanManager,
  writer: StoreWriter,
  clock: Clock,
  log: DecisionLog,
): FleetLink | null => {
  const fleet = cfg.main.fleet;
  if (!fleet) return null;
  const link = new FleetLink({
    config: fleet,
    manager,
    store: () => writer.store,
    audit: (row) => writer.audit(row),
    clock,
    log: (level, text) => log.line('fleet', level, text),
    receives: (jail) => listHas(fleet.receive, jail) && manager.jailNames().includes(jail),
    longestBantimeSec: longestBantimeSec(cfg, (jail) => listHas(fleet.publish, jail)),
  });
  link.start();
  return link;
};

// The longest ban a publishing jail can give (bantime.increment up to its maxtime); -1 when one has no end.
// Stream entries older than that can no longer change anything: the stream is trimmed at that age.
export const longestBantimeSec = (cfg: DaemonConfig, publishes: (jail: string) => boolean): number => {
  let longest = 0;
  for (const j of cfg.jails) {
    const c = j.spec.config;
    if (!publishes(c.name)) continue;
    const max = c.increment ? (c.increment.maxtimeSec ?? -1) : c.bantimeSec;
    const sec = c.bantimeSec < 0 || max < 0 ? -1 : Math.max(max, c.bantimeSec);
    if (sec < 0) return -1;
    longest = Math.max(longest, sec);
  }
  return longest;
};

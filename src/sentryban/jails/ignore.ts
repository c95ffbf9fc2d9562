import type { Addr, Cidr } from '../../core/addr.js';
import type { IgnoreConfig } from './config.js';

// Which rule ignores this id, or null. Order as fail2ban: ignoreself, then ignoreip (the command runs later,
// in the daemon, since it is I/O). `self` is the host's own addresses, kept current by the daemon.
export const matchIgnore = (cfg: IgnoreConfig, self: readonly Addr[], id: string, addr: Addr | null): string | null => {
  if (!addr) return cfg.raw.includes(id) ? `ignoreip ${id}` : null;
  if (cfg.self && self.some((a) => a.equals(addr))) return 'ignoreself';
  const hit = cfg.cidrs.find((c: Cidr) => c.contains(addr));
  return hit ? `ignoreip ${hit.isHost() ? hit.base.text : hit.text}` : null;
};

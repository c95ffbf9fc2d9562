import type { Addr, Cidr } from '../../core/addr.js';
import type { IgnoreConfig } from './config.js';

// Which rule ignores this id, or null. Order as fail2ban: ignoreself, then ignoreip (the command runs later,
// in the daemon, since it is I/O). `self` is the host's own addresses, kept current by the daemon.
export const matchIgnore = (cfg: IgnoreConfig, self: readonly Addr[], id: string, addr: Addr | null): string | null => {
  if (!addr) return cfg.raw.includes(id) ? `ignoreip ${id}` : null;
  // Loops, not some()/find() with a closure: this runs per failure (a closure allocated each time).
  if (cfg.self) for (let i = 0; i < self.length; i++) if ((self[i] as Addr).equals(addr)) return 'ignoreself';
  const cidrs: readonly Cidr[] = cfg.cidrs;
  for (let i = 0; i < cidrs.length; i++) {
    const c = cidrs[i] as Cidr;
    if (c.contains(addr)) return `ignoreip ${c.isHost() ? c.base.text : c.text}`;
  }
  return null;
};

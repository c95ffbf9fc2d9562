import { parseCidr } from '../../../src/core/addr.js';
import type { Ban } from '../../../src/sentryban/types.js';

// A ban of `target` in `jail`, expiring `sec` seconds after `now` (null: permanent).
export const banOf = (target: string, opts: { jail?: string; now?: number; sec?: number | null } = {}): Ban => {
  const cidr = parseCidr(target);
  if (!cidr) throw new Error(`bad test target ${target}`);
  const now = opts.now ?? 1_700_000_000_000;
  const sec = opts.sec === undefined ? 600 : opts.sec;
  return {
    jail: opts.jail ?? 'sshd',
    target: cidr,
    bannedAt: now,
    expiresAt: sec === null ? null : now + sec * 1000,
    bantimeSec: sec === null ? -1 : sec,
    banCount: 1,
  };
};

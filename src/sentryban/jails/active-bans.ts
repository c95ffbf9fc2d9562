import type { Addr, Cidr } from '../../core/addr.js';
import type { Instant } from '../../core/clock.js';
import type { Ban } from '../types.js';

// What is banned now: the one table of bans in force, by jail and target. The store backs it (loaded from the
// store's active rows at start, every change committed to the store in the same turn of the manager's queue) and
// it goes on alone while the store cannot be written. Only the BanManager writes it; a jail reads its own part
// through `BansInForce` (jail.ts), the Repairer and the StoreWriter read it through the manager.
export interface BansInForce {
  get(target: string): Ban | undefined;
  // The ban in force covering this id: its own (`target`), or a prefix/subnet ban holding its address.
  covering(addr: Addr | null, target: string): Ban | undefined;
  // How many bans narrower than `subnet` lie inside it (escalation).
  inside(subnet: Cidr): number;
}

class JailBans implements BansInForce {
  readonly byTarget = new Map<string, Ban>();
  wide = 0; // how many are prefix/subnet bans (when 0, no scan for covering bans)

  get(target: string): Ban | undefined {
    return this.byTarget.get(target);
  }
  covering(addr: Addr | null, target: string): Ban | undefined {
    const exact = this.byTarget.get(target);
    if (exact || !addr || this.wide === 0) return exact;
    for (const b of this.byTarget.values()) if (!b.target.isHost() && b.target.contains(addr)) return b;
    return undefined;
  }
  inside(subnet: Cidr): number {
    let n = 0;
    for (const b of this.byTarget.values()) if (b.target.bits > subnet.bits && subnet.contains(b.target.base)) n++;
    return n;
  }
}

// A jail with nothing banned (a fresh jail, e.g. the control socket's `test`).
export const NO_BANS: BansInForce = new JailBans();

export const banKey = (jail: string, target: string): string => `${jail}\t${target}`;

export class ActiveBans {
  readonly #all = new Map<string, Ban>(); // by banKey, in the order they were banned (or restored)
  readonly #jails = new Map<string, JailBans>();

  // A jail's part, live: it sees every later change.
  of(jail: string): BansInForce {
    return this.#jailOf(jail);
  }
  // False (and nothing changes) when the jail already holds a ban of that target.
  add(ban: Ban): boolean {
    const key = banKey(ban.jail, ban.target.text);
    if (this.#all.has(key)) return false;
    this.#all.set(key, ban);
    const j = this.#jailOf(ban.jail);
    j.byTarget.set(ban.target.text, ban);
    if (!ban.target.isHost()) j.wide++;
    return true;
  }
  remove(jail: string, target: string): Ban | undefined {
    const ban = this.#all.get(banKey(jail, target));
    if (!ban) return undefined;
    this.#all.delete(banKey(jail, target));
    const j = this.#jailOf(jail);
    j.byTarget.delete(target);
    if (!ban.target.isHost()) j.wide--;
    return ban;
  }
  byKey(key: string): Ban | undefined {
    return this.#all.get(key);
  }
  list(jail: string | null): Ban[] {
    if (jail !== null) return [...(this.#jails.get(jail)?.byTarget.values() ?? [])];
    return [...this.#all.values()];
  }
  count(jail: string): number {
    return this.#jails.get(jail)?.byTarget.size ?? 0;
  }
  // Those whose end is still ahead of `now` (an expiry due but not yet run is left out).
  inForce(jail: string | null, now: Instant): Ban[] {
    return this.list(jail).filter((b) => b.expiresAt === null || b.expiresAt > now);
  }

  #jailOf(jail: string): JailBans {
    let j = this.#jails.get(jail);
    if (!j) {
      j = new JailBans();
      this.#jails.set(jail, j);
    }
    return j;
  }
}

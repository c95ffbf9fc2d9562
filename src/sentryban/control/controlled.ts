import type { Cidr } from '../../core/addr.js';
import type { Instant } from '../../core/clock.js';
import type { LoadedJail } from '../config/loaded.js';
import type { JailConfig } from '../jails/config.js';
import type { Applied, Ban, Failure, LogLine } from '../types.js';

// What the control socket asks of the running daemon. daemon/manager.ts's BanManager is the implementation
// (daemon.ts hands it to the server, where the compiler checks it): control/ imports nothing from daemon/.
// Rows control only passes on (as JSON) are typed by the fields it reads: their times, made ISO text.
export type JailCounters = {
  jail: string;
  lines: number;
  failures: number;
  counting: number;
  bansTotal: number;
  banned: number;
};
export interface ControlledDaemon {
  jailNames(): string[];
  status(): JailCounters[];
  list(jail: string | null): Ban[]; // the bans in force, of one jail or all
  nextExpiry(): Instant | null;
  ban(jail: string, target: Cidr): Promise<{ ok: boolean; message: string; ban?: Ban }>;
  unban(target: Cidr, jail: string | null): Promise<number>; // how many were lifted
  jailsBanning(target: Cidr): string[]; // the jails whose own ban, or a wider one, covers the target (`banned`)
  unbanAll(jail: string | null): Promise<number>; // every ban of a jail (flush) or of all jails (unban --all)
  settingsOf(jail: string): LoadedJail | undefined; // the jail's running configuration (`get`)
  // A fresh matcher of the jail's filter, with the jail's settings (the `test` verb: no state changes).
  matcherOf(
    jail: string,
    now: () => number,
  ): { config: JailConfig; matcher: { match(l: LogLine): Failure[] } } | undefined;
  readonly repairs: {
    stateOf(jail: string, target: string): Record<string, Applied>; // per backend
    health(): readonly { nextRetryAt: Instant | null }[]; // one row per (jail, backend)
    check(jail: string | null, reason: 'manual'): Promise<unknown>; // one row per backend checked
  };
  readonly writer: { health(): { since: Instant | null; nextProbeAt: Instant | null } };
}

import type { Cidr } from '../../core/addr.js';
import type { Ban, Decision } from '../types.js';

// What the fleet link hands the ban manager (daemon/manager.ts implements FleetManager): a fleet host's decision,
// checked (fleet/event.ts) and, for a ban, with its end here set by the fleet's policy and its origin.
export type Received =
  { kind: 'ban'; jail: string; ban: Ban; reason: string } | { kind: 'unban'; jail: string; target: Cidr };
// already: the jail holds a ban of that target; local: an unban for a ban decided here (kept); not-held: nothing
// to lift; ignored: the jail's ignoreip/ignoreself.
export type ReceivedOutcome = 'applied' | 'already' | 'no-jail' | 'not-held' | 'local' | `ignored: ${string}`;

export interface FleetManager {
  receive(rs: readonly Received[]): Promise<ReceivedOutcome[]>;
  liftReceivedExcept(keep: ReadonlySet<string>): Promise<number>;
  // Every ban and unban committed (called in the manager's queue, after the commit, before the actions).
  onDecided(fn: ((ds: readonly Decision[]) => void) | null): void;
}

import type { Addr, Cidr } from '../core/addr.js';
import type { Instant } from '../core/clock.js';

// Contracts between the ban manager's stages: source -> match -> count/decide -> store -> act -> expire.

// Where a followed file was read up to: enough to resume after a restart without losing or repeating a line.
export type FilePosition = { path: string; inode: number; offset: number; firstLineHash: string };

export type LogLine = {
  text: string;
  source: string; // path, "journal:<match>", "stdin"
  at?: Instant; // when it was read (followed logs); the filter prefers the line's own timestamp
  entryTime?: Instant; // the entry's own time from the source (journald): used as is, no date detection
  position?: FilePosition; // position just after this line, for the store
};

// One failure found by a filter in one line (or a multi-line buffer).
export type Failure = {
  id: string; // the ticket id: the address text, a subnet, or a raw fid
  addr: Addr | null; // null when the id is not an address (raw fid, unresolved name)
  cidr?: number; // from <SUBNET>/<CIDR>
  time: Instant; // the line's own timestamp when it has one
  filter: string;
  source: string;
  lines: string[]; // the matched line(s), as read
  groups: Readonly<Record<string, string>>;
  user?: string;
};

// A ticket as a jail counts it (jails/ticket.ts): first and last failure time, the retry count.
export type CountState = { first: Instant; last: Instant; retry: number };
export type Counted = { key: string; ticket: CountState | null };

// What a jail decided. Every decision carries its reason for the audit trail.
export type Decision =
  // counted: the ticket this failure left (null: closed by the ban it led to), kept in the audit row so that a
  // restart resumes counting where it stopped (absent in decisions built by hand, e.g. in tests).
  | { kind: 'found'; jail: string; failure: Failure; count: number; counted?: Counted }
  | { kind: 'ignored'; jail: string; failure: Failure; rule: string }
  | { kind: 'ban'; jail: string; ban: Ban; failures: Failure[]; reason: string }
  // fleet: a received ban lifted by its fleet's unban or re-sync (docs/fleet.md), never published again
  | { kind: 'unban'; jail: string; ban: Ban; reason: 'expired' | 'manual' | 'fleet' };

// A ban in force. Single addresses are host prefixes (/32, /128); prefix and subnet bans are wider.
export type Ban = {
  jail: string;
  target: Cidr;
  bannedAt: Instant;
  expiresAt: Instant | null; // null: permanent
  bantimeSec: number; // -1: permanent
  banCount: number; // how many times this target was banned (bantime.increment)
  port?: string; // fail2ban's `port` (e.g. "ssh", "22,80", "0:65535")
  protocol?: 'tcp' | 'udp' | 'sctp' | 'all';
  origin?: string; // the fleet host that decided it (a received ban); absent: decided here
};

export type ActionFailed = {
  kind: 'ActionFailed';
  backend: string;
  argv: string[];
  exitCode: number | null;
  stderr: string;
};
// `repaired` (check only): what had to be put right, in words, when the live state differed from the store's.
export type ActionOutcome = { ok: true; repaired?: string } | { ok: false; failure: ActionFailed };
// Whether a ban is in force in one backend, as the repairer knows it (daemon/repair.ts) and control reports it.
export type Applied = 'applied' | 'pending' | 'failed';

// Every backend of a kind exposes the same verbs. ban/unban are idempotent; start restores a whole set in one batch.
export interface ActionBackend {
  readonly name: string;
  start(bans: readonly Ban[]): Promise<ActionOutcome>;
  ban(ban: Ban): Promise<ActionOutcome>;
  // Several bans in one step (one transaction where the backend has one), in order; one outcome for all of them.
  // Optional: without it the daemon calls ban() for each.
  banMany?(bans: readonly Ban[]): Promise<ActionOutcome>;
  unban(ban: Ban): Promise<ActionOutcome>;
  // Re-assert the rules from the store's view (repairs rules removed by hand, lapsed kernel timeouts).
  check(bans: readonly Ban[]): Promise<ActionOutcome>;
  // A notifier (webhook): the daemon does not wait for its verbs, and tells it the lines behind each new ban.
  readonly detached?: boolean;
  readonly note?: (ban: Ban, lines: readonly string[]) => void;
}

import type { Cidr } from '../../core/addr.js';
import type { Formula } from './formula.js';

// A jail's validated settings, in code words. Loaders (our YAML, fail2ban's jail.conf) build this; the core reads it.
export type IncrementConfig = {
  factor: number; // bantime.factor, evaluated once
  formula: Formula | null; // bantime.formula; null: fail2ban's default formula
  multipliers: number[]; // bantime.multipliers; when non-empty it wins over the formula
  maxtimeSec: number | null;
  rndtimeSec: number | null;
  overalljails: boolean;
};

// Count and ban IPv6 per prefix (fail2ban gh-1965), and widen to a subnet when enough of it is banned.
export type PrefixConfig = { v6Bits: number | null; v4Bits: number | null };
export type EscalateConfig = { count: number; v4Bits: number; v6Bits: number };

export type IgnoreConfig = {
  cidrs: Cidr[]; // addresses and CIDRs, names already resolved at load
  raw: string[]; // non-address ids (raw fids) ignored as strings
  self: boolean; // ignoreself
  command: string[] | null; // ignorecommand argv template (<ip> etc.), run by the daemon, never by a shell
};

export type JailConfig = {
  name: string;
  maxretry: number;
  findtimeSec: number;
  bantimeSec: number; // -1 permanent
  increment: IncrementConfig | null;
  ignore: IgnoreConfig;
  prefix: PrefixConfig;
  escalate: EscalateConfig | null;
  maxmatches: number;
  port?: string;
  protocol?: 'tcp' | 'udp' | 'sctp' | 'all';
};

export const defaultIgnore = (): IgnoreConfig => ({ cidrs: [], raw: [], self: true, command: null });

export const defaultJail = (name: string): JailConfig => ({
  name,
  maxretry: 5,
  findtimeSec: 600,
  bantimeSec: 600,
  increment: null,
  ignore: defaultIgnore(),
  prefix: { v6Bits: null, v4Bits: null },
  escalate: null,
  maxmatches: 5,
});

import { resolve } from 'node:path';
import type { LoadedJail } from '../config/loaded.js';
import { elementText } from '../actions/targets.js';

// `sentryban get <jail> <key>`: a jail's effective settings under fail2ban's key names (as `fail2ban-client get`
// answers them): durations in seconds, lists as arrays, paths as followed, the filter's regexes as written.
type Getter = (j: LoadedJail, configDir: string) => unknown;
const inc =
  <T>(f: (i: NonNullable<LoadedJail['spec']['config']['increment']>) => T): Getter =>
  (j) =>
    j.spec.config.increment ? f(j.spec.config.increment) : null;

export const JAIL_SETTINGS: Readonly<Record<string, Getter>> = {
  maxretry: (j) => j.spec.config.maxretry,
  findtime: (j) => j.spec.config.findtimeSec,
  bantime: (j) => j.spec.config.bantimeSec,
  'bantime.increment': (j) => j.spec.config.increment !== null,
  'bantime.factor': inc((i) => i.factor),
  'bantime.formula': inc((i) => i.formula?.text ?? null),
  'bantime.multipliers': inc((i) => i.multipliers),
  'bantime.maxtime': inc((i) => i.maxtimeSec),
  'bantime.rndtime': inc((i) => i.rndtimeSec),
  'bantime.overalljails': inc((i) => i.overalljails),
  ignoreip: (j) => [...j.spec.config.ignore.cidrs.map(elementText), ...j.spec.config.ignore.raw],
  ignoreself: (j) => j.spec.config.ignore.self,
  ignorecommand: (j) => j.spec.config.ignore.command?.join(' ') ?? null,
  ipv6prefix: (j) => j.spec.config.prefix.v6Bits,
  ipv4prefix: (j) => j.spec.config.prefix.v4Bits,
  escalate: (j) => j.spec.config.escalate,
  maxmatches: (j) => j.spec.config.maxmatches,
  port: (j) => j.spec.config.port ?? null,
  protocol: (j) => j.spec.config.protocol ?? null,
  logpath: (j, dir) => j.spec.logpaths.map((l) => resolve(dir, l.path)), // as followed: relative to the config
  backend: (j) => (j.spec.backend.kind === 'files' ? 'auto' : 'systemd'),
  journalmatch: (j) => j.spec.journalmatch ?? j.filter.journalmatch,
  actions: (j) => j.spec.actions.map((a) => a.name),
  filter: (j) => j.filter.name,
  failregex: (j) => j.filter.failregex.map((r) => r.source.regex),
  ignoreregex: (j) => j.filter.ignoreregex.map((r) => r.source.regex),
  prefregex: (j) => j.filter.prefregex?.source.regex ?? null,
  datepattern: (j) => j.filter.datepattern,
  maxlines: (j) => j.filter.maxlines,
  usedns: (j) => j.filter.usedns,
};
export const SETTING_KEYS = Object.keys(JAIL_SETTINGS);

import { Cidr, type Addr } from '../../core/addr.js';
import type { Instant } from '../../core/clock.js';
import type { Ban, Decision, Failure } from '../types.js';
import { NO_BANS, type BansInForce } from './active-bans.js';
import { computeBantime, failureWeight } from './bantime.js';
import type { JailConfig } from './config.js';
import { matchIgnore } from './ignore.js';
import { TicketTable, type Ticket } from './ticket.js';
import { escalationFor, subnetText, targetOf } from './prefix.js';

// A jail is a state machine: failures in, decisions out, no I/O. Time comes from the failures themselves (the
// line's own timestamp) and from `env.now` (to drop bans whose end is already past, as fail2ban does).
// What is banned now is not the jail's: it reads its part of the one table (active-bans.ts), which its owner
// (the BanManager) updates from the decisions; within one step the jail counts the ban it has just decided.
export type BanHistory = { count: number; lastAt: Instant };
export type JailState = {
  tickets: TicketTable; // counting, per id (or per prefix)
  bans: BansInForce; // the bans in force in this jail (read only)
  history: Map<string, BanHistory>; // earlier bans per target (this jail, or all jails with overalljails)
  self: Addr[]; // this host's addresses, for ignoreself
};
export type JailEnv = { now: Instant; random: () => number };
export type JailInput =
  | { kind: 'failure'; failure: Failure; ignoredBy?: string } // ignoredBy: the daemon's ignorecommand verdict
  | { kind: 'manual'; target: Cidr; at: Instant }
  | { kind: 'counting'; key: string; ticket: Ticket } // a failure count in progress, read from the store at start
  | { kind: 'history'; target: string; at: Instant } // a ban elsewhere (overalljails)
  | { kind: 'self'; addrs: Addr[] }
  // Tickets whose last failure is before `before` are dropped. Only for a `before` no later failure can reach:
  // one findtime before the oldest failure time still counted (addToTicket would start those afresh anyway).
  | { kind: 'forget'; before: Instant };

export const createJailState = (bans: BansInForce = NO_BANS): JailState => ({
  tickets: new TicketTable(),
  bans,
  history: new Map(),
  self: [],
});

// When counting state no later failure can reach may be dropped, as fail2ban's cleanup drops it: failures before
// `oldest` (now - findtime) are not counted and `oldest` only grows, so a ticket whose last failure is a findtime
// before that would start afresh anyway. At most once per findtime (each forget is a sweep over all tickets).
// Returns the `before` to forget (feed it to step as { kind: 'forget', before } and keep it as the new
// `forgotUpTo`), or null when no forget is due yet.
export const forgetDue = (cfg: JailConfig, forgotUpTo: Instant, oldest: Instant): Instant | null => {
  const findtimeMs = cfg.findtimeSec * 1000;
  const before = oldest - findtimeMs;
  return before - forgotUpTo < findtimeMs ? null : before;
};

export const step = (cfg: JailConfig, state: JailState, input: JailInput, env: JailEnv): Decision[] => {
  switch (input.kind) {
    case 'failure':
      return onFailure(cfg, state, input.failure, input.ignoredBy, env);
    case 'manual':
      return decideBan(cfg, state, input.target, input.at, [], 'manual ban', env);
    case 'counting':
      state.tickets.set(input.key, input.ticket);
      return [];
    case 'history':
      noteHistory(state, input.target, input.at);
      return [];
    case 'self':
      state.self = input.addrs;
      return [];
    case 'forget':
      state.tickets.forget(input.before);
      return [];
  }
};

const noteHistory = (state: JailState, target: string, at: Instant): void => {
  const h = state.history.get(target);
  state.history.set(target, { count: (h?.count ?? 0) + 1, lastAt: Math.max(at, h?.lastAt ?? at) });
};

const onFailure = (
  cfg: JailConfig,
  state: JailState,
  f: Failure,
  ignoredBy: string | undefined,
  env: JailEnv,
): Decision[] => {
  const rule = ignoredBy ?? matchIgnore(cfg.ignore, state.self, f.id, f.addr);
  if (rule) return [{ kind: 'ignored', jail: cfg.name, failure: f, rule }];
  // Hosts count under their address text, a subnet target under its text: no object per failure for the key and
  // the target's text, and the Cidr is only built for a ban.
  const addr = f.addr;
  const subnet = subnetText(cfg.prefix, f);
  const key = addr ? (subnet ?? addr.text) : f.id;
  const targetText = addr ? (subnet ?? addr.hostText) : f.id;
  const banned = state.bans.covering(f.addr, targetText);
  if (banned) return [{ kind: 'ignored', jail: cfg.name, failure: f, rule: `already banned (${banned.target.text})` }];
  const prev = state.history.get(targetText);
  if (cfg.increment && prev && f.time <= prev.lastAt) {
    return [{ kind: 'ignored', jail: cfg.name, failure: f, rule: 'before the last ban (already counted)' }];
  }
  const weight = failureWeight(prev?.count ?? 0, cfg.maxretry, cfg.increment);
  const ticket = state.tickets.add(key, f.time, weight, cfg.findtimeSec * 1000);
  // The target's Cidr is built only for a ban (not for every failure counted).
  const open = ticket.retry < cfg.maxretry || !addr;
  const counted = { key, ticket: open ? ticket : null };
  const out: Decision[] = [{ kind: 'found', jail: cfg.name, failure: f, count: ticket.retry, counted }];
  if (open) return out;
  const target = targetOf(cfg.prefix, f) as Cidr;
  state.tickets.delete(key);
  const why = `${ticket.retry} failure${ticket.retry === 1 ? '' : 's'}${weight > 1 ? ` (known bad: each counts ${weight})` : ''} within findtime ${cfg.findtimeSec}s reached maxretry ${cfg.maxretry}`;
  const ban = decideBan(cfg, state, target, ticket.last, [f], why, env);
  const decided = ban.some((d) => d.kind === 'ban');
  return [...out, ...ban, ...escalate(cfg, state, target, ticket.last, env, decided)];
};

const decideBan = (
  cfg: JailConfig,
  state: JailState,
  target: Cidr,
  at: Instant,
  failures: Failure[],
  why: string,
  env: JailEnv,
): Decision[] => {
  if (state.bans.get(target.text)) return [];
  const prev = state.history.get(target.text)?.count ?? 0;
  const bt = computeBantime(cfg.bantimeSec, prev, cfg.increment, env.random);
  const expiresAt = bt.sec < 0 ? null : at + Math.round(bt.sec * 1000);
  const ban: Ban = {
    jail: cfg.name,
    target,
    bannedAt: at,
    expiresAt,
    bantimeSec: bt.sec < 0 ? -1 : Math.round(bt.sec),
    banCount: prev + 1,
    ...(cfg.port !== undefined ? { port: cfg.port } : {}),
    ...(cfg.protocol !== undefined ? { protocol: cfg.protocol } : {}),
  };
  const reason = `${why}; ${bt.why}`;
  if (expiresAt !== null && expiresAt <= env.now) {
    const f = failures[failures.length - 1];
    return f ? [{ kind: 'ignored', jail: cfg.name, failure: f, rule: `bantime already over (${reason})` }] : [];
  }
  noteHistory(state, target.text, at);
  return [{ kind: 'ban', jail: cfg.name, ban, failures, reason }];
};

// `decided`: this step has just banned `target` (not in the table yet: its owner adds it from the decision).
const escalate = (
  cfg: JailConfig,
  state: JailState,
  target: Cidr,
  at: Instant,
  env: JailEnv,
  decided: boolean,
): Decision[] => {
  const subnet = escalationFor(cfg.escalate, target.base);
  if (!subnet || !cfg.escalate || subnet.bits >= target.bits || state.bans.get(subnet.text)) return [];
  const n = state.bans.inside(subnet) + (decided ? 1 : 0);
  if (n < cfg.escalate.count) return [];
  return decideBan(
    cfg,
    state,
    subnet,
    at,
    [],
    `${n} addresses of ${subnet.text} banned (escalate.count ${cfg.escalate.count})`,
    env,
  );
};

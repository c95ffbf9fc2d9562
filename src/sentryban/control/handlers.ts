import { parseCidr } from '../../core/addr.js';
import { formatDurationSec } from '../../core/duration.js';
import { step, createJailState } from '../jails/jail.js';
import type { Store } from '../store/store.js';
import type { Applied, Ban } from '../types.js';
import { elementText } from '../actions/targets.js';
import type { ControlledDaemon } from './controlled.js';
import { JAIL_SETTINGS, SETTING_KEYS } from './jail-settings.js';
import type { Request, Verb } from './protocol.js';

// One handler per verb (a table, not an if/else chain). Each returns a JSON-able result or throws a message.
// `reload`: the daemon's own (daemon.ts): check the whole new config, then apply it; errors keep the running one.
export type ReloadReply =
  | { ok: true; added: string[]; removed: string[]; reloaded: string[]; restartNeeded: string[] }
  | { ok: false; errors: string[] };
export type HandlerDeps = {
  configDir?: string; // relative logpaths are followed from here
  manager: ControlledDaemon;
  store: Store;
  reload?: (jail: string | null) => Promise<ReloadReply>;
};
type Handler = (args: Request['args'], deps: HandlerDeps) => unknown; // a value or a Promise of one

const str = (args: Request['args'], k: string): string | undefined =>
  typeof args[k] === 'string' ? args[k] : undefined;
const need = (args: Request['args'], k: string): string => {
  const v = str(args, k);
  if (v === undefined || v === '') throw new Error(`missing ${k}`);
  return v;
};
const target = (text: string) => {
  const c = parseCidr(text);
  if (!c) throw new Error(`"${text}" is not an address or CIDR`);
  return c;
};
// A single address reads as the address (as fail2ban lists it), a network as its CIDR.
// `applied`: 'applied' only when every backend of the jail has it; otherwise 'failed' or 'pending' (per backend
// in `backends`), so a ban is never reported applied when it is not.
export const banView = (b: Ban, backends: Record<string, Applied> = {}) => ({
  jail: b.jail,
  target: elementText(b.target),
  bannedAt: new Date(b.bannedAt).toISOString(),
  expiresAt: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(),
  bantime: formatDurationSec(b.bantimeSec),
  banCount: b.banCount,
  ...(b.origin !== undefined ? { origin: b.origin } : {}),
  applied: overall(backends),
  backends,
});
const overall = (per: Record<string, Applied>): Applied => {
  const v = Object.values(per);
  return v.includes('failed') ? 'failed' : v.includes('pending') ? 'pending' : 'applied';
};
const viewOf = (d: HandlerDeps) => (b: Ban) => banView(b, d.manager.repairs.stateOf(b.jail, b.target.text));
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

// The texts an address's audit rows carry: bans write the CIDR ("192.0.2.7/32"), failures and ignores the id
// as the filter found it ("192.0.2.7"); a network is only ever its CIDR; anything else (a raw id) as given.
const auditTargets = (text: string): string[] => {
  const c = parseCidr(text);
  if (!c) return [text];
  return c.isHost() ? [c.text, c.base.text] : [c.text];
};

export const HANDLERS: Readonly<Record<Verb, Handler>> = {
  status: (a, d) => {
    const m = process.memoryUsage();
    const mib = (n: number): number => Math.round((n / 1048576) * 10) / 10;
    // One jail, as `fail2ban-client status <jail>`: its counters and the bans in force.
    const one = str(a, 'jail');
    if (one !== undefined) {
      const j = d.manager.status().find((x) => x.jail === one);
      if (!j) throw new Error(`no jail "${one}"`);
      const bans = d.manager.list(one).map(viewOf(d));
      return { ...j, notApplied: bans.filter((b) => b.applied !== 'applied').length, bans };
    }
    return {
      jails: d.manager.status().map((j) => ({
        ...j,
        notApplied: d.manager.list(j.jail).filter((b) => viewOf(d)(b).applied !== 'applied').length,
      })),
      actions: d.manager.repairs.health().map((h) => ({ ...h, nextRetryAt: iso(h.nextRetryAt) })),
      store: ((h) => ({ ...h, since: iso(h.since), nextProbeAt: iso(h.nextProbeAt) }))(d.manager.writer.health()),
      nextExpiry: ((n) => (n === null ? null : new Date(n).toISOString()))(d.manager.nextExpiry()),
      memory: {
        rssMiB: mib(m.rss),
        heapUsedMiB: mib(m.heapUsed),
        heapTotalMiB: mib(m.heapTotal),
        externalMiB: mib(m.external),
      },
    };
  },
  list: (a, d) => d.manager.list(str(a, 'jail') ?? null).map(viewOf(d)),
  // Every backend's check against the store now (of one jail, or all): what was repaired, what failed.
  check: async (a, d) => {
    const jail = str(a, 'jail') ?? null;
    if (jail !== null && !d.manager.jailNames().includes(jail)) throw new Error(`no jail "${jail}"`);
    return d.manager.repairs.check(jail, 'manual');
  },
  ban: async (a, d) => {
    const r = await d.manager.ban(need(a, 'jail'), target(need(a, 'target')));
    if (!r.ok) throw new Error(r.message);
    return r.ban ? viewOf(d)(r.ban) : null;
  },
  unban: async (a, d) => {
    const jail = str(a, 'jail') ?? null;
    if (jail !== null && !d.manager.jailNames().includes(jail)) throw new Error(`no jail "${jail}"`);
    if (a.all === 1) {
      if (str(a, 'target')) throw new Error('--all lifts every ban: give no address with it');
      return { unbanned: await d.manager.unbanAll(jail) };
    }
    return { unbanned: await d.manager.unban(target(need(a, 'target')), jail) };
  },
  // Every ban of one jail, lifted (manual unbans, audited).
  flush: async (a, d) => {
    const jail = need(a, 'jail');
    if (!d.manager.jailNames().includes(jail)) throw new Error(`no jail "${jail}"`);
    return { jail, unbanned: await d.manager.unbanAll(jail) };
  },
  // As `fail2ban-client banned`: with addresses, the jails banning each (a wider ban covering it counts); without,
  // the banned targets of every jail.
  banned: (a, d) => {
    const addrs = typeof a.targets === 'string' && a.targets !== '' ? a.targets.split(',') : [];
    if (addrs.length === 0)
      return d.manager
        .jailNames()
        .map((jail) => ({ jail, targets: d.manager.list(jail).map((b) => elementText(b.target)) }));
    return addrs.map((text) => {
      const t = target(text);
      return { target: elementText(t), jails: d.manager.jailsBanning(t) };
    });
  },
  get: (a, d) => {
    const jail = need(a, 'jail');
    const key = need(a, 'key');
    const j = d.manager.settingsOf(jail);
    if (!j) throw new Error(`no jail "${jail}"`);
    const get = JAIL_SETTINGS[key];
    if (!get) throw new Error(`unknown setting "${key}"; known: ${SETTING_KEYS.join(', ')}`);
    return { jail, key, value: get(j, d.configDir ?? '.') };
  },
  audit: (a, d) => {
    const t = str(a, 'target');
    if (a.limit !== undefined && !(Number.isInteger(a.limit) && (a.limit as number) >= 1))
      throw new Error('limit must be a whole number, 1 or more');
    const limit = typeof a.limit === 'number' ? a.limit : 100;
    return d.store
      .auditRows({
        ...(str(a, 'jail') ? { jail: str(a, 'jail') } : {}),
        ...(t ? { target: auditTargets(t) } : {}),
        limit,
      })
      .map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  },
  reload: async (a, d) => {
    if (!d.reload) throw new Error('this daemon cannot reload');
    const r = await d.reload(str(a, 'jail') ?? null);
    if (!r.ok) throw new Error(`configuration refused, the running one goes on:\n${r.errors.join('\n')}`);
    return r;
  },
  // What the jail's filter makes of one line, and what a fresh jail would decide: no state is changed.
  test: (a, d) => {
    const name = need(a, 'jail');
    const j = d.manager.matcherOf(name, () => Date.now());
    if (!j) throw new Error(`no jail "${name}"`);
    const [f] = j.matcher.match({ text: need(a, 'line'), source: 'control' });
    if (!f) return { match: false };
    const decisions = step(
      j.config,
      createJailState(),
      { kind: 'failure', failure: f },
      { now: f.time, random: () => 0 },
    );
    return {
      match: true,
      id: f.id,
      time: new Date(f.time).toISOString(),
      decisions: decisions.map((x) => (x.kind === 'ignored' ? `ignored: ${x.rule}` : x.kind)),
    };
  },
};

import { parseCidr } from '../../core/addr.js';
import { formatDurationSec } from '../../core/duration.js';
import type { BanManager } from '../daemon/manager.js';
import { step, createJailState } from '../jails/jail.js';
import type { Store } from '../store/store.js';
import type { Ban } from '../types.js';
import type { Request, Verb } from './protocol.js';

// One handler per verb (a table, not an if/else chain). Each returns a JSON-able result or throws a message.
export type HandlerDeps = { manager: BanManager; store: Store };
type Handler = (args: Request['args'], deps: HandlerDeps) => Promise<unknown> | unknown;

const str = (args: Request['args'], k: string): string | undefined => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
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
export const banView = (b: Ban) => ({
  jail: b.jail, target: b.target.text, bannedAt: new Date(b.bannedAt).toISOString(),
  expiresAt: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(), bantime: formatDurationSec(b.bantimeSec), banCount: b.banCount,
});

export const HANDLERS: Readonly<Record<Verb, Handler>> = {
  status: (_a, d) => ({ jails: d.manager.status(), nextExpiry: ((n) => (n === null ? null : new Date(n).toISOString()))(d.manager.nextExpiry()) }),
  list: (a, d) => d.manager.list(str(a, 'jail') ?? null).map(banView),
  ban: async (a, d) => {
    const r = await d.manager.ban(need(a, 'jail'), target(need(a, 'target')));
    if (!r.ok) throw new Error(r.message);
    return r.ban ? banView(r.ban) : null;
  },
  unban: async (a, d) => ({ unbanned: await d.manager.unban(target(need(a, 'target')), str(a, 'jail') ?? null) }),
  audit: (a, d) => {
    const t = str(a, 'target');
    const limit = typeof a.limit === 'number' ? a.limit : 100;
    return d.store.auditRows({ ...(str(a, 'jail') ? { jail: str(a, 'jail') } : {}), ...(t ? { target: parseCidr(t)?.text ?? t } : {}), limit })
      .map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  },
  // What the jail's filter makes of one line, and what a fresh jail would decide: no state is changed.
  test: (a, d) => {
    const name = need(a, 'jail');
    const j = d.manager.matcherOf(name);
    if (!j) throw new Error(`no jail "${name}"`);
    const [f] = j.newMatcher(() => Date.now()).match({ text: need(a, 'line'), source: 'control' });
    if (!f) return { match: false };
    const decisions = step(j.spec.config, createJailState(), { kind: 'failure', failure: f }, { now: f.time, random: () => 0 });
    return { match: true, id: f.id, time: new Date(f.time).toISOString(), decisions: decisions.map((x) => x.kind === 'ignored' ? `ignored: ${x.rule}` : x.kind) };
  },
};

import { parseCidr, type Cidr } from '../../core/addr.js';
import type { Instant } from '../../core/clock.js';
import type { FleetPolicy } from '../config/fleet-settings.js';
import { FLEET_NAME } from '../config/fleet-settings.js';

// One ban or unban as it travels in the fleet's Redis stream: flat string fields (XADD's field/value pairs).
// Encoding is for our own events; decoding treats every entry as hostile input (a compromised Redis, a forged
// XADD): each field is checked and an entry that fails any check is refused with its reason, never applied raw.
export type FleetEvent = {
  kind: 'ban' | 'unban';
  id: string; // unique per event: `<origin>-<random>`, for dropping a repeat
  origin: string; // the host that decided it
  jail: string;
  target: Cidr;
  bannedAt: Instant; // ms since the epoch (unban: when it was lifted)
  expiresAt: Instant | null; // null: permanent (unban: null)
  bantimeSec: number; // -1: permanent
  reason: string;
};
export const EVENT_VERSION = '1';
export const MAX_FIELDS = 24; // name/value strings in one entry
export const MAX_VALUE = 256; // characters in one value
export const MAX_REASON = 200;
const YEAR_MS = 366 * 86_400_000;
const MAX_FUTURE_MS = 5 * 60_000; // clock skew accepted between hosts
// The widest prefixes a received ban may cover: a /0 would cut the host off from everything.
export const MIN_BITS = { 4: 16, 6: 32 } as const;
const JAIL = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const ID = /^[A-Za-z0-9._:-]{1,100}$/;
const INT = /^-?\d{1,16}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export const encodeEvent = (e: FleetEvent): string[] => [
  'v',
  EVENT_VERSION,
  'kind',
  e.kind,
  'id',
  e.id,
  'origin',
  e.origin,
  'jail',
  e.jail,
  'target',
  e.target.text,
  'at',
  String(e.bannedAt),
  'exp',
  e.expiresAt === null ? 'permanent' : String(e.expiresAt),
  'bantime',
  String(e.bantimeSec),
  'reason',
  reasonText(e.reason),
];
// The reason as it may travel: every control character a space (receivers refuse an entry with one), at most
// MAX_REASON characters, and a lone surrogate (a pair cut there) as U+FFFD, as UTF-8 on the wire always had it
// (Redis's cjson, which reads a publishing batch, refuses one).
const CONTROLS = new RegExp(CONTROL.source, 'g');
const reasonText = (r: string): string =>
  r
    .replace(CONTROLS, ' ')
    .slice(0, MAX_REASON)
    .replace(/\p{Cs}/gu, '\ufffd');

// What the receiver knows when it checks an entry.
export type DecodeContext = {
  now: Instant;
  self: string; // our own origin: our events come back through the stream and are skipped, not refused
  jails: (jail: string) => boolean; // a jail that receives here
  origins: { all: true } | { all: false; names: readonly string[] };
};
export type Decoded =
  | { ok: true; event: FleetEvent }
  | { ok: false; skip: 'own' } // our own event
  | { ok: false; reason: string; jail: string | null; target: string | null };

// Field names of an entry as encodeEvent lays them out.
const LAYOUT = ['v', 'kind', 'id', 'origin', 'jail', 'target', 'at', 'exp', 'bantime', 'reason'] as const;
// Our own event in our own layout (version, kind, every value text within MAX_VALUE, origin us): what the checks
// below would skip as 'own' anyway, found without building the entry's map. A host reads each of its own events
// back from the stream (its position moves past them), so this is its hot path; any other shape takes the checks.
const isOwnEntry = (fields: readonly string[], self: string): boolean => {
  if (fields[7] !== self || fields[1] !== EVENT_VERSION) return false;
  if (fields[3] !== 'ban' && fields[3] !== 'unban') return false;
  return isLayout(fields);
};
// Names in encodeEvent's order, every value text within MAX_VALUE.
const isLayout = (fields: readonly string[]): boolean => {
  if (fields.length !== 2 * LAYOUT.length) return false;
  for (let i = 0; i < LAYOUT.length; i++) {
    const v = fields[2 * i + 1];
    if (fields[2 * i] !== LAYOUT[i] || typeof v !== 'string' || v.length > MAX_VALUE) return false;
  }
  return true;
};

// An entry's fields by name. In encodeEvent's layout (names in that order, every value text within MAX_VALUE: what
// every host sends) they are read in place; any other shape is read into a map, refused when malformed.
type Fields = { get(k: string): string | undefined };
const inLayout = (fields: readonly string[]): Fields | null =>
  isLayout(fields) ? { get: (k) => fields[2 * (LAYOUT as readonly string[]).indexOf(k) + 1] } : null;
const mapped = (fields: readonly string[]): { m: Map<string, string>; error: string | null } => {
  const m = new Map<string, string>();
  if (fields.length % 2 !== 0 || fields.length > MAX_FIELDS) return { m, error: `${fields.length} field strings` };
  for (let i = 0; i < fields.length; i += 2) {
    const k = fields[i] as string;
    const v = fields[i + 1] as string;
    if (typeof k !== 'string' || typeof v !== 'string') return { m, error: 'a field is not text' };
    if (k.length > 16 || v.length > MAX_VALUE) return { m, error: `field ${shown(k)} too long` };
    if (m.has(k)) return { m, error: `field ${shown(k)} twice` };
    m.set(k, v);
  }
  return { m, error: null };
};

export const decodeEntry = (fields: readonly string[], ctx: DecodeContext): Decoded => {
  if (isOwnEntry(fields, ctx.self)) return { ok: false, skip: 'own' };
  let m: Fields | null = inLayout(fields);
  const refuse = (reason: string): Decoded => {
    const jail = m?.get('jail');
    const target = m?.get('target');
    return {
      ok: false,
      reason,
      jail: jail !== undefined && JAIL.test(jail) ? jail : null,
      target: target !== undefined && parseCidr(target) ? target : null,
    };
  };
  if (m === null) {
    const r = mapped(fields);
    m = r.m;
    if (r.error !== null) return refuse(r.error);
  }
  const get = (k: string): string | undefined => m.get(k);
  if (get('v') !== EVENT_VERSION) return refuse(`version ${shown(get('v') ?? '')} not understood`);
  const kind = get('kind');
  if (kind !== 'ban' && kind !== 'unban') return refuse('kind is neither ban nor unban');
  const origin = get('origin') ?? '';
  if (!FLEET_NAME.test(origin)) return refuse('origin is not a host name');
  if (origin === ctx.self) return { ok: false, skip: 'own' };
  if (!ctx.origins.all && !ctx.origins.names.includes(origin)) return refuse(`origin "${origin}" is not allowed`);
  const id = get('id') ?? '';
  if (!ID.test(id)) return refuse('id is not a plain token');
  const jail = get('jail') ?? '';
  if (!JAIL.test(jail)) return refuse('jail is not a jail name');
  if (!ctx.jails(jail)) return refuse(`jail "${jail}" does not receive here`);
  const targetText = get('target') ?? '';
  const target = parseCidr(targetText);
  // Only the canonical text: "192.0.2.7/24" (bits set past the prefix) or " 192.0.2.7" are refused too.
  if (!target || (target.text !== targetText && target.base.text !== targetText))
    return refuse('target is not an address or CIDR');
  if (target.bits < MIN_BITS[target.base.family])
    return refuse(`target ${target.text} wider than /${MIN_BITS[target.base.family]}`);
  const at = int(get('at'));
  if (at === null || at < ctx.now - 10 * YEAR_MS || at > ctx.now + MAX_FUTURE_MS) return refuse('time not sane');
  const expText = get('exp');
  const exp = expText === 'permanent' ? null : int(expText);
  if (exp === null && expText !== 'permanent') return refuse('expiry is neither a time nor permanent');
  const bantime = int(get('bantime'));
  if (bantime === null || (bantime !== -1 && (bantime < 1 || bantime > 10 * 366 * 86400)))
    return refuse('bantime not sane');
  if (kind === 'ban') {
    if ((exp === null) !== (bantime === -1)) return refuse('expiry and bantime disagree');
    if (exp !== null && (exp <= at || exp > at + bantime * 1000 + MAX_FUTURE_MS)) return refuse('expiry not sane');
  }
  const reason = get('reason') ?? '';
  if (reason.length > MAX_REASON || CONTROL.test(reason)) return refuse('reason too long or has control characters');
  return {
    ok: true,
    event: { kind, id, origin, jail, target, bannedAt: at, expiresAt: exp, bantimeSec: bantime, reason },
  };
};
// Entry text quoted in a refusal (audit row, log line): short, control characters shown as escapes.
const shown = (t: string): string => JSON.stringify(t.slice(0, 16)).replace(new RegExp(CONTROL.source, 'g'), '?');
const int = (t: string | undefined): number | null => (t !== undefined && INT.test(t) ? Number(t) : null);

// When a received ban ends here, by the fleet's policy; 'expired' when it had ended before it arrived.
export const receivedExpiry = (e: FleetEvent, policy: FleetPolicy, now: Instant): Instant | null | 'expired' => {
  if (e.expiresAt !== null && e.expiresAt <= now) return 'expired';
  switch (policy.kind) {
    case 'remaining':
      return e.expiresAt;
    case 'same':
      return e.bantimeSec === -1 ? null : now + e.bantimeSec * 1000;
    case 'cap': {
      const cap = now + policy.capSec * 1000;
      return e.expiresAt === null ? cap : Math.min(e.expiresAt, cap);
    }
  }
};

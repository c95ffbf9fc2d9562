import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseCidr, type Cidr } from '../../../src/core/addr.js';
import {
  decodeEntry,
  encodeEvent,
  receivedExpiry,
  type DecodeContext,
  type FleetEvent,
} from '../../../src/sentryban/fleet/event.js';

const NOW = Date.UTC(2026, 11, 7, 4, 0, 0);
const cidr = (t: string): Cidr => parseCidr(t)!;
const ctx: DecodeContext = {
  now: NOW,
  self: 'web1',
  jails: (j) => j === 'sshd' || j === 'portsentry',
  origins: { all: false, names: ['web2', 'web3'] },
};
const ban: FleetEvent = {
  kind: 'ban',
  id: 'web2-5f0c',
  origin: 'web2',
  jail: 'sshd',
  target: cidr('192.0.2.7'),
  bannedAt: NOW - 1000,
  expiresAt: NOW - 1000 + 600_000,
  bantimeSec: 600,
  reason: 'sshd: 5 failures in 10m',
};
// An entry as a field list, with one field changed (or removed with null).
const withField = (e: FleetEvent, k: string, v: string | null): string[] => {
  const f = encodeEvent(e);
  const i = f.indexOf(k);
  if (v === null) f.splice(i, 2);
  else f[i + 1] = v;
  return f;
};
const reasonOf = (fields: string[]): string | null => {
  const d = decodeEntry(fields, ctx);
  return d.ok ? null : 'reason' in d ? d.reason : 'own';
};

describe('fleet events: encode, then decode as hostile input', () => {
  it('round-trips a ban, a subnet ban, an IPv6 ban, a permanent ban and an unban', () => {
    const cases: FleetEvent[] = [
      ban,
      { ...ban, target: cidr('198.51.100.0/24') },
      { ...ban, target: cidr('2001:db8::/64'), jail: 'portsentry' },
      { ...ban, expiresAt: null, bantimeSec: -1 },
      { ...ban, kind: 'unban', expiresAt: null, bantimeSec: -1, reason: 'manual' },
    ];
    for (const e of cases) {
      const d = decodeEntry(encodeEvent(e), ctx);
      expect(d).toEqual({ ok: true, event: { ...e, target: expect.anything() } });
      expect(d.ok && d.event.target.text).toBe(e.target.text);
    }
  });

  it('sends a reason receivers accept: every control character a space, no pair of surrogates cut in two', () => {
    const sent = (reason: string): string => encodeEvent({ ...ban, reason }).at(-1) ?? '';
    expect(sent('a\nb\tc\u0000d')).toBe('a b c d');
    const cut = sent(`${'x'.repeat(199)}\u{1f600}`); // the slice at 200 falls inside the pair
    expect(cut).toBe(`${'x'.repeat(199)}\ufffd`);
    expect(JSON.stringify(cut)).not.toMatch(/\\ud/); // Redis's cjson refuses a lone surrogate's escape
    const d = decodeEntry(encodeEvent({ ...ban, reason: 'a\nb\nc' }), ctx);
    expect(d.ok && d.event.reason).toBe('a b c');
  });

  it('skips our own events (no echo) before any other check', () => {
    expect(decodeEntry(encodeEvent({ ...ban, origin: 'web1', jail: 'nosuch' }), ctx)).toEqual({
      ok: false,
      skip: 'own',
    });
  });

  it('an entry with our origin but not our layout still takes every check', () => {
    const own = { ...ban, origin: 'web1' };
    const extra = [...encodeEvent(own), 'x', 'y'];
    expect(reasonOf(extra)).toBe('own'); // valid as far as the checks go before the origin
    expect(reasonOf(withField(own, 'v', '2'))).toBe('version "2" not understood');
    expect(reasonOf(withField(own, 'reason', 'r'.repeat(300)))).toBe('field "reason" too long');
    expect(reasonOf(withField(own, 'kind', 'nuke'))).toBe('kind is neither ban nor unban');
    const twice = encodeEvent(own);
    twice[4] = 'origin'; // the id's name: origin given twice
    expect(reasonOf(twice)).toBe('field "origin" twice');
  });

  it('refuses forged and malformed entries, each with its reason', () => {
    const table: [string[], string][] = [
      [withField(ban, 'origin', 'evil'), 'origin "evil" is not allowed'],
      [withField(ban, 'origin', 'web2;rm -rf /'), 'origin is not a host name'],
      [withField(ban, 'jail', 'ftp'), 'jail "ftp" does not receive here'],
      [withField(ban, 'jail', '../x'), 'jail is not a jail name'],
      [withField(ban, 'target', '0.0.0.0/0'), 'target 0.0.0.0/0 wider than /16'],
      [withField(ban, 'target', '2000::/16'), 'target 2000::/16 wider than /32'],
      [withField(ban, 'target', '192.0.2.7/24'), 'target is not an address or CIDR'],
      [withField(ban, 'target', '192.0.2.07'), 'target is not an address or CIDR'],
      [withField(ban, 'target', '0x7f.1'), 'target is not an address or CIDR'],
      [withField(ban, 'target', '192.0.2.7 -j ACCEPT'), 'target is not an address or CIDR'],
      [withField(ban, 'target', '$(reboot)'), 'target is not an address or CIDR'],
      [withField(ban, 'target', 'fe80::1%eth0'), 'target is not an address or CIDR'],
      [withField(ban, 'target', ' 192.0.2.7'), 'target is not an address or CIDR'],
      [withField(ban, 'target', null), 'target is not an address or CIDR'],
      [withField(ban, 'kind', 'exec'), 'kind is neither ban nor unban'],
      [withField(ban, 'v', '2'), 'version "2" not understood'],
      // text of the entry quoted in a refusal cannot forge a log line
      [withField(ban, 'v', '2\nFake: Ban\u0085'), 'version "2\\nFake: Ban?" not understood'],
      [withField(ban, 'id', 'a b'), 'id is not a plain token'],
      [withField(ban, 'at', '1e20'), 'time not sane'],
      [withField(ban, 'at', String(NOW + 3_600_000)), 'time not sane'],
      [withField(ban, 'at', String(NOW - 20 * 366 * 86_400_000)), 'time not sane'],
      [withField(ban, 'exp', 'soon'), 'expiry is neither a time nor permanent'],
      [withField(ban, 'exp', 'permanent'), 'expiry and bantime disagree'],
      [withField(ban, 'exp', String(NOW - 2000)), 'expiry not sane'],
      [withField(ban, 'exp', String(NOW + 86_400_000)), 'expiry not sane'],
      [withField(ban, 'bantime', '0'), 'bantime not sane'],
      [withField(ban, 'bantime', '99999999999'), 'bantime not sane'],
      [withField(ban, 'reason', 'a\nFake log line'), 'reason too long or has control characters'],
      [withField(ban, 'reason', 'x'.repeat(201)), 'reason too long or has control characters'],
      [withField(ban, 'reason', 'x'.repeat(300)), 'field "reason" too long'],
      [[...encodeEvent(ban), 'jail', 'web'], 'field "jail" twice'],
      [[...encodeEvent(ban), 'odd'], '21 field strings'],
      [[...encodeEvent(ban), ...Array<string>(20).fill('x')], '40 field strings'],
    ];
    for (const [fields, reason] of table)
      expect([fields.join(' '), reasonOf(fields)]).toEqual([fields.join(' '), reason]);
  });

  it('says which jail and target a refused entry named, only when they are well formed', () => {
    expect(decodeEntry(withField(ban, 'origin', 'evil'), ctx)).toEqual({
      ok: false,
      reason: 'origin "evil" is not allowed',
      jail: 'sshd',
      target: '192.0.2.7/32',
    });
    const forged = withField(ban, 'jail', 'a\nb');
    forged[forged.indexOf('target') + 1] = 'x';
    expect(decodeEntry(forged, ctx)).toMatchObject({
      jail: null,
      target: null,
    });
  });

  it('never throws and never accepts an entry of random strings (property)', () => {
    const field = fc.oneof(
      fc.constantFrom('v', 'kind', 'id', 'origin', 'jail', 'target', 'at', 'exp', 'bantime', 'reason'),
      fc.string({ maxLength: 300 }),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 30 }), (fields) => {
        const d = decodeEntry(fields, ctx);
        // What passes is well formed by construction: the same checks again give the same event.
        if (d.ok) expect(decodeEntry(encodeEvent(d.event), ctx)).toEqual(d);
      }),
      { numRuns: 2000, seed: 16 },
    );
  });

  it('accepts only canonical targets: any valid one round-trips, any mutation of its text is refused or equal', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 16, max: 32 }));
    fc.assert(
      fc.property(v4, fc.string({ maxLength: 3 }), ([a, b, c, d, bits], junk) => {
        const t = cidr(`${a}.${b}.${c}.${d}/${bits}`);
        const ok = decodeEntry(encodeEvent({ ...ban, target: t }), ctx);
        expect(ok.ok && ok.event.target.text).toBe(t.text);
        const r = decodeEntry(withField(ban, 'target', `${t.text}${junk}`), ctx);
        if (r.ok) expect(r.event.target.text).toBe(t.text);
      }),
      { numRuns: 1000, seed: 16 },
    );
  });
});

describe('received bans: when they end here, by the policy', () => {
  const at = NOW + 60_000; // arrives a minute after it was published
  it('remaining: the origin expiry; same: the bantime from arrival; cap: the earlier of the two', () => {
    expect(receivedExpiry(ban, { kind: 'remaining' }, at)).toBe(ban.expiresAt);
    expect(receivedExpiry(ban, { kind: 'same' }, at)).toBe(at + 600_000);
    expect(receivedExpiry(ban, { kind: 'cap', capSec: 60 }, at)).toBe(at + 60_000);
    expect(receivedExpiry(ban, { kind: 'cap', capSec: 3600 }, at)).toBe(ban.expiresAt);
  });
  it('permanent bans stay permanent except under a cap', () => {
    const perm = { ...ban, expiresAt: null, bantimeSec: -1 };
    expect(receivedExpiry(perm, { kind: 'remaining' }, at)).toBeNull();
    expect(receivedExpiry(perm, { kind: 'same' }, at)).toBeNull();
    expect(receivedExpiry(perm, { kind: 'cap', capSec: 3600 }, at)).toBe(at + 3_600_000);
  });
  it('a ban that ended before it arrived is expired under every policy', () => {
    const late = ban.expiresAt! + 1;
    for (const p of [{ kind: 'remaining' }, { kind: 'same' }, { kind: 'cap', capSec: 60 }] as const)
      expect(receivedExpiry(ban, p, late)).toBe('expired');
  });
});

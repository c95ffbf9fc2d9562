import { afterEach, describe, expect, it } from '@jest/globals';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parseAddr, parseCidr } from '../../../src/core/addr.js';
import { migrate, SCHEMA_VERSION } from '../../../src/sentryban/store/schema.js';
import { Store } from '../../../src/sentryban/store/store.js';
import type { Ban, Decision, Failure } from '../../../src/sentryban/types.js';
import { makeTmpDir } from '../../helpers/tmp.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/store');
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});
const tmpStore = (): { store: Store; path: string } => {
  const t = makeTmpDir('sentryban-store-');
  tmps.push(t.cleanup);
  const path = join(t.dir, 'state', 'sentryban.sqlite3');
  const r = Store.open(path);
  if (!r.ok) throw new Error(r.message);
  tmps.push(() => r.store.close());
  return { store: r.store, path };
};
const ban = (target: string, over: Partial<Ban> = {}): Ban => ({
  jail: 'sshd',
  target: parseCidr(target)!,
  bannedAt: 1000,
  expiresAt: 601_000,
  bantimeSec: 600,
  banCount: 1,
  ...over,
});
const failure = (id: string): Failure => ({
  id,
  addr: parseAddr(id),
  time: 1000,
  filter: 'sshd',
  source: '/var/log/auth.log',
  lines: [`Failed password from ${id}`],
  groups: {},
});
const banDecision = (b: Ban): Decision => ({
  kind: 'ban',
  jail: b.jail,
  ban: b,
  failures: [failure(b.target.base.text)],
  reason: 'test',
});

describe('store', () => {
  it('creates the current schema in WAL mode', () => {
    const { path } = tmpStore();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });
  // The manager's table never decides a second ban of a target it holds: an active row met by a new ban is one
  // whose lift was lost while the store could not be written (test/sentryban/daemon/ban-table.test.ts).
  it('keeps one active row per jail and target: a new ban replaces an active row left over', () => {
    const { store } = tmpStore();
    expect(store.commit(1000, [banDecision(ban('192.0.2.1'))])).toHaveLength(1);
    const again = ban('192.0.2.1', { bannedAt: 900_000, expiresAt: 1_500_000, banCount: 2 });
    expect(store.commit(900_000, [banDecision(again)])).toEqual([again]);
    expect(store.activeBans()).toEqual([again]);
    expect(store.history('sshd').get('192.0.2.1/32')).toEqual({ count: 2, lastAt: 900_000 });
    expect(store.auditRows().map((r) => r.kind)).toEqual(['ban', 'ban']);
  });
  it('lifting keeps history; manual unban forgets the offender (not counted for increment)', () => {
    const { store } = tmpStore();
    const a = ban('192.0.2.1');
    const b = ban('2001:db8::/64', { banCount: 3, expiresAt: null, bantimeSec: -1 });
    store.commit(1000, [banDecision(a), banDecision(b)]);
    store.commit(2000, [
      { kind: 'unban', jail: 'sshd', ban: a, reason: 'expired' },
      { kind: 'unban', jail: 'sshd', ban: b, reason: 'manual' },
    ]);
    expect(store.activeBans()).toEqual([]);
    expect([...store.history('sshd').entries()]).toEqual([['192.0.2.1/32', { count: 1, lastAt: 1000 }]]);
    store.commit(3000, [banDecision(ban('192.0.2.1', { jail: 'recidive', banCount: 2 }))]);
    expect(store.history(null).get('192.0.2.1/32')).toEqual({ count: 3, lastAt: 1000 });
  });
  it('round-trips permanent bans, port and protocol', () => {
    const { store } = tmpStore();
    const b = ban('198.51.100.0/24', { expiresAt: null, bantimeSec: -1, port: 'ssh', protocol: 'tcp' });
    store.commit(1000, [banDecision(b)]);
    expect(store.activeBans()).toEqual([b]);
  });
  it('stores log positions with the decisions', () => {
    const { store } = tmpStore();
    store.commit(1000, [], [{ jail: 'sshd', pos: { path: '/l', inode: 7, offset: 99, firstLineHash: 'h' } }]);
    store.commit(1000, [], [{ jail: 'sshd', pos: { path: '/l', inode: 7, offset: 120, firstLineHash: 'h' } }]);
    expect(store.positions('sshd').get('/l')).toEqual({ path: '/l', inode: 7, offset: 120, firstLineHash: 'h' });
  });
  it('migrates the checked-in version 1 file in place, keeping bans, positions and audit', () => {
    const t = makeTmpDir('sentryban-store-');
    tmps.push(t.cleanup);
    const path = join(t.dir, 'old.sqlite3');
    copyFileSync(join(fixtures, 'sentryban-v1.sqlite3'), path);
    const r = Store.open(path);
    if (!r.ok) throw new Error(r.message);
    tmps.push(() => r.store.close());
    expect(r.migratedFrom).toBe(1);
    const s = r.store;
    expect(s.activeBans().map((b) => [b.jail, b.target.text, b.expiresAt, b.banCount])).toEqual([
      ['sshd', '203.0.113.5/32', 4102444800000, 1],
      ['sshd', '2001:db8::7/128', 4102444800000, 1],
      ['portsentry', '198.51.100.3/32', null, 1],
    ]);
    expect(s.history('sshd').get('203.0.113.5/32')).toEqual({ count: 2, lastAt: 1767229200000 });
    expect(s.positions('sshd').get('/var/log/auth.log')?.offset).toBe(5678);
    expect(s.auditRows({ jail: 'sshd' })).toHaveLength(1);
    s.commit(1, [banDecision(ban('192.0.2.9', { port: '22' }))]);
    expect(s.activeBans()).toHaveLength(4);
  });
  // v4 (issue 16): bans_expires dropped, a partial index for the purge of lifted bans, offenders without a rowid.
  it('migrates a version 3 file to 4: offenders, bans and lifted history kept, the queries on their indexes', () => {
    const t = makeTmpDir('sentryban-store-');
    tmps.push(t.cleanup);
    const path = join(t.dir, 'v3.sqlite3');
    const old = new Database(path);
    migrate(old, 3);
    old.exec(`INSERT INTO bans(jail, target, banned_at, expires_at, bantime, state, lifted_at, ban_count, origin)
      VALUES ('sshd', '192.0.2.1/32', 1000, 601000, 600, 'lifted', 2000, 1, NULL),
             ('sshd', '192.0.2.2/32', 3000, 603000, 600, 'active', NULL, 2, 'a');
      INSERT INTO offenders(jail, target, ban_count, last_at) VALUES ('sshd', '192.0.2.1/32', 1, 1000),
        ('sshd', '192.0.2.2/32', 2, 3000), ('recidive', '192.0.2.2/32', 1, 2500);`);
    old.close();
    const r = Store.open(path);
    if (!r.ok) throw new Error(r.message);
    tmps.push(() => r.store.close());
    expect(r.migratedFrom).toBe(3);
    const s = r.store;
    expect(s.activeBans().map((b) => [b.target.text, b.banCount, b.origin])).toEqual([['192.0.2.2/32', 2, 'a']]);
    expect([...s.history('sshd')]).toEqual([
      ['192.0.2.1/32', { count: 1, lastAt: 1000 }],
      ['192.0.2.2/32', { count: 2, lastAt: 3000 }],
    ]);
    expect(s.history(null).get('192.0.2.2/32')).toEqual({ count: 3, lastAt: 3000 });
    s.commit(4000, [banDecision(ban('192.0.2.2', { jail: 'recidive', bannedAt: 4000, banCount: 2 }))]);
    expect(s.history('recidive').get('192.0.2.2/32')).toEqual({ count: 2, lastAt: 4000 });
    expect(s.purge(2500)).toEqual({ audit: 0, bans: 1 });
    s.close();
    tmps.pop();
    const db = new Database(path, { readonly: true });
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name");
    expect(names.all()).toEqual([
      { name: 'audit_at' },
      { name: 'audit_jail_target' },
      { name: 'bans_active' },
      { name: 'bans_lifted' },
    ]);
    const plan = (sql: string): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join('; ');
    expect(plan("SELECT id FROM bans WHERE state = 'lifted' AND lifted_at < 5")).toContain('bans_lifted');
    expect(plan("SELECT COUNT(*) FROM bans WHERE state = 'active'")).toContain('bans_active');
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'offenders'").pluck().get()).toContain(
      'WITHOUT ROWID',
    );
    db.close();
  });
  it('purges per-line rows and lifted bans older than dbpurgeage, keeps ban history', () => {
    const { store } = tmpStore();
    const a = ban('192.0.2.1');
    store.commit(1000, [{ kind: 'found', jail: 'sshd', failure: failure('192.0.2.1'), count: 1 }, banDecision(a)]);
    store.commit(2000, [{ kind: 'unban', jail: 'sshd', ban: a, reason: 'expired' }]);
    store.commit(9000, [{ kind: 'found', jail: 'sshd', failure: failure('192.0.2.2'), count: 1 }]);
    expect(store.purge(5000)).toEqual({ audit: 1, bans: 1 });
    expect(store.auditRows().map((r) => [r.kind, r.target])).toEqual([
      ['ban', '192.0.2.1/32'],
      ['unban', '192.0.2.1/32'],
      ['found', '192.0.2.2'],
    ]);
    expect(store.history('sshd').get('192.0.2.1/32')?.count).toBe(1);
  });
  it("a ban carries the lines of the address's recent found rows", () => {
    const { store, path } = tmpStore();
    const f1 = { ...failure('192.0.2.1'), lines: ['line one'] };
    const f2 = { ...failure('192.0.2.1'), lines: ['line two'] };
    store.commit(1000, [{ kind: 'found', jail: 'sshd', failure: f1, count: 1 }]);
    store.commit(1001, [
      { kind: 'found', jail: 'sshd', failure: f2, count: 2 },
      { kind: 'ban', jail: 'sshd', ban: ban('192.0.2.1'), failures: [f2], reason: 'r' },
    ]);
    const db = new Database(path, { readonly: true });
    expect(JSON.parse((db.prepare('SELECT data FROM bans').get() as { data: string }).data).lines).toEqual([
      'line one',
      'line two',
    ]);
    db.close();
  });
  it('gives back the open failure counts: the last ticket per key since a time, closed ones left out', () => {
    const { store } = tmpStore();
    type T = { first: number; last: number; retry: number } | null;
    const found = (id: string, at: number, key: string, ticket: T, jail = 'sshd'): Decision => ({
      kind: 'found',
      jail,
      failure: { ...failure(id), time: at },
      count: ticket?.retry ?? 3,
      counted: { key, ticket },
    });
    store.commit(500, [found('192.0.2.9', 500, '192.0.2.9', { first: 500, last: 500, retry: 1 })]); // before `since`
    store.commit(1000, [found('192.0.2.1', 1000, '192.0.2.1', { first: 1000, last: 1000, retry: 1 })]);
    store.commit(1100, [found('192.0.2.1', 1100, '192.0.2.1', { first: 1000, last: 1100, retry: 2 })]);
    store.commit(1200, [found('192.0.2.2', 1200, '192.0.2.2', { first: 1200, last: 1200, retry: 1 })]);
    store.commit(1300, [found('192.0.2.2', 1300, '192.0.2.2', null)]); // reached maxretry: banned, count closed
    store.commit(1400, [{ kind: 'found', jail: 'sshd', failure: failure('192.0.2.3'), count: 1 }]); // no ticket kept
    store.commit(1500, [found('2001:db8::1', 1500, '2001:db8::/64', { first: 1500, last: 1500, retry: 1 }, 'web')]);
    expect([...store.openTickets('sshd', 1000)]).toEqual([['192.0.2.1', { first: 1000, last: 1100, retry: 2 }]]);
    expect([...store.openTickets('web', 0)]).toEqual([['2001:db8::/64', { first: 1500, last: 1500, retry: 1 }]]);
  });
  it('refuses a file from a newer sentryban', () => {
    const { path, store } = tmpStore();
    store.close();
    tmps.pop();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const r = Store.open(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('newer than this sentryban');
  });
});

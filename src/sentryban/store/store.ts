import Database from 'better-sqlite3';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseCidr } from '../../core/addr.js';
import type { Instant } from '../../core/clock.js';
import type { BanHistory } from '../jails/jail.js';
import type { Ban, CountState, Decision, FilePosition } from '../types.js';
import { auditRowOf, type AuditRow } from './audit.js';
import { migrate } from './schema.js';

// The only module that touches SQLite. WAL; a decision is committed (one transaction per batch) before any
// action runs. Bans in force are rows with state 'active'; lifting one keeps the row as history.
export type OpenResult =
  { ok: true; store: Store; migratedFrom: number } | { ok: false; message: string; error?: unknown };
const MAX_MATCHES = 10;
type BanRow = {
  jail: string;
  target: string;
  banned_at: number;
  expires_at: number | null;
  bantime: number;
  ban_count: number;
  port: string | null;
  protocol: string | null;
  origin: string | null;
};

export class Store {
  readonly #db: Database.Database;
  #insertBan!: Database.Statement;
  #putBan!: Database.Statement;
  #liftBan!: Database.Statement;
  #upsertOffender!: Database.Statement;
  #insertAudit!: Database.Statement;
  #upsertPosition!: Database.Statement;
  #recentLines!: Database.Statement;
  #outboxPut!: Database.Statement;
  #outboxDel!: Database.Statement;
  #stateGet!: Database.Statement;
  #statePut!: Database.Statement;
  // A copy in memory of a file that could not be opened for writing (openCopy): reads only, never the file.
  readonly isCopy: boolean;

  private constructor(db: Database.Database, isCopy = false) {
    this.#db = db;
    this.isCopy = isCopy;
    this.#prepare(db);
  }

  #prepare(db: Database.Database): void {
    this.#insertBan =
      db.prepare(`INSERT INTO bans(jail, target, banned_at, expires_at, bantime, ban_count, port, protocol, data,
        origin)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(jail, target) WHERE state = 'active' DO NOTHING`);
    // A ban decided now: the manager's table holds no ban of that jail and target, so an active row found here is
    // one whose lift never reached the file (dropped while the store could not be written); the new ban replaces it.
    this.#putBan =
      db.prepare(`INSERT INTO bans(jail, target, banned_at, expires_at, bantime, ban_count, port, protocol, data,
        origin)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(jail, target) WHERE state = 'active' DO UPDATE SET banned_at = excluded.banned_at,
        expires_at = excluded.expires_at, bantime = excluded.bantime, ban_count = excluded.ban_count,
        port = excluded.port, protocol = excluded.protocol, data = excluded.data, origin = excluded.origin`);
    this.#liftBan = db.prepare(
      `UPDATE bans SET state = 'lifted', lifted_at = ?, lift_reason = ? WHERE jail = ? AND target = ? AND state = 'active'`,
    );
    this.#upsertOffender = db.prepare(`INSERT INTO offenders(jail, target, ban_count, last_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(jail, target) DO UPDATE SET ban_count = MAX(ban_count, excluded.ban_count), last_at = MAX(last_at, excluded.last_at)`);
    // Positional parameters throughout the hot statements: named ones are looked up on an object per value.
    this.#insertAudit = db.prepare(`INSERT INTO audit(at, jail, target, kind, detail, data) VALUES (?, ?, ?, ?, ?, ?)`);
    this.#recentLines = db.prepare(
      `SELECT data FROM audit WHERE jail = ? AND target = ? AND kind = 'found' ORDER BY id DESC LIMIT ${MAX_MATCHES}`,
    );
    this.#outboxPut = db.prepare('INSERT INTO fleet_outbox(fields) VALUES (?)');
    this.#outboxDel = db.prepare('DELETE FROM fleet_outbox WHERE id <= ?');
    this.#stateGet = db.prepare('SELECT value FROM fleet_state WHERE key = ?');
    this.#statePut = db.prepare(
      'INSERT INTO fleet_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.#upsertPosition =
      db.prepare(`INSERT INTO positions(jail, path, inode, offset, first_line_hash) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(jail, path) DO UPDATE SET inode = excluded.inode, offset = excluded.offset, first_line_hash = excluded.first_line_hash`);
  }

  static open(path: string): OpenResult {
    let db: Database.Database | null = null;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('cache_size = -512'); // KiB: the daemon's queries touch few pages; the default 2 MiB was RSS kept for nothing
      // A checkpoint every 10,000 pages of -wal instead of 1,000: a burst of bans rewrites the same index pages in
      // commit after commit (their keys are random addresses), and each checkpoint copied them to the file again and
      // synced it (issue 16: a received ban's commit 13% less CPU). The -wal is cut back to 4 MiB when it restarts,
      // so that it does not keep the 40 MiB a burst grew it to.
      db.pragma('wal_autocheckpoint = 10000');
      db.pragma('journal_size_limit = 4194304');
      const m = migrate(db);
      if ('error' in m) {
        db.close();
        return { ok: false, message: `${path}: ${m.error}` };
      }
      // A new file went through every migration: the pages of what v4 replaced (offenders, bans_expires) are
      // given back, so that it starts as small as one made with the final schema. (An older file keeps them free
      // for its next rows: rewriting a large store at start-up is not worth a few pages.)
      if (m.from === 0 && (db.pragma('freelist_count', { simple: true }) as number) > 0) db.exec('VACUUM');
      return { ok: true, store: new Store(db), migratedFrom: m.from };
    } catch (e) {
      try {
        db?.close();
      } catch {
        /* already unusable */
      }
      return { ok: false, message: `${path}: ${(e as Error).message}`, error: e };
    }
  }

  // The file read into memory, for a folder where SQLite cannot open it (read-only, no -shm): the bans in force
  // can still be restored. A -wal next to it is not read (its last changes are missing from the copy).
  static openCopy(path: string): OpenResult {
    try {
      const bytes = readFileSync(path);
      if (bytes.length >= 20 && bytes[18] === 2) {
        bytes[18] = 1;
        bytes[19] = 1;
      } // WAL header -> rollback, for memory
      const db = new Database(bytes);
      const m = migrate(db);
      if ('error' in m) {
        db.close();
        return { ok: false, message: `${path}: ${m.error}` };
      }
      return { ok: true, store: new Store(db, true), migratedFrom: m.from };
    } catch (e) {
      return { ok: false, message: `${path}: ${(e as Error).message}`, error: e };
    }
  }

  close(): void {
    this.#db.close();
  }
  // SQLite's max_page_count: past it a write fails with SQLITE_FULL, as on a full disk (tests); null: SQLite's own.
  limitPages(n: number | null): void {
    this.#db.pragma(`max_page_count = ${Math.floor(n ?? 4294967294)}`);
  }
  // Moves the -wal into the main file and truncates it to nothing: on a full disk the -wal, grown by every write
  // since the last checkpoint, is often the space that is missing.
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }
  pageCount(): number {
    return this.#db.pragma('page_count', { simple: true }) as number;
  }
  // "ok", or what SQLite's quick_check found (the first lines).
  quickCheck(): string {
    const rows = this.#db.pragma('quick_check(5)') as { quick_check: string }[];
    const text = rows
      .map((r) => r.quick_check)
      .join('; ')
      .replace(/\s+/g, ' ');
    return text.replace(/^\*\*\* in database main \*\*\* /, '').slice(0, 300);
  }

  // Decisions, positions and extra audit rows in one transaction. Returns the bans written. One row per jail and
  // target is active: a ban replaces an active row of the same jail and target (see #putBan).
  commit(
    at: Instant,
    decisions: readonly Decision[],
    positions: readonly { jail: string; pos: FilePosition }[] = [],
    extra: readonly AuditRow[] = [],
  ): Ban[] {
    const inserted: Ban[] = [];
    this.#db.transaction(() => {
      for (const d0 of decisions) {
        const d = d0.kind === 'ban' ? this.#withLines(d0) : d0;
        if (d.kind === 'ban') {
          const b = d.ban;
          const data = JSON.stringify({ lines: d.failures.flatMap((f) => f.lines).slice(-10), reason: d.reason });
          const r = this.#putBan.run(...banValues(b, data));
          if (r.changes > 0) {
            inserted.push(b);
            this.#upsertOffender.run(b.jail, b.target.text, b.banCount, b.bannedAt);
          }
        } else if (d.kind === 'unban') {
          this.#liftBan.run(at, d.reason, d.jail, d.ban.target.text);
          if (d.reason === 'manual')
            this.#db.prepare('DELETE FROM offenders WHERE jail = ? AND target = ?').run(d.jail, d.ban.target.text);
        }
        this.audit(auditRowOf(at, d));
      }
      for (const x of extra) this.audit(x);
      for (const p of positions)
        this.#upsertPosition.run(p.jail, p.pos.path, p.pos.inode, p.pos.offset, p.pos.firstLineHash);
    })();
    return inserted;
  }

  // Bans carried over from another store (salvage of a damaged one), each with an audit row saying so.
  importBans(at: Instant, bans: readonly Ban[], detail: string): void {
    this.#db.transaction(() => {
      for (const b of bans) {
        this.#insertBan.run(...banValues(b, null));
        this.#upsertOffender.run(b.jail, b.target.text, b.banCount, b.bannedAt);
        this.audit({ at, jail: b.jail, target: b.target.text, kind: 'restored', detail, data: null });
      }
    })();
  }

  // The lines that led to a ban are the 'found' rows already written (jails keep counts, not lines): the last
  // MAX_MATCHES of the banned address, as fail2ban's dbmaxmatches.
  #withLines(d: Extract<Decision, { kind: 'ban' }>): Decision {
    const f = d.failures[d.failures.length - 1];
    if (!f || d.failures.length !== 1) return d;
    const rows = this.#recentLines.all(d.jail, f.id) as { data: string | null }[];
    const lines = rows.reverse().flatMap((r) => {
      try {
        return (JSON.parse(r.data ?? '{}') as { lines?: string[] }).lines ?? [];
      } catch {
        return [];
      }
    });
    return lines.length > f.lines.length ? { ...d, failures: [{ ...f, lines: lines.slice(-MAX_MATCHES) }] } : d;
  }

  // fail2ban's dbpurgeage: per-line rows (found, ignored, fleet-refused) and lifted bans older than `before` are
  // deleted; ban/unban/restored/action-failed rows and ban counts (for bantime.increment) are kept.
  purge(before: Instant): { audit: number; bans: number } {
    return this.#db.transaction(() => ({
      audit: this.#db
        .prepare("DELETE FROM audit WHERE at < ? AND kind IN ('found', 'ignored', 'fleet-refused')")
        .run(before).changes,
      bans: this.#db.prepare("DELETE FROM bans WHERE state = 'lifted' AND lifted_at < ?").run(before).changes,
    }))();
  }

  audit(row: AuditRow): void {
    this.#insertAudit.run(row.at, row.jail, row.target, row.kind, row.detail, row.data);
  }

  activeBans(): Ban[] {
    const rows = this.#db
      .prepare(
        // bans_active: without it SQLite walks every row, the lifted history included, to keep the rowid order
        `SELECT jail, target, banned_at, expires_at, bantime, ban_count, port, protocol, origin
        FROM bans INDEXED BY bans_active WHERE state = 'active' ORDER BY id`,
      )
      .all() as BanRow[];
    return rows.flatMap((r) => {
      const b = banOf(r);
      return b ? [b] : [];
    });
  }

  // The fleet's outbox (fleet/link.ts): events decided here, kept until Redis has taken them, in order. Each is
  // the JSON text of its fields (the link encodes it once, for this row and for Redis).
  outboxAdd(texts: readonly string[]): number[] {
    const put = this.#outboxPut;
    return this.#db.transaction(() => texts.map((t) => Number(put.run(t).lastInsertRowid)))();
  }
  outboxPeek(limit: number): { id: number; text: string }[] {
    const rows = this.#db.prepare('SELECT id, fields FROM fleet_outbox ORDER BY id LIMIT ?').all(limit) as {
      id: number;
      fields: string;
    }[];
    return rows.map((r) => ({ id: r.id, text: r.fields }));
  }
  outboxDone(upToId: number): void {
    this.#outboxDel.run(upToId);
  }
  fleetState(key: string): string | null {
    const r = this.#stateGet.get(key) as { value: string } | undefined;
    return r?.value ?? null;
  }
  setFleetState(key: string, value: string): void {
    this.#statePut.run(key, value);
  }

  countActive(): number {
    return (this.#db.prepare(`SELECT COUNT(*) AS n FROM bans WHERE state = 'active'`).get() as { n: number }).n;
  }

  // Earlier bans per target, for bantime.increment: this jail's, or summed over all jails (overalljails).
  history(jail: string | null): Map<string, BanHistory> {
    const rows = (
      jail === null
        ? this.#db.prepare('SELECT target, SUM(ban_count) AS c, MAX(last_at) AS t FROM offenders GROUP BY target').all()
        : this.#db.prepare('SELECT target, ban_count AS c, last_at AS t FROM offenders WHERE jail = ?').all(jail)
    ) as { target: string; c: number; t: number }[];
    return new Map(rows.map((r) => [r.target, { count: r.c, lastAt: r.t }]));
  }

  // The failure counts in progress when the daemon stopped (or died): the last ticket each 'found' row since
  // `since` left, per counting key; keys whose last row closed the ticket (a ban) are left out. Rows written by
  // versions that did not record the ticket count for nothing.
  openTickets(jail: string, since: Instant): Map<string, CountState> {
    const last = new Map<string, CountState | null>();
    const rows = this.#db
      .prepare("SELECT data FROM audit WHERE jail = ? AND kind = 'found' AND at >= ? ORDER BY id")
      .iterate(jail, since);
    for (const r of rows as Iterable<{ data: string | null }>) {
      let c: { key?: unknown; ticket?: CountState | null } | undefined;
      try {
        c = (JSON.parse(r.data ?? '{}') as { counted?: typeof c }).counted;
      } catch {
        continue;
      }
      if (c && typeof c.key === 'string') last.set(c.key, c.ticket ?? null);
    }
    const open = new Map<string, CountState>();
    for (const [k, t] of last) if (t) open.set(k, t);
    return open;
  }

  positions(jail: string): Map<string, FilePosition> {
    const rows = this.#db
      .prepare('SELECT path, inode, offset, first_line_hash FROM positions WHERE jail = ?')
      .all(jail) as { path: string; inode: number; offset: number; first_line_hash: string }[];
    return new Map(
      rows.map((r) => [r.path, { path: r.path, inode: r.inode, offset: r.offset, firstLineHash: r.first_line_hash }]),
    );
  }

  // `target`: one text or several (a host's rows are written as "addr/32" by bans and as "addr" by failures).
  auditRows(q: { jail?: string; target?: string | readonly string[]; limit?: number } = {}): (AuditRow & {
    id: number;
  })[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.jail) {
      where.push('jail = ?');
      args.push(q.jail);
    }
    if (q.target !== undefined) {
      const list = typeof q.target === 'string' ? [q.target] : [...q.target];
      where.push(`target IN (${list.map(() => '?').join(', ')})`);
      args.push(...list);
    }
    const sql = `SELECT * FROM (SELECT id, at, jail, target, kind, detail, data FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?) ORDER BY id`;
    return this.#db.prepare(sql).all(...args, q.limit ?? 100) as (AuditRow & { id: number })[];
  }
}

// A ban's row values, in the order of #insertBan's and #putBan's columns.
const banValues = (b: Ban, data: string | null): (string | number | null)[] => [
  b.jail,
  b.target.text,
  b.bannedAt,
  b.expiresAt,
  b.bantimeSec,
  b.banCount,
  b.port ?? null,
  b.protocol ?? null,
  data,
  b.origin ?? null,
];

const banOf = (r: BanRow): Ban | null => {
  const target = parseCidr(r.target);
  if (!target) return null;
  return {
    jail: r.jail,
    target,
    bannedAt: r.banned_at,
    expiresAt: r.expires_at,
    bantimeSec: r.bantime,
    banCount: r.ban_count,
    ...(r.port !== null ? { port: r.port } : {}),
    ...(r.protocol !== null ? { protocol: r.protocol as NonNullable<Ban['protocol']> } : {}),
    ...(r.origin !== null ? { origin: r.origin } : {}),
  };
};

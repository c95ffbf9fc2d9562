import type Database from 'better-sqlite3';

// Versioned schema. Each step moves the file from version i to i+1 inside one transaction; PRAGMA user_version
// records where a file is. Old files (test/fixtures/store/) are migrated in place on open.
type Migration = (db: Database.Database) => void;

export const MIGRATIONS: readonly Migration[] = [
  // v1: bans, log positions, audit rows.
  (db) =>
    db.exec(`
    CREATE TABLE bans(
      id INTEGER PRIMARY KEY, jail TEXT NOT NULL, target TEXT NOT NULL,
      banned_at INTEGER NOT NULL, expires_at INTEGER, bantime INTEGER NOT NULL,
      state TEXT NOT NULL DEFAULT 'active', lifted_at INTEGER, lift_reason TEXT, data TEXT);
    CREATE UNIQUE INDEX bans_active ON bans(jail, target) WHERE state = 'active';
    CREATE INDEX bans_expires ON bans(state, expires_at);
    CREATE TABLE positions(jail TEXT NOT NULL, path TEXT NOT NULL, inode INTEGER NOT NULL, offset INTEGER NOT NULL,
      first_line_hash TEXT NOT NULL, PRIMARY KEY(jail, path));
    CREATE TABLE audit(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, jail TEXT NOT NULL, target TEXT, kind TEXT NOT NULL,
      detail TEXT NOT NULL, data TEXT);
    CREATE INDEX audit_at ON audit(at);
  `),
  // v2: ban count, port and protocol per ban; `offenders` (fail2ban's bips) keeps counts for bantime.increment.
  (db) =>
    db.exec(`
    ALTER TABLE bans ADD COLUMN ban_count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE bans ADD COLUMN port TEXT;
    ALTER TABLE bans ADD COLUMN protocol TEXT;
    CREATE TABLE offenders(jail TEXT NOT NULL, target TEXT NOT NULL, ban_count INTEGER NOT NULL, last_at INTEGER NOT NULL,
      PRIMARY KEY(jail, target));
    INSERT INTO offenders(jail, target, ban_count, last_at)
      SELECT jail, target, COUNT(*), MAX(banned_at) FROM bans GROUP BY jail, target;
    CREATE INDEX audit_jail_target ON audit(jail, target);
  `),
  // v3: the fleet (docs/fleet.md): each ban's origin host; events waiting to be published, in order; the stream
  // position read up to.
  (db) =>
    db.exec(`
    ALTER TABLE bans ADD COLUMN origin TEXT;
    CREATE TABLE fleet_outbox(id INTEGER PRIMARY KEY, fields TEXT NOT NULL);
    CREATE TABLE fleet_state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `),
  // v4: fewer b-trees written per ban (issue 16). bans_expires (state, expires_at) served no query: the bans in
  // force are read through bans_active (the same WHERE), and the purge of lifted bans gets a partial index of its
  // own, written when a ban is lifted rather than when it is decided. offenders, keyed by (jail, target), is kept
  // without a rowid: one b-tree instead of a table and its primary-key index.
  (db) =>
    db.exec(`
    DROP INDEX bans_expires;
    CREATE INDEX bans_lifted ON bans(lifted_at) WHERE state = 'lifted';
    CREATE TABLE offenders_v4(jail TEXT NOT NULL, target TEXT NOT NULL, ban_count INTEGER NOT NULL,
      last_at INTEGER NOT NULL, PRIMARY KEY(jail, target)) WITHOUT ROWID;
    INSERT INTO offenders_v4(jail, target, ban_count, last_at) SELECT jail, target, ban_count, last_at FROM offenders;
    DROP TABLE offenders;
    ALTER TABLE offenders_v4 RENAME TO offenders;
  `),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

// Returns the version the file was at before migrating, or an error for files newer than this program.
export const migrate = (db: Database.Database, upTo = SCHEMA_VERSION): { from: number } | { error: string } => {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION)
    return { error: `store schema version ${from} is newer than this sentryban (${SCHEMA_VERSION})` };
  for (let v = from; v < upTo; v++) {
    db.transaction(() => {
      (MIGRATIONS[v] as Migration)(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return { from };
};

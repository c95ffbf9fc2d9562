import Database from 'better-sqlite3';
import { parseCidr } from '../../core/addr.js';
import type { Ban } from '../types.js';

// The bans in force that can still be read from a damaged store: rows of its bans table up to the first
// unreadable page, then, for targets not read there, its audit trail (the last ban/restored row of a target,
// unless an unban follows it). Never throws: a file that opens not at all salvages nothing.
export type Salvage = { bans: Ban[]; fromTable: number; fromAudit: number; error: string | null };
type BanRow = {
  jail: string;
  target: string;
  banned_at: number;
  expires_at: number | null;
  bantime: number;
  ban_count: number;
};
type AuditRow = { at: number; jail: string; target: string; kind: string; detail: string; data: string | null };

export const salvageBans = (path: string): Salvage => {
  const out = new Map<string, Ban>();
  let error: string | null = null;
  let db: Database.Database | null = null;
  let fromTable = 0;
  try {
    db = new Database(path, { fileMustExist: true });
    const read = <T>(sql: string, each: (row: T) => void): void => {
      try {
        for (const r of db!.prepare(sql).iterate() as IterableIterator<T>) each(r);
      } catch (e) {
        error ??= (e as Error).message;
      }
    };
    const bans = "SELECT jail, target, banned_at, expires_at, bantime, ban_count FROM bans WHERE state = 'active'";
    read<BanRow>(bans, (r) => {
      const target = parseCidr(r.target);
      if (!target) return;
      out.set(`${r.jail}\t${target.text}`, {
        jail: r.jail,
        target,
        bannedAt: r.banned_at,
        expiresAt: r.expires_at,
        bantimeSec: r.bantime,
        banCount: r.ban_count,
      });
    });
    fromTable = out.size;
    const last = new Map<string, AuditRow>();
    const audit =
      "SELECT at, jail, target, kind, detail, data FROM audit WHERE kind IN ('ban', 'unban', 'restored') " +
      'ORDER BY id';
    read<AuditRow>(audit, (r) => {
      if (r.target !== null) last.set(`${r.jail}\t${r.target}`, r);
    });
    for (const [key, r] of last) {
      if (out.has(key) || r.kind === 'unban') continue;
      const b = r.kind === 'ban' ? banOfAudit(r) : null;
      if (b) out.set(key, b);
    }
  } catch (e) {
    error ??= (e as Error).message;
  } finally {
    try {
      db?.close();
    } catch {
      /* damaged */
    }
  }
  return { bans: [...out.values()], fromTable, fromAudit: out.size - fromTable, error };
};

// A 'ban' audit row: detail "<reason>; until <ISO>|permanent (<duration>)", data {banCount, bantime}.
const banOfAudit = (r: AuditRow): Ban | null => {
  const target = parseCidr(r.target);
  const until = /; until (\S+) \(/.exec(r.detail)?.[1];
  if (!target || until === undefined) return null;
  const expiresAt = until === 'permanent' ? null : Date.parse(until);
  if (expiresAt !== null && Number.isNaN(expiresAt)) return null;
  let data: { banCount?: number; bantime?: number } = {};
  try {
    data = JSON.parse(r.data ?? '{}') as typeof data;
  } catch {
    /* defaults */
  }
  const bantimeSec = data.bantime ?? Math.round(((expiresAt ?? r.at) - r.at) / 1000);
  return { jail: r.jail, target, bannedAt: r.at, expiresAt, bantimeSec, banCount: data.banCount ?? 1 };
};

import Database from 'better-sqlite3';
import { execa } from 'execa';
import { parseAddr } from '../../../src/core/addr.js';
import { seqOf } from './storm-log.js';

// What the crash-storm case reads: the kernel's set (nft -j, inside the namespace) and the store (read-only).
export type Kernel = { elems: string[]; rules: number; tables: number };

const norm = (t: string): string => parseAddr(t.replace(/\/(32|128)$/, ''))?.text ?? t;

export const readKernel = async (ns: string, table: string): Promise<Kernel> => {
  const r = await execa('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { timeout: 60_000 });
  const items = (JSON.parse(r.stdout) as { nftables?: Record<string, unknown>[] }).nftables ?? [];
  const elems: string[] = [];
  let rules = 0;
  let tables = 0;
  for (const it of items) {
    const t = it.table as { name?: string } | undefined;
    if (t?.name === table) tables++;
    const s = it.set as { table?: string; elem?: unknown[] } | undefined;
    if (s?.table === table) {
      for (const e of s.elem ?? []) {
        const v = typeof e === 'object' && e !== null && 'elem' in e ? (e as { elem: { val: unknown } }).elem.val : e;
        if (typeof v === 'string') elems.push(norm(v));
      }
    }
    const rule = it.rule as { table?: string } | undefined;
    if (rule?.table === table) rules++;
  }
  return { elems, rules, tables };
};

// A read-only view of the daemon's store, kept open across kills (WAL lets a reader in while the daemon writes).
export class StoreView {
  readonly #db: Database.Database;
  readonly #count: Database.Statement;
  constructor(
    file: string,
    readonly jail: string,
  ) {
    this.#db = new Database(file, { readonly: true, fileMustExist: true });
    this.#count = this.#db.prepare('SELECT COUNT(*) AS n FROM bans WHERE jail = ?');
  }
  committed(): number {
    return (this.#count.get(this.jail) as { n: number }).n;
  }
  active(): string[] {
    return [...this.#tally("SELECT target FROM bans WHERE jail = ? AND state = 'active'").keys()];
  }
  // Every ban row (any state) and every 'ban' audit row, by address.
  banRows(): Map<string, number> {
    return this.#tally('SELECT target FROM bans WHERE jail = ?');
  }
  banAudits(): Map<string, number> {
    return this.#tally("SELECT target FROM audit WHERE jail = ? AND kind = 'ban'");
  }
  // How many times each line (by its seq) was counted: a 'found' or 'ignored' audit row quotes the line it read.
  linesSeen(): Map<number, number> {
    const rows = this.#db
      .prepare("SELECT data FROM audit WHERE jail = ? AND kind IN ('found', 'ignored')")
      .all(this.jail) as { data: string | null }[];
    const seen = new Map<number, number>();
    for (const r of rows) {
      for (const l of (JSON.parse(r.data ?? '{}') as { lines?: string[] }).lines ?? []) {
        const s = seqOf(l);
        if (s !== null) seen.set(s, (seen.get(s) ?? 0) + 1);
      }
    }
    return seen;
  }
  // Where the daemon has read the log up to (committed with the decisions of the last lines).
  offset(path: string): number {
    const r = this.#db.prepare('SELECT offset FROM positions WHERE jail = ? AND path = ?').get(this.jail, path) as
      { offset: number } | undefined;
    return r?.offset ?? 0;
  }
  close(): void {
    this.#db.close();
  }
  #tally(sql: string): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.#db.prepare(sql).all(this.jail) as { target: string }[]) {
      const k = norm(r.target);
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  }
}

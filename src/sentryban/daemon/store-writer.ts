import type { Clock, Instant } from '../../core/clock.js';
import { formatDurationSec } from '../../core/duration.js';
import { backoffMs, type RetryPolicy } from '../actions/retry.js';
import type { AuditRow } from '../store/audit.js';
import { storeFaultOf, type StoreFault } from '../store/fault.js';
import type { OpenResult, Store } from '../store/store.js';
import type { Ban, Decision, FilePosition } from '../types.js';

// Every write of the manager goes through here. When the store cannot be written (disk full, folder read-only,
// I/O errors) the daemon goes on deciding and acting from memory: the writes are kept in order in a bounded queue
// and written once a probe (1 s, doubling to 60 s) finds the store writable again, reopening the file where the
// fault calls for it. Said once when the store goes down (ERROR) and once when it is back (NOTICE).
export type StoreState = 'ok' | StoreFault['kind'];
export type Dropped = { rows: number; bans: number; unbans: number };
export type StoreHealth = {
  path: string;
  state: StoreState;
  since: Instant | null;
  queued: number;
  dropped: Dropped;
  lastError: string | null;
  nextProbeAt: Instant | null;
  probes: number;
};
type Positions = { jail: string; pos: FilePosition }[];
type Write = { at: Instant; decisions: Decision[]; positions: Positions; extra: AuditRow[] };
export type StoreWriterDeps = {
  clock: Clock;
  log: (level: 'ERROR' | 'WARNING' | 'NOTICE', text: string) => void;
  path: string;
  reopen: () => OpenResult; // a fresh handle on the file, for faults an open handle does not get over
  faultOf?: (e: unknown) => StoreFault | null; // how an error reads (default: storeFaultOf)
  // The file read into memory (Store.openCopy): while the folder is read-only or failing, reads go to it and no
  // handle stays open on the file system, so that it can be unmounted, checked and mounted again.
  copy?: () => OpenResult;
  maxQueued?: number; // decisions + audit rows held while down
  policy?: RetryPolicy;
};
export const STORE_PROBE_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 60_000, factor: 2 };
export const MAX_QUEUED = 10_000;

const sizeOf = (w: Write): number => w.decisions.length + w.extra.length;
const isState = (d: Decision): boolean => d.kind === 'ban' || d.kind === 'unban';
const mergePositions = (older: Positions, newer: Positions): Positions => {
  const m = new Map(older.map((p) => [`${p.jail}\t${p.pos.path}`, p]));
  for (const p of newer) m.set(`${p.jail}\t${p.pos.path}`, p);
  return [...m.values()];
};

export class StoreWriter {
  readonly #deps: StoreWriterDeps;
  #store: Store;
  #fault: StoreFault | null = null;
  #since: Instant | null = null;
  #queue: Write[] = [];
  #size = 0;
  #dropped: Dropped = { rows: 0, bans: 0, unbans: 0 };
  #probes = 0;
  #cancel: (() => void) | null = null;
  #nextAt: Instant | null = null;
  #stopped = false;
  #inForce: (() => Ban[]) | null = null;

  constructor(store: Store, deps: StoreWriterDeps, fault: StoreFault | null = null) {
    this.#store = store;
    this.#deps = deps;
    if (fault) this.#down(fault);
  }

  // The handle to read from (the file, or what could be read of it while it cannot be opened for writing).
  get store(): Store {
    return this.#store;
  }
  get isDown(): boolean {
    return this.#fault !== null;
  }

  // The bans inserted, or null when the write is queued: the caller then decides from what it holds in memory.
  commit(
    at: Instant,
    decisions: readonly Decision[],
    positions: Positions = [],
    extra: readonly AuditRow[] = [],
  ): Ban[] | null {
    if (this.#fault === null) {
      try {
        return this.#store.commit(at, decisions, positions, extra);
      } catch (e) {
        this.#down(this.#faultOr(e));
      }
    }
    this.#push({ at, decisions: [...decisions], positions: [...positions], extra: [...extra] });
    return null;
  }

  audit(row: AuditRow): void {
    this.commit(row.at, [], [], [row]);
  }

  // fail2ban's dbpurgeage; skipped while the store is down (null).
  purge(before: Instant): { audit: number; bans: number } | null {
    if (this.#fault !== null) return null;
    try {
      return this.#store.purge(before);
    } catch (e) {
      this.#down(this.#faultOr(e));
      return null;
    }
  }

  health(): StoreHealth {
    return {
      path: this.#deps.path,
      state: this.#fault?.kind ?? 'ok',
      since: this.#since,
      queued: this.#size,
      dropped: { ...this.#dropped },
      lastError: this.#fault ? `${this.#fault.code}: ${this.#fault.message}` : null,
      nextProbeAt: this.#nextAt,
      probes: this.#probes,
    };
  }

  // Try now (the probe's work); true when nothing is left to write.
  probe(): boolean {
    if (this.#fault === null && this.#queue.length === 0) return true;
    this.#probes++;
    if (this.#store.isCopy || this.#fault?.kind !== 'full') {
      const r = this.#deps.reopen();
      if (!r.ok) {
        this.#fault = (this.#deps.faultOf ?? storeFaultOf)(r.error) ?? { kind: 'io', code: 'OPEN', message: r.message };
        this.#release();
        this.#schedule();
        return false;
      }
      const old = this.#store;
      this.#store = r.store;
      try {
        old.close();
      } catch {
        /* a handle on a broken file */
      }
    } else {
      try {
        this.#store.checkpoint();
      } catch {
        /* still full: the write below says so */
      }
    }
    while (this.#queue.length > 0) {
      const w = this.#queue[0] as Write;
      try {
        this.#store.commit(w.at, w.decisions, w.positions, w.extra);
      } catch (e) {
        const f = (this.#deps.faultOf ?? storeFaultOf)(e);
        if (f) {
          this.#fault = f;
          this.#release();
          this.#schedule();
          return false;
        }
        // a bug, not the disk
        this.#deps.log('ERROR', `${this.#deps.path}: a queued write fails (${(e as Error).message}); dropped`);
        this.#count(w);
      }
      this.#queue.shift();
      this.#size -= sizeOf(w);
    }
    let rewritten: number;
    try {
      rewritten = this.#rewriteMissing();
    } catch (e) {
      this.#fault = this.#faultOr(e);
      this.#schedule();
      return false;
    }
    this.#up(rewritten);
    return true;
  }

  // No more probes; one last try. Returns what could not be written (and says so).
  stop(): Dropped & { queued: number } {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = null;
    this.#nextAt = null;
    if (this.#fault !== null || this.#queue.length > 0) this.probe();
    if (this.#queue.length === 0) return { rows: 0, bans: 0, unbans: 0, queued: 0 };
    const queued = this.#size;
    const earlier = this.#droppedText();
    const before = { ...this.#dropped };
    for (const w of this.#queue) this.#count(w);
    this.#queue = [];
    this.#size = 0;
    const d = this.#dropped;
    const code = this.#fault?.code ?? 'unknown';
    this.#deps.log(
      'ERROR',
      `${this.#deps.path}: still cannot be written at shutdown (${code}): ` +
        `${queued} change(s) not written, ${d.bans - before.bans} ban(s) and ${d.unbans - before.unbans} lift(s) ` +
        `among them${earlier}; ` +
        'bans known only in memory end at the next start',
    );
    return { ...d, queued };
  }

  #faultOr(e: unknown): StoreFault {
    const f = (this.#deps.faultOf ?? storeFaultOf)(e);
    if (f === null) throw e;
    return f;
  }

  #down(f: StoreFault): void {
    const was = this.#fault;
    this.#fault = f;
    if (was !== null) return;
    this.#since = this.#deps.clock.now();
    this.#release();
    this.#schedule();
    this.#deps.log(
      'ERROR',
      `${this.#deps.path}: cannot write (${f.kind}: ${f.code} ${f.message}); ` +
        `bans go on in memory and in the firewall, changes are kept in order (up to ${this.#max()}) ` +
        `and written when it works again; next try in ${this.#waitText()}`,
    );
  }

  // Not for a full disk: the open handle is what checkpoints the -wal there.
  #release(): void {
    if (this.#fault?.kind === 'full' || this.#store.isCopy || !this.#deps.copy) return;
    const r = this.#deps.copy();
    if (!r.ok) return;
    const old = this.#store;
    this.#store = r.store;
    try {
      old.close();
    } catch {
      /* a handle on a failing file system */
    }
  }

  // Bans in force that the store lost under us while it was failing (a file system that went read-only drops the
  // writes it had not yet made durable): written again from memory, which the firewall follows.
  #rewriteMissing(): number {
    const inForce = this.#inForce?.() ?? [];
    if (inForce.length === 0) return 0;
    const have = new Set(this.#store.activeBans().map((b) => `${b.jail}\t${b.target.text}`));
    const missing = inForce.filter((b) => !have.has(`${b.jail}\t${b.target.text}`));
    const why = 'written again: missing from the store after it failed';
    if (missing.length > 0) this.#store.importBans(this.#deps.clock.now(), missing, why);
    return missing.length;
  }

  // What the manager holds in force, to check the store against when it is back.
  checkAgainst(inForce: () => Ban[]): void {
    this.#inForce = inForce;
  }

  #up(rewritten = 0): void {
    const since = this.#since ?? this.#deps.clock.now();
    const wasDown = this.#fault !== null;
    const tries = this.#probes;
    this.#fault = null;
    this.#since = null;
    this.#probes = 0;
    this.#cancel?.();
    this.#cancel = null;
    this.#nextAt = null;
    if (wasDown) {
      const after = formatDurationSec(Math.round((this.#deps.clock.now() - since) / 1000));
      const again = rewritten
        ? `; ${rewritten} ban(s) in force were missing from it (lost by the file system) and are written again`
        : '';
      this.#deps.log(
        'NOTICE',
        `${this.#deps.path}: writable again after ${after} ` +
          `(${tries} tr${tries === 1 ? 'y' : 'ies'}); queued changes written in order${this.#droppedText()}${again}`,
      );
    }
    this.#dropped = { rows: 0, bans: 0, unbans: 0 };
  }

  #droppedText(): string {
    const d = this.#dropped;
    if (d.rows + d.bans + d.unbans === 0) return '';
    return `; dropped while the queue was full: ${d.bans} ban(s), ${d.unbans} lift(s), ${d.rows} audit row(s)`;
  }

  #schedule(): void {
    if (this.#stopped || this.#cancel !== null) return;
    this.#nextAt = this.#deps.clock.now() + backoffMs(this.#deps.policy ?? STORE_PROBE_POLICY, this.#probes + 2);
    this.#cancel = this.#deps.clock.at(this.#nextAt, () => {
      this.#cancel = null;
      this.#nextAt = null;
      this.probe();
    });
  }
  #waitText(): string {
    if (this.#nextAt === null) return 'never (stopping)';
    return formatDurationSec(Math.max(0, Math.round((this.#nextAt - this.#deps.clock.now()) / 1000)));
  }
  #max(): number {
    return this.#deps.maxQueued ?? MAX_QUEUED;
  }

  #push(w: Write): void {
    const last = this.#queue[this.#queue.length - 1];
    // A position alone (lines without decisions) rides with the last queued write: everything before it is queued.
    if (last && sizeOf(w) === 0) {
      last.positions = mergePositions(last.positions, w.positions);
      return;
    }
    this.#queue.push(w);
    this.#size += sizeOf(w);
    if (this.#size > this.#max()) this.#shed();
  }

  // Over the bound: per-line audit rows go first (oldest first), then whole writes, oldest first.
  #shed(): void {
    const first = this.#dropped.rows + this.#dropped.bans + this.#dropped.unbans === 0;
    for (const w of this.#queue) {
      if (this.#size <= this.#max()) break;
      const keep = w.decisions.filter(isState);
      const n = w.decisions.length - keep.length + w.extra.length;
      w.decisions = keep;
      w.extra = [];
      this.#size -= n;
      this.#dropped.rows += n;
    }
    while (this.#size > this.#max() && this.#queue.length > 1) {
      const w = this.#queue.shift() as Write;
      this.#size -= sizeOf(w);
      this.#count(w);
      const next = this.#queue[0] as Write;
      next.positions = mergePositions(w.positions, next.positions);
    }
    if (first) {
      this.#deps.log(
        'WARNING',
        `${this.#deps.path}: ${this.#max()} change(s) queued while it cannot be written; ` +
          'dropping the oldest ' +
          '(per-line audit rows first, then bans and lifts); the count is logged when it is writable again',
      );
    }
  }

  #count(w: Write): void {
    for (const d of w.decisions) {
      if (d.kind === 'ban') this.#dropped.bans++;
      else if (d.kind === 'unban') this.#dropped.unbans++;
      else this.#dropped.rows++;
    }
    this.#dropped.rows += w.extra.length;
  }
}

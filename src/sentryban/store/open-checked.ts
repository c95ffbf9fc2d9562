import { accessSync, constants, existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Instant } from '../../core/clock.js';
import { storeFaultOf, type StoreFault } from './fault.js';
import { salvageBans } from './salvage.js';
import { Store } from './store.js';
import { describeWalScan, scanWal } from './wal-scan.js';

// Opening the store after whatever happened to it. The daemon starts in every case but a bug or a newer schema:
// - a -wal cut in its last write: SQLite keeps the complete transactions; what it drops is said in one line;
// - a damaged main file (quick_check fails, or not a database): it is moved aside, a fresh store starts with the
//   bans in force that could be salvaged from it, and one line says so (never a crash loop on a bad file);
// - a folder that cannot be written (read-only, full, I/O errors): the file is read as it is (a copy in memory,
//   or an empty store when none can be read) and `fault` says why; the daemon writes once it can (store-writer).
export type StoreNote = { level: 'ERROR' | 'WARNING'; text: string };
export type CheckedOpen =
  { ok: true; store: Store; fault: StoreFault | null; notes: StoreNote[] } | { ok: false; message: string };

export const openStoreChecked = (path: string, now: Instant): CheckedOpen => {
  const notes: StoreNote[] = [];
  const wal = readIfAny(`${path}-wal`);
  const scan = wal ? scanWal(wal) : null;
  const cut = scan ? describeWalScan(`${path}-wal`, scan) : null;
  if (cut) notes.push({ level: 'WARNING', text: cut });
  const r = Store.open(path);
  if (r.ok) {
    let check: string;
    try {
      check = r.store.quickCheck();
    } catch (e) {
      check = (e as Error).message;
    }
    if (check === 'ok') return { ok: true, store: r.store, fault: null, notes };
    r.store.close();
    return moveAside(path, check, notes, now);
  }
  const fault = folderFault(path, storeFaultOf(r.error));
  if (fault?.kind === 'corrupt') return moveAside(path, r.message, notes, now);
  if (fault === null) return { ok: false, message: r.message };
  const copy = existsSync(path) ? Store.openCopy(path) : Store.open(':memory:');
  if (!copy.ok) return { ok: false, message: `${r.message}; reading it failed too: ${copy.message}` };
  if (wal && copy.store.isCopy) {
    const text = `${path}: read without its -wal (${wal.length} byte(s)) until it can be opened for writing`;
    notes.push({ level: 'WARNING', text });
  }
  return { ok: true, store: copy.store, fault, notes };
};

const moveAside = (path: string, reason: string, notes: StoreNote[], now: Instant): CheckedOpen => {
  const saved = salvageBans(path);
  const aside = `${path}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  try {
    for (const ext of ['', '-wal', '-shm']) if (existsSync(path + ext)) renameSync(path + ext, aside + ext);
  } catch (e) {
    return { ok: false, message: `${path}: damaged (${reason}) and cannot be moved aside: ${(e as Error).message}` };
  }
  const fresh = Store.open(path);
  if (!fresh.ok) {
    const message = `${path}: damaged (${reason}), moved aside to ${aside}; a fresh store fails: ${fresh.message}`;
    return { ok: false, message };
  }
  fresh.store.importBans(now, saved.bans, `salvaged from damaged store ${aside}`);
  const stopped = saved.error ? `; reading stopped at: ${saved.error}` : '';
  notes.push({
    level: 'ERROR',
    text:
      `${path}: damaged (${reason}); moved aside to ${aside}; ` +
      `fresh store started with ${saved.bans.length} ban(s) in force salvaged ` +
      `(${saved.fromTable} from its bans table, ${saved.fromAudit} from its audit trail${stopped}); ` +
      'any other ban in it is lost, and its lifted bans, ban counts, audit rows and log positions are not carried over',
  });
  return { ok: true, store: fresh.store, fault: null, notes };
};

// SQLite says "unable to open" for a read-only folder (it cannot make the -shm): ask the folder itself.
export const folderFault = (path: string, f: StoreFault | null): StoreFault | null => {
  if (f?.kind !== 'io') return f;
  try {
    accessSync(dirname(path), constants.W_OK);
    return f;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code !== 'EROFS' && code !== 'EACCES') return f;
    return { kind: 'read-only', code, message: `${dirname(path)}: ${f.message}` };
  }
};

const readIfAny = (p: string): Buffer | null => {
  try {
    return readFileSync(p);
  } catch {
    return null;
  }
};

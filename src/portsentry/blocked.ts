import { readFileSync, statSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { parseAddr, type Addr } from '../core/addr.js';
import * as L from './lines.js';

// The per-mode blocked file (BLOCKED_FILE.<mode>, truncated at start, the only "already blocked" memory) and the
// append-only history file. Both get the same line.
export type BlockedCheck = { blocked: boolean; syslog: string[] };

const HOST_FIELD = / Host: (\S*) Port: /;

// 1.2 took the first occurrence of the IP as a substring, so 11.2.3.4 made 1.2.3.4 look blocked. Here the
// address after the last "/" of the Host field is parsed and compared as a value.
export const isListedBlocked = (fileText: string, target: Addr): boolean => blockedAddrs(fileText).has(target.text);

// The addresses a blocked file lists, as Addr texts (equal hosts have equal text).
export const blockedAddrs = (fileText: string): Set<string> => {
  const out = new Set<string>();
  for (const line of fileText.split('\n')) {
    const m = HOST_FIELD.exec(line);
    if (!m) continue;
    const field = m[1] as string;
    const a = parseAddr(field.slice(field.lastIndexOf('/') + 1));
    if (a) out.add(a.text);
  }
  return out;
};

type StatKey = { key: string; size: number };

const statKey = (file: string): StatKey => {
  const s = statSync(file);
  return { key: `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`, size: s.size };
};

export class BlockedStore {
  readonly blockedFile: string;
  readonly historyFile: string;
  #cache: { key: string; addrs: Set<string> } | null = null;
  // Full reads of the blocked file (for tests: our own appends must not cause one).
  reads = 0;

  constructor(blockedFile: string, historyFile: string) {
    this.blockedFile = blockedFile;
    this.historyFile = historyFile;
  }

  // 1.2 read the file per event; here a stat per event, and a read only when it changed (an edit by hand shows
  // at once). Synchronous: a thread-pool round trip would sit between the alert and the KILL_* commands. Under a
  // flood this is what keeps the event loop free.
  isBlocked(target: Addr): BlockedCheck {
    try {
      const { key } = statKey(this.blockedFile);
      if (this.#cache?.key !== key) {
        this.reads++;
        this.#cache = { key, addrs: blockedAddrs(readFileSync(this.blockedFile, 'latin1')) };
      }
      return { blocked: this.#cache.addrs.has(target.text), syslog: [] };
    } catch {
      this.#cache = null;
      return { blocked: false, syslog: [L.blockedMissingForRead(this.blockedFile)] };
    }
  }

  // Append the line to both files; returns the syslog lines for files that could not be opened.
  async record(line: string): Promise<string[]> {
    const out: string[] = [];
    const before = this.#statOrNull();
    try {
      await appendFile(this.blockedFile, line, { mode: 0o600 });
      this.#noteOwnAppend(before, line);
    } catch {
      out.push(L.cannotOpenBlocked(this.blockedFile));
    }
    try {
      await appendFile(this.historyFile, line, { mode: 0o600 });
    } catch {
      out.push(L.cannotOpenHistory(this.historyFile));
    }
    return out;
  }

  // Our own append changes the file's stat: without this, the next probe would read and parse the whole file
  // again, after every block (a flood of 10,000 sources made that 10,000 lines, 50 times a second). The cache
  // follows the append only when the file was as cached before it and grew by exactly our line after it;
  // anything else (an edit by hand meanwhile) leaves the next isBlocked() to read the file.
  #noteOwnAppend(before: StatKey | null, line: string): void {
    const c = this.#cache;
    const after = this.#statOrNull();
    if (!c || !before || !after || c.key !== before.key || after.size !== before.size + Buffer.byteLength(line)) return;
    for (const a of blockedAddrs(line)) c.addrs.add(a);
    c.key = after.key;
  }

  #statOrNull(): StatKey | null {
    try {
      return statKey(this.blockedFile);
    } catch {
      return null;
    }
  }
}

// Truncate (or create) the blocked file at start, as 1.2's InitConfig does. False when it cannot.
export const truncateBlocked = async (file: string): Promise<boolean> => {
  try {
    await writeFile(file, '', { mode: 0o644 });
    return true;
  } catch {
    return false;
  }
};

import { readFileSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { parseAddr, type Addr } from '../core/addr.js';
import * as L from './lines.js';

// The per-mode blocked file (BLOCKED_FILE.<mode>, truncated at start, the only "already blocked" memory) and the
// append-only history file. Both get the same line.
export type BlockedCheck = { blocked: boolean; syslog: string[] };

const HOST_FIELD = / Host: (\S*) Port: /;

// 1.2 took the first occurrence of the IP as a substring, so 11.2.3.4 made 1.2.3.4 look blocked. Here the
// address after the last "/" of the Host field is parsed and compared as a value.
export const isListedBlocked = (fileText: string, target: Addr): boolean => {
  for (const line of fileText.split('\n')) {
    const m = HOST_FIELD.exec(line);
    if (!m) continue;
    const field = m[1] as string;
    const a = parseAddr(field.slice(field.lastIndexOf('/') + 1));
    if (a && a.equals(target)) return true;
  }
  return false;
};

export class BlockedStore {
  readonly blockedFile: string;
  readonly historyFile: string;

  constructor(blockedFile: string, historyFile: string) {
    this.blockedFile = blockedFile;
    this.historyFile = historyFile;
  }

  // Read synchronously, as 1.2 did per event: a small file, and a thread-pool round trip would sit between the
  // alert and the KILL_* commands.
  isBlocked(target: Addr): BlockedCheck {
    try {
      return { blocked: isListedBlocked(readFileSync(this.blockedFile, 'latin1'), target), syslog: [] };
    } catch {
      return { blocked: false, syslog: [L.blockedMissingForRead(this.blockedFile)] };
    }
  }

  // Append the line to both files; returns the syslog lines for files that could not be opened.
  async record(line: string): Promise<string[]> {
    const out: string[] = [];
    try { await appendFile(this.blockedFile, line, { mode: 0o600 }); } catch { out.push(L.cannotOpenBlocked(this.blockedFile)); }
    try { await appendFile(this.historyFile, line, { mode: 0o600 }); } catch { out.push(L.cannotOpenHistory(this.historyFile)); }
    return out;
  }
}

// Truncate (or create) the blocked file at start, as 1.2's InitConfig does. False when it cannot.
export const truncateBlocked = async (file: string): Promise<boolean> => {
  try { await writeFile(file, '', { mode: 0o644 }); return true; } catch { return false; }
};

import { stat, readFile } from 'node:fs/promises';
import type { Addr, Cidr } from '../core/addr.js';
import { isListed, ownAddresses, parseIgnore } from './ignore.js';
import * as L from './lines.js';

// The ignore step: IGNORE_FILE (re-read when it changes; 1.2 re-read it on every event), the Debian-style
// IGNORE_FILE.static beside it, and the host's own addresses (looked up per event, so they follow interfaces).
export type IgnoreVerdict = 'ignored' | 'local' | 'not-ignored';
export type IgnoreCheck = { verdict: IgnoreVerdict; syslog: string[] };

type Cached = { key: string; entries: Cidr[]; syslog: string[] };

const loadCached = async (file: string, prev: Cached | null): Promise<Cached | null> => {
  try {
    const s = await stat(file);
    const key = `${s.ino}:${s.size}:${s.mtimeMs}`;
    if (prev && prev.key === key) return prev;
    const parsed = parseIgnore(await readFile(file, 'latin1'), file);
    return { key, entries: parsed.entries, syslog: parsed.syslog };
  } catch { return null; }
};

export class IgnoreGate {
  readonly #file: string;
  #main: Cached | null = null;
  #static: Cached | null = null;
  readonly #own: () => Addr[];

  constructor(file: string, own: () => Addr[] = ownAddresses) {
    this.#file = file;
    this.#own = own;
  }

  async check(addr: Addr): Promise<IgnoreCheck> {
    this.#static = await loadCached(`${this.#file}.static`, this.#static);
    if (this.#static && isListed(this.#static.entries, addr)) return { verdict: 'ignored', syslog: [] };
    this.#main = await loadCached(this.#file, this.#main);
    if (!this.#main) {
      const verdict = this.#isOwn(addr) ? 'local' : 'not-ignored';
      return { verdict, syslog: [L.cannotOpenIgnore()] };
    }
    if (isListed(this.#main.entries, addr)) return { verdict: 'ignored', syslog: [] };
    return { verdict: this.#isOwn(addr) ? 'local' : 'not-ignored', syslog: this.#main.syslog };
  }

  #isOwn(addr: Addr): boolean { return this.#own().some((a) => a.equals(addr)); }
}

import { readFileSync, statSync } from 'node:fs';
import type { Addr, Cidr } from '../core/addr.js';
import { isListed, parseIgnore } from './ignore.js';
import * as L from './lines.js';

// The ignore step: IGNORE_FILE (re-read when it changes; 1.2 re-read it on every event), the Debian-style
// IGNORE_FILE.static beside it, and the host's own addresses (re-read at most every 100 ms, so they follow
// interfaces).
// Whether the source is one of the host's own addresses is asked separately (isOwn), after the detection line,
// which is the only place its answer is used: the alert does not wait for the interface list.
export type IgnoreVerdict = 'ignored' | 'not-ignored';
export type IgnoreCheck = { verdict: IgnoreVerdict; syslog: string[] };

// key: dev, ino, size, mtime and ctime in ns, as native/trapalert.c compares them.
type Cached = { key: bigint[]; text: string; entries: Cidr[]; syslog: string[] };

// What the fast alert path needs to decide as check() would: each file with its key (null: absent or
// unreadable), the entries of both, and `key`, which changes whenever a file's key does.
export type IgnoreSnapshot = { files: [string, bigint[] | null][]; entries: Cidr[]; key: string };

// A stat per event (what 1.2's fopen per event cost) and a read only when the file changed. Synchronous on
// purpose: a small metadata call is cheaper than a thread-pool round trip on the alert path.
const loadCached = (file: string, prev: Cached | null): Cached | null => {
  try {
    const s = statSync(file, { bigint: true, throwIfNoEntry: false });
    if (!s) return null;
    const key = [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs];
    const text = key.join(':');
    if (prev && prev.text === text) return prev;
    const parsed = parseIgnore(readFileSync(file, 'latin1'), file);
    return { key, text, entries: parsed.entries, syslog: parsed.syslog };
  } catch {
    return null;
  }
};

export class IgnoreGate {
  readonly #file: string;
  #main: Cached | null = null;
  #static: Cached | null = null;
  readonly #own: () => Addr[];
  readonly #gateways: () => Addr[];

  // own: the host's addresses, gateways: its default gateways; both kept current by the caller (OwnAddressWatch in
  // the daemon).
  constructor(file: string, own: () => Addr[], gateways: () => Addr[] = () => []) {
    this.#file = file;
    this.#own = own;
    this.#gateways = gateways;
  }

  // Both files as check() would read them now (a stat each, a read if changed), or null when check() would log
  // something before deciding (IGNORE_FILE missing, or lines 1.2 complains about on every read).
  snapshot(): IgnoreSnapshot | null {
    this.#static = loadCached(`${this.#file}.static`, this.#static);
    this.#main = loadCached(this.#file, this.#main);
    if (!this.#main || this.#main.syslog.length > 0) return null;
    const st = this.#static;
    return {
      files: [
        [`${this.#file}.static`, st ? st.key : null],
        [this.#file, this.#main.key],
      ],
      entries: [...(st ? st.entries : []), ...this.#main.entries],
      key: `${st ? st.text : '-'} ${this.#main.text}`,
    };
  }

  check(addr: Addr): IgnoreCheck {
    this.#static = loadCached(`${this.#file}.static`, this.#static);
    if (this.#static && isListed(this.#static.entries, addr)) return { verdict: 'ignored', syslog: [] };
    this.#main = loadCached(this.#file, this.#main);
    if (!this.#main) return { verdict: 'not-ignored', syslog: [L.cannotOpenIgnore()] };
    if (isListed(this.#main.entries, addr)) return { verdict: 'ignored', syslog: [] };
    return { verdict: 'not-ignored', syslog: this.#main.syslog };
  }

  isOwn(addr: Addr): boolean {
    return this.#own().some((a) => a.equals(addr));
  }
  isGateway(addr: Addr): boolean {
    return this.#gateways().some((a) => a.equals(addr));
  }
}

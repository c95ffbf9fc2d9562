import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { FilePosition, LogLine } from '../../types.js';
import { hashFirstLine, inodeOf } from './position.js';
import { DEFAULT_MAX_LINE, LineSplitter } from './line-splitter.js';

export type FollowOptions = {
  path: string;
  fromStart?: boolean; // first start without a saved position: read the whole file (default: only new lines)
  position?: FilePosition | null; // saved by the store: resume there when inode and first-line hash still match
  maxLineBytes?: number;
  now?: () => number; // epoch ms, the injected clock (LogLine.at)
};

// overlong: a line longer than maxLineBytes, skipped unmatched (its first maxLineBytes alone could read as a
// different message: an address an attacker placed right at the cut, where the real one was cut off).
export type FollowEvent = {
  kind: 'rotated' | 'truncated' | 'appeared' | 'vanished' | 'unreadable' | 'overlong'; path: string; reason?: string;
};

const CHUNK = 65536;
const decoder = new TextDecoder('utf-8', { fatal: false }); // invalid UTF-8 becomes U+FFFD, never a throw

const statOrNull = (p: string): Stats | null => { try { return statSync(p); } catch { return null; } };

// Follows one file by path: rotation by rename (drains the old file first) and by copytruncate, truncation,
// a file that appears later, partial last lines. `poll()` does one step; the caller schedules it.
export class FileFollower {
  readonly path: string;
  #fd: number | null = null;
  #inode = 0;
  #offset = 0; // just after the last complete line handed out
  #readPos = 0; // next byte to read (beyond #offset while a partial line is pending)
  #hash = '';
  #splitter: LineSplitter;
  #opts: FollowOptions;
  #started = false;
  #unreadable = '';
  #events: FollowEvent[] = [];

  constructor(opts: FollowOptions) {
    this.path = opts.path;
    this.#opts = opts;
    this.#splitter = new LineSplitter(opts.maxLineBytes);
  }

  get position(): FilePosition | null {
    return this.#fd === null ? null : { path: this.path, inode: this.#inode, offset: this.#offset, firstLineHash: this.#hash };
  }

  // Events since the last call (for logging "rotation detected" once, not per line).
  drainEvents(): FollowEvent[] { const e = this.#events; this.#events = []; return e; }

  // Resume at a saved position when the first line is still the same (fail2ban compares the first-line hash);
  // a replaced file is read from its start.
  // An unreadable file (permissions) is reported once and retried on every poll; it never throws.
  #open(startAt: 'start' | 'end' | 'saved'): boolean {
    try {
      this.#fd = openSync(this.path, 'r');
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? String(e);
      if (this.#unreadable !== reason) this.#events.push({ kind: 'unreadable', path: this.path, reason });
      this.#unreadable = reason;
      return false;
    }
    this.#unreadable = '';
    const real = fstatSync(this.#fd);
    this.#inode = inodeOf(real);
    this.#hash = hashFirstLine(this.#fd, real.size);
    const saved = this.#opts.position;
    if (startAt === 'saved' && saved && saved.firstLineHash === this.#hash && saved.offset <= real.size) this.#offset = saved.offset;
    else if (startAt === 'end') this.#offset = real.size;
    else this.#offset = 0;
    this.#readPos = this.#offset;
    this.#splitter.reset();
    return true;
  }

  #close(): void { if (this.#fd !== null) { closeSync(this.#fd); this.#fd = null; } }

  // Reads what is new; returns the complete lines in order.
  poll(): LogLine[] {
    const out: LogLine[] = [];
    const st = statOrNull(this.path);
    if (!this.#started) {
      if (!st) { this.#started = true; return out; }
      if (!this.#open(this.#opts.position ? 'saved' : this.#opts.fromStart ? 'start' : 'end')) return out;
      this.#started = true;
    }
    if (this.#fd === null) {
      if (!st || !this.#open('start')) return out;
      this.#events.push({ kind: 'appeared', path: this.path });
    } else if (!st || inodeOf(st) !== this.#inode) {
      this.#drain(out); // rename rotation: the writer may have added lines to the old file before reopening
      if (!st) return out;
      this.#close();
      if (!this.#open('start')) return out;
      this.#events.push({ kind: 'rotated', path: this.path });
    }
    const fd = this.#fd as number;
    const size = fstatSync(fd).size;
    if (size < this.#readPos) {
      this.#offset = 0; this.#readPos = 0; this.#splitter.reset(); this.#hash = hashFirstLine(fd, size);
      this.#events.push({ kind: 'truncated', path: this.path });
    } else if (this.#hash === '' && size > 0) this.#hash = hashFirstLine(fd, size);
    else if (size > this.#readPos && this.#offset > 0 && hashFirstLine(fd, size) !== this.#hash) {
      // copytruncate followed by writes past our old offset: same inode, different first line.
      this.#offset = 0; this.#readPos = 0; this.#splitter.reset(); this.#hash = hashFirstLine(fd, size);
      this.#events.push({ kind: 'rotated', path: this.path });
    }
    this.#drain(out);
    return out;
  }

  #drain(out: LogLine[]): void {
    if (this.#fd === null) return;
    const buf = Buffer.allocUnsafe(CHUNK);
    const at = this.#opts.now?.() ?? Date.now();
    for (;;) {
      const readFrom = this.#readPos;
      const n = readSync(this.#fd, buf, 0, CHUNK, readFrom);
      if (n <= 0) break;
      this.#readPos += n;
      for (const l of this.#splitter.push(buf.subarray(0, n), readFrom)) {
        this.#offset = l.endOffset;
        if (l.truncated) {
          const max = this.#opts.maxLineBytes ?? DEFAULT_MAX_LINE;
          const reason = `a line over ${max} bytes ending at byte ${l.endOffset} not matched`;
          this.#events.push({ kind: 'overlong', path: this.path, reason });
          continue;
        }
        let text = decoder.decode(l.bytes);
        if (text.endsWith('\r')) text = text.slice(0, -1);
        out.push({ text, source: this.path, at, position: { path: this.path, inode: this.#inode, offset: this.#offset, firstLineHash: this.#hash } });
      }
      if (n < CHUNK) break;
    }
  }

  close(): void { this.#close(); }
}

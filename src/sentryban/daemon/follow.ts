import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import type { FilePosition, LogLine } from '../types.js';

// A followed file until the sources stage lands: resumes at a stored position when the first line's hash still
// matches, restarts at 0 on rotation (inode change, shrink), reads on inotify events plus a slow poll.
// Only complete lines are delivered; the position is always just after the last delivered line.
export class FileFollower {
  readonly #path: string;
  readonly #onLines: (lines: LogLine[], pos: FilePosition) => void;
  #inode = -1;
  #offset = 0;
  #hash = '';
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(path: string, onLines: (lines: LogLine[], pos: FilePosition) => void) {
    this.#path = path;
    this.#onLines = onLines;
  }

  start(stored: FilePosition | undefined, tail: boolean, pollMs = 1000): void {
    const st = statOrNull(this.#path);
    if (st) {
      this.#inode = st.ino;
      this.#hash = firstLineHash(this.#path);
      if (stored && stored.inode === st.ino && stored.firstLineHash === this.#hash && st.size >= stored.offset) this.#offset = stored.offset;
      else if (stored && stored.firstLineHash !== '' && stored.firstLineHash === this.#hash && st.size >= stored.offset) this.#offset = stored.offset;
      else this.#offset = tail ? st.size : 0;
    }
    this.#watch();
    this.#timer = setInterval(() => this.poll(), pollMs);
    this.#timer.unref();
    this.poll();
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
    if (this.#timer) clearInterval(this.#timer);
  }

  #watch(): void {
    try {
      this.#watcher?.close();
      this.#watcher = watch(this.#path, { persistent: false }, () => this.poll());
      this.#watcher.on('error', () => { this.#watcher?.close(); this.#watcher = null; });
    } catch { this.#watcher = null; }
  }

  // Read whatever is new. Synchronous: lines are delivered in order, before any later event is handled.
  poll(): void {
    if (this.#stopped) return;
    const st = statOrNull(this.#path);
    if (!st) return;
    if (st.ino !== this.#inode || st.size < this.#offset) {
      this.#inode = st.ino; this.#offset = 0; this.#hash = ''; this.#watch();
    }
    if (st.size <= this.#offset) return;
    if (this.#hash === '') this.#hash = firstLineHash(this.#path);
    const fd = openSync(this.#path, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(st.size - this.#offset, 8 << 20));
      const n = readSync(fd, buf, 0, buf.length, this.#offset);
      const last = buf.lastIndexOf(10, n - 1);
      if (last < 0) return;
      const text = buf.toString('utf8', 0, last + 1);
      this.#offset += last + 1;
      const at = Date.now();
      const lines = text.split('\n');
      lines.pop();
      const pos: FilePosition = { path: this.#path, inode: this.#inode, offset: this.#offset, firstLineHash: this.#hash };
      this.#onLines(lines.map((t) => ({ text: t, source: this.#path, at })), pos);
      if (n === buf.length) setImmediate(() => this.poll());
    } finally { closeSync(fd); }
  }
}

const statOrNull = (p: string): { ino: number; size: number } | null => {
  try { const s = statSync(p); return { ino: s.ino, size: s.size }; } catch { return null; }
};

// MD5 of the first line including its newline, as fail2ban keys positions; '' until the first line is complete.
const firstLineHash = (path: string): string => {
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const nl = buf.subarray(0, n).indexOf(10);
      return nl < 0 ? '' : createHash('md5').update(buf.subarray(0, nl + 1)).digest('hex');
    } finally { closeSync(fd); }
  } catch { return ''; }
};

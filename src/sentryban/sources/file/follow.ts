import { closeSync, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import type { FilePosition, LogLine } from '../../types.js';
import { hashFirstLine, hashFirstLineOf, hashLine, inodeOf } from './position.js';
import { DEFAULT_MAX_LINE, LineSplitter } from './line-splitter.js';
import { readToEnd, RotatedFiles, type RotatedLine } from './rotated.js';

export type FollowOptions = {
  path: string;
  fromStart?: boolean; // first start without a saved position: read the whole file (default: only new lines)
  position?: FilePosition | null; // saved by the store: resume there when inode and first-line hash still match
  maxLineBytes?: number;
  now?: () => number; // epoch ms, the injected clock (LogLine.at)
};

export type FollowEvent = {
  kind: 'rotated' | 'truncated' | 'appeared' | 'vanished' | 'unreadable' | 'overlong';
  path: string;
  reason?: string;
};

const decoder = new TextDecoder('utf-8', { fatal: false }); // invalid UTF-8 becomes U+FFFD, never a throw

const statOrNull = (p: string): Stats | null => {
  try {
    return statSync(p);
  } catch {
    return null;
  }
};

// Follows one file by path: rotation by rename (the old file is read until the writer has moved to the new one)
// and by copytruncate (the copy is read from where we were), several rotations between two polls (rotated.ts),
// truncation, a file that appears later, partial last lines. `poll()` does one step; the caller schedules it.
export class FileFollower {
  readonly path: string;
  #fd: number | null = null;
  #inode = 0;
  #offset = 0; // just after the last complete line handed out
  #readPos = 0; // next byte to read (beyond #offset while a partial line is pending)
  #hash = '';
  #mtimeMs = 0;
  #splitter: LineSplitter;
  #opts: FollowOptions;
  #started = false;
  #unreadable = '';
  #events: FollowEvent[] = [];
  #rotated: RotatedFiles;

  constructor(opts: FollowOptions) {
    this.path = opts.path;
    this.#opts = opts;
    this.#splitter = new LineSplitter(opts.maxLineBytes);
    this.#rotated = new RotatedFiles(opts.path, opts.maxLineBytes);
  }

  get position(): FilePosition | null {
    return this.#fd === null
      ? null
      : { path: this.path, inode: this.#inode, offset: this.#offset, firstLineHash: this.#hash };
  }

  // Events since the last call (for logging "rotation detected" once, not per line).
  drainEvents(): FollowEvent[] {
    const e = this.#events;
    this.#events = [];
    return e;
  }

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
    if (startAt === 'saved' && saved && saved.firstLineHash === this.#hash && saved.offset <= real.size)
      this.#offset = saved.offset;
    else if (startAt === 'end') this.#offset = real.size;
    else this.#offset = 0;
    this.#readPos = this.#offset;
    this.#splitter = new LineSplitter(this.#opts.maxLineBytes);
    return true;
  }

  #close(): void {
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
  }

  // Reads what is new; returns the complete lines in order (the rotated files' last lines first).
  poll(): LogLine[] {
    const out: LogLine[] = [];
    const st = statOrNull(this.path);
    if (!this.#started) {
      this.#rotated.ignoreExisting();
      if (!st) {
        this.#started = true;
        return out;
      }
      if (!this.#open(this.#opts.position ? 'saved' : this.#opts.fromStart ? 'start' : 'end')) return out;
      this.#started = true;
    }
    if (this.#fd === null) {
      if (!st || !this.#open('start')) return out;
      this.#events.push({ kind: 'appeared', path: this.path });
    }
    const fd = this.#fd as number;
    this.#rotated.scan({
      inode: this.#inode,
      hash: this.#hash,
      offset: this.#offset,
      hashNow: () => hashFirstLine(fd, fstatSync(fd).size),
      pathHashNow: () => hashFirstLineOf(this.path),
    });
    this.#checkRewritten(fd);
    if (st && inodeOf(st) !== this.#inode) {
      // rename rotation: the old file is read on (late writes through the writer's fd) until the new one has data
      this.#rotated.renamed({ fd, inode: this.#inode, readPos: this.#readPos, splitter: this.#splitter }, this.#hash);
      this.#fd = null;
      if (this.#open('start')) this.#events.push({ kind: 'rotated', path: this.path });
    }
    const at = this.#opts.now?.() ?? Date.now();
    const pos = this.position ?? undefined; // lines of rotated files carry the position in the followed file
    // The writer has moved on when the newest file, the one at the path now (maybe rotated in since our stat
    // above), has data: ask the path, not our fd.
    const newest = statOrNull(this.path);
    this.#rotated.drain(newest !== null && newest.size > 0, (l) => {
      if (l.truncated) this.#events.push(this.#overlong(l));
      else out.push(this.#line(l, at, pos));
    });
    this.#drain(out, at);
    return out;
  }

  // The same file truncated (copytruncate, or `> file`), or truncated and written past our offset already
  // (same inode, another first line): read it again from its start, and the copy from where we were.
  #checkRewritten(fd: number): void {
    const st = fstatSync(fd);
    const size = st.size;
    const touched = st.mtimeMs !== this.#mtimeMs; // written to since the last poll, maybe back to the same size
    this.#mtimeMs = st.mtimeMs;
    let kind: 'truncated' | 'rotated' | null = null;
    if (size < this.#readPos) kind = 'truncated';
    else if (this.#hash === '' && size > 0) this.#hash = hashFirstLine(fd, size);
    // (even before a first complete line was handed out: the copy then holds lines we never read)
    else if ((size > this.#readPos || (touched && size > 0)) && this.#hash !== '') {
      if (hashFirstLine(fd, size) !== this.#hash) kind = 'rotated';
    }
    if (kind !== null) this.#rewritten(fd, kind);
  }

  #rewritten(fd: number, kind: 'truncated' | 'rotated'): void {
    this.#rotated.truncated(this.#hash, this.#offset);
    this.#offset = 0;
    this.#readPos = 0;
    this.#splitter.reset();
    this.#hash = hashFirstLine(fd, fstatSync(fd).size);
    this.#events.push({ kind, path: this.path });
  }

  // A line cut at maxLineBytes is never matched: an address placed at the cut would be read as the line's end.
  #overlong(l: RotatedLine): FollowEvent {
    const max = this.#opts.maxLineBytes ?? DEFAULT_MAX_LINE;
    return {
      kind: 'overlong',
      path: this.path,
      reason: `a line over ${max} bytes ending at byte ${l.endOffset} not matched`,
    };
  }

  #line(l: RotatedLine, at: number, position: FilePosition | undefined): LogLine {
    let text = decoder.decode(l.bytes);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return position ? { text, source: this.path, at, position } : { text, source: this.path, at };
  }

  // A copytruncate between our check and our read makes the read start in the middle of the new content: the
  // first line is checked again after reading (against the one we read when we read from the start of an empty
  // file), and a read that raced with a truncation is dropped and done again (the copy, read from where we were,
  // and the file from its start hold those lines).
  #drain(out: LogLine[], at: number): void {
    for (let attempt = 0; this.#fd !== null && attempt < 3; attempt++) {
      const fd = this.#fd;
      const lines: LogLine[] = [];
      const offset = this.#offset;
      const readPos = this.#readPos;
      const overlong: FollowEvent[] = [];
      let read = 0;
      let expect = this.#hash;
      this.#readPos = readToEnd(fd, readPos, this.#splitter, (l) => {
        const first = read++ === 0 && readPos === 0 && !l.truncated && l.bytes.length < 65536;
        if (expect === '' && first) expect = hashLine(l.bytes);
        this.#offset = l.endOffset;
        if (l.truncated) {
          overlong.push(this.#overlong(l));
          return;
        }
        const position = { path: this.path, inode: this.#inode, offset: this.#offset, firstLineHash: expect };
        lines.push(this.#line(l, at, position));
      });
      const now = read && expect !== '' ? hashFirstLine(fd, fstatSync(fd).size) : expect;
      if (now === expect) {
        this.#hash = expect;
        for (const l of lines) out.push(l);
        this.#events.push(...overlong);
        return;
      }
      this.#offset = offset;
      this.#readPos = readPos;
      this.#rewritten(fd, 'rotated');
    }
  }

  close(): void {
    this.#close();
    this.#rotated.close();
  }
}

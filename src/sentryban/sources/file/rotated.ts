import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LineSplitter } from './line-splitter.js';
import { hashFirstLine, inodeOf } from './position.js';

// The rotated files of a followed log: what the follower must still read after a rotation it saw late.
// - the old file after a rename: the writer keeps appending through its open fd until it reopens, so it stays
//   open and is read again on every poll until the new file has data (then the writer has moved on);
// - files rotated away between two polls (several rotations in one interval): read from their start;
// - the copy made by copytruncate: read from the follower's offset once the truncation is seen (the lines written
//   after the follower's last read and before the copy exist only there).
// Siblings are logrotate's names: path.1, path-20261206, ... (compressed ones cannot hold unread lines we could
// read, and are skipped). Their inodes tell known from new ones; the folder's mtime says when to look again.
const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|lzma|Z|zip)$/;
const MAX_OPEN = 32; // retired files kept open at most; the oldest is read to its end and closed first
const MAX_SEEN = 1024; // first lines remembered with our offset in them (a late-found copy is read from there)
const UNDECIDED_MS = 2000; // a new empty sibling is looked at again for this long (a copy being written)
const COARSE_MS = 50; // file times tick coarsely: a scan this close to the folder's mtime may have missed a change

export type RotatedLine = { bytes: Buffer; endOffset: number; truncated: boolean };
type Open = { fd: number; inode: number; readPos: number; splitter: LineSplitter };
type Undecided = { fd: number; inode: number; since: number };
// The followed file: inode, the first-line hash we read under and our offset, its first line now, and the first
// line of the file at the path now (another one when it was rotated since our last poll).
export type Current = { inode: number; hash: string; offset: number; hashNow: () => string; pathHashNow: () => string };

export const rotatedSiblings = (path: string): string[] => {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter(
      (n) =>
        n.length > base.length && n.startsWith(base) && '.-_'.includes(n[base.length] as string) && !COMPRESSED.test(n),
    )
    .map((n) => join(dir, n));
};

// Reads fd from readPos to its end through splitter; returns the new read position.
export const readToEnd = (
  fd: number,
  readPos: number,
  splitter: LineSplitter,
  emit: (l: RotatedLine) => void,
): number => {
  const buf = Buffer.allocUnsafe(65536);
  let pos = readPos;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) return pos;
    for (const l of splitter.push(buf.subarray(0, n), pos)) emit(l);
    pos += n;
    if (n < buf.length) return pos;
  }
};

export class RotatedFiles {
  readonly #path: string;
  readonly #maxLineBytes: number | undefined;
  #known = new Set<number>(); // inodes read or to ignore (there before we started)
  #retired: Open[] = [];
  #copies = new Map<number, { fd: number; hash: string }>(); // copytruncate copies waiting for the truncation
  #undecided = new Map<number, Undecided>();
  #readUnder = new Map<string, number>(); // first-line hash of a file we followed -> offset we had reached in it
  #dirStamp = '';
  #scannedAt = 0;

  constructor(path: string, maxLineBytes?: number) {
    this.#path = path;
    this.#maxLineBytes = maxLineBytes;
  }

  // At the first open: the siblings already there are history, not ours to read.
  ignoreExisting(): void {
    for (const p of rotatedSiblings(this.#path)) {
      try {
        this.#known.add(inodeOf(statSync(p)));
      } catch {
        /* gone */
      }
    }
    this.#stamp();
  }

  #stamp(): boolean {
    let st;
    try {
      st = statSync(dirname(this.#path));
    } catch {
      return false;
    }
    const stamp = `${st.mtimeMs}:${st.ctimeMs}`;
    const now = Date.now();
    const changed = stamp !== this.#dirStamp || this.#scannedAt - st.mtimeMs < COARSE_MS;
    this.#dirStamp = stamp;
    if (changed) this.#scannedAt = now;
    return changed;
  }

  // Looks for new siblings when the folder changed. `current` is the followed file (inode, the first-line hash we
  // read under, and its first line now): a sibling with that first line is a copy of it.
  scan(current: Current): void {
    this.#known.add(current.inode);
    for (const u of this.#undecided.values()) this.#classify(u.fd, u.inode, u.since, current);
    if (this.#stamp()) {
      for (const p of rotatedSiblings(this.#path)) {
        let fd: number;
        try {
          fd = openSync(p, 'r');
        } catch {
          continue;
        }
        const inode = inodeOf(fstatSync(fd));
        if (this.#known.has(inode) || this.#copies.has(inode) || this.#undecided.has(inode)) closeSync(fd);
        else this.#classify(fd, inode, Date.now(), current);
      }
    }
    // A copy whose first line the followed file no longer starts with: the truncation happened, maybe unseen (the
    // file was empty or not yet read when we last looked, and is already written past where we were).
    if (this.#copies.size === 0) return;
    const now = current.hashNow();
    const atPath = current.pathHashNow();
    for (const [inode, c] of this.#copies) {
      if (c.hash === now || c.hash === atPath) continue;
      this.#copies.delete(inode);
      const from = c.hash === current.hash ? Math.min(current.offset, fstatSync(c.fd).size) : 0;
      this.#retire({ fd: c.fd, inode, readPos: from, splitter: new LineSplitter(this.#maxLineBytes) });
    }
  }

  #classify(fd: number, inode: number, since: number, current: Current): void {
    const size = fstatSync(fd).size;
    const hash = hashFirstLine(fd, size);
    if (hash === '') {
      if (Date.now() - since < UNDECIDED_MS) {
        this.#undecided.set(inode, { fd, inode, since });
        return;
      }
      this.#undecided.delete(inode);
      closeSync(fd);
      this.#known.add(inode);
      return;
    }
    this.#undecided.delete(inode);
    const seen = this.#readUnder.get(hash);
    // a copy of the followed file, or of the file at the path that we are about to follow: wait for its truncation
    if (hash === current.hash || hash === current.hashNow() || hash === current.pathHashNow()) {
      this.#copies.set(inode, { fd, hash });
      return;
    }
    this.#retire({ fd, inode, readPos: Math.min(seen ?? 0, size), splitter: new LineSplitter(this.#maxLineBytes) });
  }

  // The followed file was truncated (copytruncate): its copy holds what we had not read yet, after `offset`
  // when the copy starts with the first line we were reading under (`hash`), else all of it.
  truncated(hash: string, offset: number): void {
    this.#remember(hash, offset);
    for (const [inode, c] of this.#copies) {
      const from = c.hash === hash ? Math.min(offset, fstatSync(c.fd).size) : 0;
      this.#retire({ fd: c.fd, inode, readPos: from, splitter: new LineSplitter(this.#maxLineBytes) });
    }
    this.#copies.clear();
  }

  // The followed file was renamed away (its fd is handed over): copies of it are contained in it.
  renamed(old: Open, hash: string): void {
    this.#remember(hash, Number.MAX_SAFE_INTEGER);
    for (const [inode, c] of this.#copies) {
      if (c.hash !== hash) continue;
      closeSync(c.fd);
      this.#known.add(inode);
      this.#copies.delete(inode);
    }
    this.#retire(old);
  }

  // A copy found after its truncation was handled (copyFileSync creates it empty first) starts with a first line
  // we read under before: read it from where we were then, not again from its start.
  #remember(hash: string, offset: number): void {
    if (hash === '') return;
    this.#readUnder.delete(hash);
    this.#readUnder.set(hash, offset);
    if (this.#readUnder.size > MAX_SEEN) this.#readUnder.delete(this.#readUnder.keys().next().value as string);
  }

  #retire(o: Open): void {
    this.#known.add(o.inode);
    this.#retired.push(o);
  }

  // Reads every retired file to its end; closes them when the writer has moved on: `currentHasData` was measured
  // before these reads, so nothing more can arrive in them (one writer appends to one file at a time). At most
  // MAX_OPEN stay open; the oldest are closed first.
  drain(currentHasData: boolean, emit: (l: RotatedLine) => void): void {
    const done = currentHasData ? this.#retired.length : Math.max(0, this.#retired.length - MAX_OPEN);
    this.#retired.forEach((o, i) => {
      o.readPos = readToEnd(o.fd, o.readPos, o.splitter, emit);
      if (i < done) closeSync(o.fd);
    });
    this.#retired = this.#retired.slice(done);
  }

  close(): void {
    for (const o of this.#retired) closeSync(o.fd);
    for (const c of this.#copies.values()) closeSync(c.fd);
    for (const u of this.#undecided.values()) closeSync(u.fd);
    this.#retired = [];
    this.#copies.clear();
    this.#undecided.clear();
  }
}

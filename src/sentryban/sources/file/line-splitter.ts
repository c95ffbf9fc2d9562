// The one splitter of bytes into lines (the file follower, `sentryban regex`): keeps a partial last line until its
// newline arrives. Lines longer than maxBytes are cut at maxBytes (the rest up to the newline is dropped) so one
// huge line cannot exhaust memory; Infinity keeps every line whole.
export const DEFAULT_MAX_LINE = 1024 * 1024;
export type SplitLine = { bytes: Buffer; endOffset: number; truncated: boolean };
const NEWLINE = Buffer.from('\n');

export class LineSplitter {
  #parts: Buffer[] = [];
  #partLen = 0;
  #dropping = false;
  #maxBytes: number;
  constructor(maxBytes = DEFAULT_MAX_LINE) {
    this.#maxBytes = maxBytes;
  }

  get pendingBytes(): number {
    return this.#partLen;
  }
  reset(): void {
    this.#parts = [];
    this.#partLen = 0;
    this.#dropping = false;
  }

  // `chunk` starts at file offset `offset`; returns complete lines with the offset just after each newline.
  push(chunk: Buffer, offset: number): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.#append(chunk.subarray(start, nl));
      const bytes = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#partLen);
      out.push({ bytes: Buffer.from(bytes), endOffset: offset + nl + 1, truncated: this.#dropping });
      this.reset();
      start = nl + 1;
    }
    if (start < chunk.length) this.#append(chunk.subarray(start));
    return out;
  }

  // The lines `chunk` completes as one block of bytes, each with its newline (the kept partial line first), or
  // null when it completes none: for readers that decode many lines at once. The block may share memory with
  // `chunk`; the bytes after its last newline are kept. Lines are cut to maxBytes as push() cuts them.
  pushBlock(chunk: Buffer): Buffer | null {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      this.#append(chunk);
      return null;
    }
    let head = 0;
    const parts: Buffer[] = [];
    if (this.#partLen > 0 || this.#dropping) {
      head = chunk.indexOf(10) + 1;
      this.#append(chunk.subarray(0, head - 1));
      parts.push(...this.#parts, NEWLINE);
    }
    // Only a stretch longer than maxBytes can hold a line to cut.
    if (last - head > this.#maxBytes) parts.push(...this.#cutLines(chunk.subarray(head, last + 1)));
    else parts.push(chunk.subarray(head, last + 1));
    this.reset();
    if (last + 1 < chunk.length) this.#append(chunk.subarray(last + 1));
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  // Whole lines (each ending in a newline), each cut to maxBytes.
  #cutLines(lines: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let start = 0, nl = lines.indexOf(10); nl >= 0; start = nl + 1, nl = lines.indexOf(10, start)) {
      if (nl - start <= this.#maxBytes) out.push(lines.subarray(start, nl + 1));
      else out.push(lines.subarray(start, start + this.#maxBytes), NEWLINE);
    }
    return out;
  }

  #append(b: Buffer): void {
    if (b.length === 0) return;
    const room = this.#maxBytes - this.#partLen;
    if (room <= 0) {
      this.#dropping = true;
      return;
    }
    const take = b.length > room ? b.subarray(0, room) : b;
    if (b.length > room) this.#dropping = true;
    this.#parts.push(Buffer.from(take));
    this.#partLen += take.length;
  }
}

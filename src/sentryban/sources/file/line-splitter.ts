// Splits bytes into lines; keeps a partial last line until its newline arrives. Lines longer than maxBytes are
// cut at maxBytes (the rest up to the newline is dropped) so one huge line cannot exhaust memory.
export const DEFAULT_MAX_LINE = 1024 * 1024;
export type SplitLine = { bytes: Buffer; endOffset: number; truncated: boolean };

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

import { closeSync, createReadStream, openSync, readSync, statSync, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LineSplitter } from '../sources/file/line-splitter.js';

// The logs `sentryban replay` reads: a file (gzip-compressed or not, told by its first bytes) or `-` for stdin.
// Each is read in chunks through the one line splitter; a cursor hands out its lines one at a time, each with its
// "\n" (the matcher cuts its regex buffer from it; "\r\n" comes without both), and its line number.
export type InputError = { path: string; reason: string };
type Opened = { name: string; stream: Readable; file: ReadStream | null; size: number };

const GZIP = [0x1f, 0x8b];
const CHUNK = 1 << 16;
const reasonOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

// Checks every input can be read before anything is replayed: the first that cannot is the error.
export const openInputs = (paths: readonly string[], stdin: Readable): Opened[] | InputError => {
  const out: Opened[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push({ name: 'stdin', stream: stdin, file: null, size: 0 });
      continue;
    }
    let gz: boolean;
    let size: number;
    try {
      const st = statSync(path);
      if (st.isDirectory()) return { path, reason: 'EISDIR' };
      size = st.size;
      const fd = openSync(path, 'r');
      const head = Buffer.alloc(2);
      try {
        gz = readSync(fd, head, 0, 2, 0) === 2 && head[0] === GZIP[0] && head[1] === GZIP[1];
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      return { path, reason: reasonOf(e) };
    }
    const file = createReadStream(path, { highWaterMark: CHUNK });
    out.push({ name: path, stream: gz ? file.pipe(createGunzip({ chunkSize: CHUNK })) : file, file, size });
    // A gunzip error is the stream's to report; a file error is forwarded to it, so that one reader sees both.
    if (gz) file.on('error', (e) => (out.at(-1) as Opened).stream.destroy(e));
  }
  return out;
};

const decoder = new TextDecoder('utf-8', { fatal: false });

export class LineCursor {
  readonly name: string;
  readonly #input: Opened;
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #splitter = new LineSplitter(Infinity);
  #lines: string[] = [];
  #i = 0;
  #lineNo = 0;
  #ended = false;

  constructor(input: Opened) {
    this.name = input.name;
    this.#input = input;
    this.#chunks = (input.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  // The current line (with its "\n", the last line of the input maybe without), or null at the end.
  get text(): string | null {
    return this.#i < this.#lines.length ? (this.#lines[this.#i] as string) : null;
  }
  get lineNo(): number {
    return this.#lineNo;
  }
  // Bytes of the file read so far (compressed bytes for a .gz), for the progress bar.
  get bytesRead(): number {
    return this.#input.file?.bytesRead ?? 0;
  }
  get size(): number {
    return this.#input.size;
  }

  // Moves to the next line; false at the end of the input. Reads a chunk only when the lines read are used up.
  async next(): Promise<boolean> {
    this.#i++;
    while (this.#i >= this.#lines.length) {
      if (this.#ended) return false;
      await this.#fill();
    }
    this.#lineNo++;
    return true;
  }

  async #fill(): Promise<void> {
    this.#lines = [];
    this.#i = 0;
    const r = await this.#chunks.next();
    if (r.done) {
      this.#ended = true;
      // The last line without its newline is still a line of the log.
      const rest = this.#splitter.pushBlock(Buffer.from('\n'));
      if (rest && rest.length > 1) this.#lines.push(decoder.decode(rest));
      return;
    }
    const block = this.#splitter.pushBlock(r.value);
    if (!block) return;
    const text = decoder.decode(block);
    for (let start = 0, nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start))
      this.#lines.push(
        nl > start && text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl + 1),
      );
  }

  close(): void {
    this.#input.stream.destroy();
    this.#input.file?.destroy();
  }
}

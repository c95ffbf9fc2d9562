import { closeSync, createReadStream, openSync, readSync, statSync, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LineSplitter } from '../sources/file/line-splitter.js';

// The logs `sentryban replay` reads: a file (gzip-compressed or not, told by its first bytes) or `-` for stdin.
// Each is read in chunks through the one line splitter; a cursor hands out its lines one at a time, each with its
// "\n" (the matcher cuts its regex buffer from it; "\r\n" comes without both), and its line number.
export type InputError = { path: string; reason: string };
// A plain file is kept open (fd) and read with readSync; a .gz file and stdin are streams.
type Opened = { name: string; fd: number | null; stream: Readable | null; file: ReadStream | null; size: number };

const GZIP = [0x1f, 0x8b];
const CHUNK = 1 << 16;
const reasonOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

const closeAll = (opened: readonly Opened[]): void => {
  for (const o of opened) if (o.fd !== null) closeSync(o.fd);
};

// Opens every input before anything is replayed: the first that cannot be read is the error (nothing left open).
export const openInputs = (paths: readonly string[], stdin: Readable): Opened[] | InputError => {
  const out: Opened[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push({ name: 'stdin', fd: null, stream: stdin, file: null, size: 0 });
      continue;
    }
    let fd: number;
    let gz: boolean;
    let size: number;
    try {
      const st = statSync(path);
      if (st.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
      size = st.size;
      fd = openSync(path, 'r');
      const head = Buffer.alloc(2);
      gz = readSync(fd, head, 0, 2, 0) === 2 && head[0] === GZIP[0] && head[1] === GZIP[1];
    } catch (e) {
      closeAll(out);
      return { path, reason: reasonOf(e) };
    }
    if (!gz) {
      out.push({ name: path, fd, stream: null, file: null, size });
      continue;
    }
    const file = createReadStream(path, { fd, highWaterMark: CHUNK });
    const stream = file.pipe(createGunzip({ chunkSize: CHUNK }));
    // A file error is forwarded to the gunzip stream, so that one reader sees both.
    file.on('error', (e) => stream.destroy(e));
    out.push({ name: path, fd: null, stream, file, size });
  }
  return out;
};

const decoder = new TextDecoder('utf-8', { fatal: false });

export class LineCursor {
  readonly name: string;
  readonly #input: Opened;
  readonly #chunks: AsyncIterator<Buffer> | null;
  readonly #splitter = new LineSplitter(Infinity);
  #lines: string[] = [];
  #i = 0;
  #lineNo = 0;
  #ended = false;
  #fd: number | null;
  #buf = Buffer.allocUnsafe(CHUNK);
  #bytes = 0;

  constructor(input: Opened) {
    this.name = input.name;
    this.#input = input;
    this.#fd = input.fd;
    this.#chunks = input.stream ? (input.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]() : null;
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
    return this.#fd !== null ? this.#bytes : (this.#input.file?.bytesRead ?? 0);
  }
  get size(): number {
    return this.#input.size;
  }

  // Moves to the next line when one is read already (the common case: no promise per line); false when the
  // lines read are used up, and then fill() reads on.
  step(): boolean {
    if (++this.#i >= this.#lines.length) return false;
    this.#lineNo++;
    return true;
  }
  // Reads until a line is there (then current) or the input ends (false).
  async fill(): Promise<boolean> {
    while (this.#i >= this.#lines.length) {
      if (this.#ended) return false;
      const chunk = this.#chunks ? await this.#chunks.next() : this.#readSync();
      this.#take(chunk);
    }
    this.#lineNo++;
    return true;
  }

  // A plain file is read with readSync, as `sentryban regex` reads it: no promise per chunk either.
  #readSync(): IteratorResult<Buffer> {
    const r = readSync(this.#fd as number, this.#buf, 0, CHUNK, null);
    this.#bytes += r;
    return r > 0 ? { done: false, value: this.#buf.subarray(0, r) } : { done: true, value: undefined };
  }

  #take(r: IteratorResult<Buffer>): void {
    this.#lines = [];
    this.#i = 0;
    if (r.done) {
      this.#ended = true;
      // The last line without its newline is still a line of the log.
      const rest = this.#splitter.pushBlock(Buffer.from('\n'));
      if (rest && rest.length > 1) this.#lines.push(decoder.decode(rest));
      return;
    }
    const block = this.#splitter.pushBlock(r.value);
    if (!block) return;
    const text = decoder.decode(block); // before the next read reuses the buffer, which `block` may share
    for (let start = 0, nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start))
      this.#lines.push(
        nl > start && text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl + 1),
      );
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    this.#input.stream?.destroy();
    this.#input.file?.destroy();
  }
}

import { parseAddr } from '../../core/addr.js';
import { idOfParsed, type Id, type IdOf } from '../filters/addr-ids.js';
import type { Filter } from '../filters/filter.js';
import { newTimedLineMatcher, type TimedLineMatcher } from '../daemon/line-matcher.js';
import { countedHit, type Hit } from '../filters/matcher.js';
import type { Failure, LogLine } from '../types.js';
import { skipped } from './regex-lines.js';
import type { LineCursor } from './replay-input.js';

// The matching half of `sentryban replay`: its inputs read, every dated line in the window matched by every
// jail's filter (one matcher per input and jail, in the input's order), the inputs merged in time order (the first
// given on a tie), as batches of compact records. What a line's filters find does not depend on the jails'
// state, so this half can run ahead of the decisions, on this thread or in a worker (replay-thread.ts); the other
// half (replay.ts) reads the records back in order and runs the jails. A batch is numbers in one Float64Array
// and texts in one UTF-8 buffer (both transferable), and a small string (own ids, extras):
//   per line with failures: time, line number, input index, k (jails with failures in the line), the length in
//                bytes of the line's text (with its "\n"; the text itself is in `bytes`, as UTF-8: the jails'
//                thread decodes it only when the timeline prints it, see LazyLine)
//   per run of lines without failures (between two lines with failures, or at a batch's end): the latest of their
//                times, minus their count (the jails only count them and move their clock)
//   per jail:    jail index, n (its failures)
//   per failure: time, cidr (-1: none), the length of its own id (-1: none, the id is its address's), where its
//                address text is: its offset in the line's text when the line is ASCII and holds it (the
//                common case: no bytes written twice), else -1; then its length in bytes (within the line, or
//                in `bytes` after the line's text; minus its length in characters when it is in the strings
//                instead: a text that UTF-8 cannot carry as is), the length of its extra
// The address texts are as the filter captured them, not parsed nor looked up here: the reader parses each
// distinct text once (through ipaddr.js) and makes the ids from it as the daemon's matcher does (idOfParsed).
// Parsing, the id cache, then numbering the texts in a Map (a text cut from its line compares slowly) cost the
// matching thread, which the wall time waits for, ~0.6 s of CPU on 1M varied sshd lines (35,000 addresses);
// the reader's lookups are of flat texts.
// Extra: for a jail with an ignorecommand only, the failure's groups, user and lines as JSON (the command's tags);
// the jails themselves read only id, addr, cidr and time.
export type FeedEnd = { kind: 'nodate'; message: string } | { kind: 'io'; reason: string };
export type Batch = {
  nums: Float64Array; // its first `used` numbers
  used: number;
  strs: string;
  bytes: Uint8Array; // the texts of its lines with failures and of their addresses, UTF-8 (transferred)
  bytesRead: number; // of all inputs, after this batch (for the progress bar)
  end: FeedEnd | null; // the replay stops after this batch (else: more, or done)
  done: boolean; // the last batch
};
export type FeedJail = { filter: Filter; command: boolean };

const BATCH_LINES = 4096;

// A text with surrogates goes as a string: a lone one would not come back from UTF-8 as it was.
const SURROGATE = /[\uD800-\uDFFF]/;
const IDS_MAX = 1 << 17; // address texts whose ids the reader keeps (then cleared)

// A batch's line texts as UTF-8 bytes: no string built per batch nor copied by postMessage (the buffer is
// transferred), no string cut per line on the jails' thread (most lines are only counted, never printed).
class Bytes {
  a: Buffer;
  n = 0;
  constructor(size: number) {
    this.a = Buffer.from(new ArrayBuffer(size));
  }
  put(text: string): number {
    if (this.n + 3 * text.length > this.a.length) {
      const b = Buffer.from(new ArrayBuffer(Math.max(this.a.length * 2, this.n + 3 * text.length)));
      this.a.copy(b, 0, 0, this.n);
      this.a = b;
    }
    const k = this.a.write(text, this.n, 'utf8');
    this.n += k;
    return k;
  }
}

// A batch's numbers, written straight into the array after room() made space for a record.
class Nums {
  a: Float64Array;
  n = 0;
  constructor(size: number) {
    this.a = new Float64Array(size);
  }
  room(k: number): Float64Array {
    if (this.n + k > this.a.length) {
      const b = new Float64Array(Math.max(this.a.length * 2, this.n + k));
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
    return this.a;
  }
}

// A matcher's ids on the matching thread: the address text itself (or the failure's own id), not parsed; the
// texts given on the line just matched, by the id made of each, for the record.
class RawIds {
  readonly #texts: string[] = [];
  readonly #ids: string[] = [];
  #n = 0; // given on this line (a count, not the arrays' length: setting that is a call per line)
  readonly idOf: IdOf = (text, cidr, fid) => {
    const id = fid ?? text;
    this.#texts[this.#n] = text;
    this.#ids[this.#n++] = id;
    return cidr === undefined ? { id, addr: null } : { id, addr: null, cidr };
  };
  clear(): void {
    this.#n = 0;
  }
  // The address text of the failure with this id (the matcher makes the ids of a line's failures here).
  textOf(id: string): string {
    let i = this.#n - 1;
    while (i > 0 && this.#ids[i] !== id) i--;
    return this.#texts[i] as string;
  }
}

// A failure as the record reads it: a Failure, or the hit it is made of (Matcher's countOnly).
type Counted = { id: string; cidr?: number; time: number };
const countedHits = (hits: Hit[]): readonly Counted[] => {
  for (const h of hits) if (!countedHit(h)) return hits.filter(countedHit);
  return hits as Counted[];
};

type Source = {
  index: number;
  cursor: LineCursor;
  matchers: TimedLineMatcher[];
  ids: RawIds[]; // by jail, each its matcher's
  time: number | null;
  found: Array<readonly Counted[]>; // by jail: the line's failures (Failure objects for a jail with a command)
};

export class ReplayFeed {
  readonly #sources: Source[];
  readonly #jails: readonly FeedJail[];
  readonly #since: number | null;
  readonly #until: number | null;
  readonly #line: LogLine = { text: '', source: '' };
  // Lines without failures since the last record: how many, and the latest time among them.
  #quiet = 0;
  #quietTime = -Infinity;

  // `startedAt`: dates without a year are read as fail2ban-regex reads them: that year, or the one before when
  // in the future.
  constructor(
    cursors: readonly LineCursor[],
    jails: readonly FeedJail[],
    window: { since: number | null; until: number | null },
    startedAt: number,
  ) {
    this.#jails = jails;
    this.#since = window.since;
    this.#until = window.until;
    this.#sources = cursors.map((cursor, index) => {
      const ids = jails.map(() => new RawIds());
      const matchers = jails.map((j, k) =>
        newTimedLineMatcher(j.filter, () => startedAt, { idOf: (ids[k] as RawIds).idOf, countOnly: !j.command }),
      );
      return { index, cursor, matchers, ids, time: null, found: [] };
    });
  }

  // A source's next dated line in the window, matched by every jail (a source's matchers see its lines in order).
  // True: the source has a line ready; false: it is used up; a string: a line without date. A promise only when
  // a chunk has to be read from a stream.
  #take(s: Source): boolean | string | null {
    const text = s.cursor.text as string;
    if (skipped(text)) return null;
    const line = this.#line;
    line.text = text;
    line.source = s.cursor.name;
    let time: number | null = null;
    for (let i = 0; i < s.matchers.length; i++) {
      (s.ids[i] as RawIds).clear();
      const r = (s.matchers[i] as TimedLineMatcher).match(line);
      s.found[i] = (this.#jails[i] as FeedJail).command ? r.failures : countedHits(r.hits);
      time ??= r.time;
    }
    if (time === null)
      return `${s.cursor.name}:${s.cursor.lineNo}: no date in the line: ${JSON.stringify(text.replace(/\r?\n$/, '').slice(0, 120))}`;
    if ((this.#since !== null && time < this.#since) || (this.#until !== null && time >= this.#until)) return null;
    s.time = time;
    return true;
  }
  #pull(s: Source): boolean | string | Promise<boolean | string> {
    while (s.cursor.step()) {
      const r = this.#take(s);
      if (r !== null) return r;
    }
    return this.#refill(s);
  }
  async #refill(s: Source): Promise<boolean | string> {
    if (!(await s.cursor.fill())) return false;
    return this.#take(s) ?? this.#pull(s);
  }

  // The records in batches of up to 4,096 lines; the last one has done (and maybe end) set. A read error ends
  // the feed with an 'io' end rather than a throw, so that a worker can hand it over as data.
  async *batches(): AsyncGenerator<Batch> {
    // Each batch's arrays sized from the last one's use (zeroed memory costs its pages: ~30 ms of 1M lines at a
    // fixed 512 KB a batch); they grow when a batch needs more.
    let nums = new Nums(1 << 14);
    let strs = '';
    let bytes = new Bytes(1 << 17);
    const batch = (end: FeedEnd | null, done: boolean): Batch => {
      this.#flushQuiet(nums);
      const b = { nums: nums.a, used: nums.n, strs, bytes: bytes.a, bytesRead: this.#bytesRead(), end, done };
      nums = new Nums(Math.max(1024, Math.ceil(nums.n * 1.25)));
      strs = '';
      bytes = new Bytes(Math.max(4096, Math.ceil(bytes.n * 1.25)));
      return b;
    };
    const live: Source[] = [];
    try {
      for (const s of this.#sources) {
        const r = await this.#pull(s);
        if (typeof r === 'string') {
          yield batch({ kind: 'nodate', message: r }, true);
          return;
        }
        if (r) live.push(s);
      }
      let lines = 0;
      while (live.length > 0) {
        let k = 0;
        for (let i = 1; i < live.length; i++) if ((live[i] as Source).time! < (live[k] as Source).time!) k = i;
        const s = live[k] as Source;
        strs = this.#record(s, nums, strs, bytes);
        if (++lines === BATCH_LINES) {
          lines = 0;
          yield batch(null, false);
        }
        let r = this.#pull(s);
        if (typeof r === 'object') r = await r;
        if (typeof r === 'string') {
          yield batch({ kind: 'nodate', message: r }, true);
          return;
        }
        if (!r) live.splice(k, 1);
      }
    } catch (e) {
      yield batch({ kind: 'io', reason: reasonOf(e) }, true);
      return;
    }
    yield batch(null, true);
  }

  // One line's record (its text into `bytes`, its strings appended to `strs`, returned).
  #record(s: Source, nums: Nums, strs: string, bytes: Bytes): string {
    const found = s.found;
    let k = 0;
    let size = 4;
    for (let j = 0; j < found.length; j++) {
      const n = (found[j] as Counted[]).length;
      if (n > 0) {
        k++;
        size += 2 + 6 * n;
      }
    }
    if (k === 0) {
      this.#quiet++;
      if ((s.time as number) > this.#quietTime) this.#quietTime = s.time as number;
      return strs;
    }
    this.#flushQuiet(nums);
    const a = nums.room(size + 1);
    let i = nums.n;
    a[i++] = s.time as number;
    a[i++] = s.cursor.lineNo;
    a[i++] = s.index;
    a[i++] = k;
    const line = s.cursor.text as string;
    const lineBytes = bytes.put(line);
    a[i++] = lineBytes;
    const ascii = lineBytes === line.length; // a character is a byte: offsets in the text are offsets in the bytes
    for (let j = 0; j < found.length; j++) {
      const failures = found[j] as Counted[];
      if (failures.length === 0) continue;
      a[i++] = j;
      a[i++] = failures.length;
      const command = (this.#jails[j] as FeedJail).command;
      const ids = s.ids[j] as RawIds;
      for (const f of failures) {
        const text = ids.textOf(f.id);
        a[i++] = f.time;
        a[i++] = f.cidr ?? -1;
        if (f.id !== text) {
          a[i++] = f.id.length;
          strs += f.id;
        } else a[i++] = -1;
        const within = ascii ? line.indexOf(text) : -1;
        a[i++] = within;
        if (within >= 0) a[i++] = text.length;
        else if (!SURROGATE.test(text)) a[i++] = bytes.put(text);
        else {
          a[i++] = -text.length;
          strs += text;
        }
        if (command) {
          const { groups, lines, user } = f as Failure;
          const more = { groups, lines, ...(user !== undefined ? { user } : {}) };
          const extra = JSON.stringify(more);
          a[i++] = extra.length;
          strs += extra;
        } else a[i++] = 0;
      }
    }
    nums.n = i;
    return strs;
  }

  // The lines without failures since the last record, as one record: their latest time and minus their count.
  #flushQuiet(nums: Nums): void {
    if (this.#quiet === 0) return;
    const a = nums.room(2);
    a[nums.n++] = this.#quietTime;
    a[nums.n++] = -this.#quiet;
    this.#quiet = 0;
    this.#quietTime = -Infinity;
  }

  #bytesRead(): number {
    let n = 0;
    for (const s of this.#sources) n += s.cursor.bytesRead;
    return n;
  }
}

const reasonOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e);

// A line read back: where it is, its time, each jail's failures (an empty list when none), and where its text is
// (its batch's bytes, [start, end)): see lineRef. The failures of a jail without an ignorecommand, and their
// list, are the reader's own, reused at a later line: read them, keep what they hold (id, addr), not them.
export type FedLine = {
  time: number;
  source: number;
  lineNo: number;
  found: Failure[][];
  bytes: Buffer;
  start: number;
  end: number;
};

// A line the timeline may show: its text decoded from its batch's bytes only when read (a ban or an ignored
// failure printed); most lines with failures are only counted. It holds its batch's bytes (the texts of the
// lines with failures among 4,096, ~100 KB) no longer than the jails keep the line.
export class LazyLine {
  readonly source: string;
  readonly line: number;
  readonly #bytes: Buffer;
  readonly #start: number;
  readonly #end: number;
  constructor(source: string, line: number, bytes: Buffer, start: number, end: number) {
    this.source = source;
    this.line = line;
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
  }
  get text(): string {
    return this.#bytes.toString('utf8', this.#start, this.#end);
  }
}
export const lineRef = (l: FedLine, source: string): LazyLine =>
  new LazyLine(source, l.lineNo, l.bytes, l.start, l.end);

const NONE: Failure[] = [];
const NO_LINES: string[] = [];
const NO_GROUPS: Readonly<Record<string, string>> = Object.freeze({});

// A failure of a jail without an ignorecommand, as the reader hands it over: one object per jail and place in
// its line, reused line after line. The jails read it only within the line's step (the decisions hold it until
// the timeline has printed them, before the next line: ban events carry the ban and the lines, not it).
const reused = (filter: string): Failure => ({
  id: '',
  addr: null,
  cidr: undefined,
  time: 0,
  filter,
  source: '',
  lines: NO_LINES,
  groups: NO_GROUPS,
});

// The ids of recent address texts by their UTF-8 bytes, direct-mapped: an address seen before (attackers repeat)
// costs a hash and a compare of its bytes, no string decoded nor hashed (a Map lookup of a new string).
const SLOTS = 1 << 15;
const WIDTH = 48; // bytes kept per slot (the longest IPv6 text, with an IPv4 tail, is 45)
class RecentIds {
  readonly #text = new Uint8Array(SLOTS * WIDTH);
  readonly #len = new Int32Array(SLOTS); // 0: empty
  readonly #ids: Array<Id | undefined> = new Array<Id | undefined>(SLOTS).fill(undefined);
  #slot = 0;

  // The id kept for these bytes, or undefined (then put() keeps it in their slot).
  get(b: Buffer, at: number, len: number): Id | undefined {
    let h = len;
    for (let i = at; i < at + len; i++) h = Math.imul(h ^ (b[i] as number), 16777619);
    const slot = (this.#slot = (h ^ (h >>> 15)) & (SLOTS - 1));
    if (this.#len[slot] !== len) return undefined;
    const t = this.#text;
    for (let i = 0, o = slot * WIDTH; i < len; i++) if (t[o + i] !== b[at + i]) return undefined;
    return this.#ids[slot];
  }
  put(b: Buffer, at: number, len: number, id: Id): void {
    const slot = this.#slot;
    this.#text.set(b.subarray(at, at + len), slot * WIDTH);
    this.#len[slot] = len;
    this.#ids[slot] = id;
  }
}

// Reads the records of a feed's batches back, on the thread that runs the jails.
export class FeedReader {
  readonly #sources: readonly string[];
  readonly #filters: readonly string[];
  readonly #ids = new Map<string, Id>(); // by address text: the id of the text alone (no cidr, no id of its own)
  readonly #recent = new RecentIds();
  readonly #line: FedLine;
  // By jail, then by how many failures in the line: the reused failures (see reused) in their reused array.
  readonly #pool: Failure[][][];

  constructor(sources: readonly string[], filters: readonly string[]) {
    this.#sources = sources;
    this.#filters = filters;
    const bytes = Buffer.alloc(0);
    this.#line = { time: 0, source: 0, lineNo: 0, found: filters.map(() => NONE), bytes, start: 0, end: 0 };
    this.#pool = filters.map(() => []);
  }

  #failures(jail: number, n: number): Failure[] {
    const byN = this.#pool[jail] as Failure[][];
    let a = byN[n];
    if (a === undefined) {
      a = [];
      for (let x = 0; x < n; x++) a.push(reused(this.#filters[jail] as string));
      byN[n] = a;
    }
    return a;
  }

  // The id of an address text (no cidr, no id of its own): parsed once.
  #plain(text: string): Id {
    let plain = this.#ids.get(text);
    if (plain === undefined) {
      if (this.#ids.size >= IDS_MAX) this.#ids.clear();
      this.#ids.set(text, (plain = idOfParsed(parseAddr(text), text, undefined)));
    }
    return plain;
  }

  // Calls `each` for every line with failures, in order (the same FedLine object, changed each time), and `quiet`
  // for each run of lines without any between them (how many, the latest of their times); `each` may return a
  // promise (an ignorecommand), which is awaited before the next line.
  async read(
    b: Batch,
    each: (l: FedLine) => void | Promise<void>,
    quiet: (lines: number, time: number) => void,
  ): Promise<void> {
    const a = b.nums;
    const strs = b.strs;
    const l = this.#line;
    const found = l.found;
    const recent = this.#recent;
    const bytes = Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
    l.bytes = bytes;
    let off = 0;
    let at = 0; // in the bytes
    for (let i = 0; i < b.used;) {
      const time = a[i++] as number;
      const lineNo = a[i++] as number;
      if (lineNo < 0) {
        quiet(-lineNo, time);
        continue;
      }
      l.time = time;
      l.lineNo = lineNo;
      l.source = a[i++] as number;
      const k = a[i++] as number;
      const len = a[i++] as number;
      l.start = at;
      l.end = at += len;
      const source = this.#sources[l.source] as string;
      for (let j = 0; j < k; j++) {
        const jail = a[i++] as number;
        const n = a[i++] as number;
        // A jail's failures come all with their extra (an ignorecommand) or all without.
        const failures: Failure[] = a[i + 5] === 0 ? this.#failures(jail, n) : [];
        for (let x = 0; x < n; x++) {
          const time = a[i++] as number;
          const cidr = a[i++] as number;
          const fidLen = a[i++] as number;
          const within = a[i++] as number;
          const addrLen = a[i++] as number;
          const extraLen = a[i++] as number;
          // The failure's own id, copied (not a slice keeping the batch's strings alive as long as the jails
          // keep the id).
          const fid = fidLen < 0 ? undefined : ` ${strs.slice(off, (off += fidLen))}`.slice(1);
          let plain: Id;
          if (addrLen < 0) plain = this.#plain(` ${strs.slice(off, (off -= addrLen))}`.slice(1));
          else {
            // In the line's text, or after it.
            const from = within >= 0 ? l.start + within : at;
            if (within < 0) at += addrLen;
            if (addrLen >= WIDTH) plain = this.#plain(bytes.toString('utf8', from, from + addrLen));
            else {
              const kept = recent.get(bytes, from, addrLen);
              if (kept !== undefined) plain = kept;
              else
                recent.put(bytes, from, addrLen, (plain = this.#plain(bytes.toString('utf8', from, from + addrLen))));
            }
          }
          const {
            id,
            addr,
            cidr: bits,
          } = cidr < 0 && fid === undefined
            ? plain
            : idOfParsed(plain.addr, plain.id, cidr < 0 ? undefined : cidr, fid);
          if (extraLen === 0) {
            const f = failures[x] as Failure;
            f.id = id;
            f.addr = addr;
            f.cidr = bits;
            f.time = time;
            f.source = source;
            continue;
          }
          const extra = strs.slice(off, (off += extraLen));
          const more = JSON.parse(extra) as { groups: Record<string, string>; lines: string[]; user?: string };
          const filter = this.#filters[jail] as string;
          const { lines, groups } = more;
          const f: Failure =
            bits === undefined
              ? { id, addr, time, filter, source, lines, groups }
              : { id, addr, cidr: bits, time, filter, source, lines, groups };
          if (more.user !== undefined) f.user = more.user;
          failures.push(f);
        }
        found[jail] = failures;
      }
      const p = each(l);
      if (p) await p;
      for (let j = 0; j < found.length; j++) found[j] = NONE;
    }
  }
}

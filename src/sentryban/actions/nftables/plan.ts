import { remainingSec, type NftablesSpec, type PortMatch } from '../spec.js';
import { nftVerdict } from '../blocktype.js';
import { SET_KEYS, wantedElements, type SetKey, type Wanted } from '../targets.js';
import type { Ban } from '../../types.js';
import { putAscii, putUint } from '../ascii.js';

// nft batches (`nft -f -` input, one transaction each). Our own table per jail holds four sets (hosts and
// prefixes, per family, `flags timeout`) and one input chain with one rule per set.

const TYPE: Readonly<Record<SetKey, string>> = { h4: 'ipv4_addr', h6: 'ipv6_addr', n4: 'ipv4_addr', n6: 'ipv6_addr' };
const FLAGS: Readonly<Record<SetKey, string>> = {
  h4: 'timeout',
  h6: 'timeout',
  n4: 'interval,timeout',
  n6: 'interval,timeout',
};
const SADDR: Readonly<Record<SetKey, string>> = { h4: 'ip saddr', h6: 'ip6 saddr', n4: 'ip saddr', n6: 'ip6 saddr' };
const CHUNK = 5000;

export const planMatch = (m: PortMatch): string => {
  const proto =
    m.protocols === 'all'
      ? ''
      : m.protocols.length === 1
        ? `meta l4proto ${m.protocols[0]} `
        : `meta l4proto { ${m.protocols.join(', ')} } `;
  const ports = m.ports === 'all' ? '' : `th dport { ${m.ports.map((p) => p.replace(':', '-')).join(', ')} } `;
  return proto + ports;
};

export const planRule = (spec: NftablesSpec, key: SetKey): string =>
  `${planMatch(spec.match)}${SADDR[key]} @${key} ${nftVerdict(spec.blocktype)}`;

const elem = (w: Wanted): string => (w.timeoutSec === null ? w.elem : `${w.elem} timeout ${w.timeoutSec}s`);

// Elements of each set, in the order of `wanted` (one pass).
const bySet = (wanted: readonly Wanted[]): Record<SetKey, Wanted[]> => {
  const by: Record<SetKey, Wanted[]> = { h4: [], h6: [], n4: [], n6: [] };
  for (const w of wanted) by[w.key].push(w);
  return by;
};

// Add elements in chunks, all inside the caller's transaction. `create` refuses an element already there (and
// with it the whole transaction).
export const planAdd = (table: string, wanted: readonly Wanted[], verb: 'add' | 'create' = 'add'): string[] => {
  const by = bySet(wanted);
  const out: string[] = [];
  for (const key of SET_KEYS) {
    const mine = by[key];
    for (let i = 0; i < mine.length; i += CHUNK)
      out.push(
        `${verb} element inet ${table} ${key} { ${mine
          .slice(i, i + CHUNK)
          .map(elem)
          .join(', ')} }`,
      );
  }
  return out;
};

// The whole table, replaced atomically: nothing of the old table is visible once this commits, and no packet
// sees a moment without the rules. `table X` first makes the delete succeed when the table is absent. The new
// table is one block with every element inside its set (nft loads that faster than `add element` commands), so
// input cut short anywhere (the daemon killed while writing it) is a syntax error and nothing changes: the first
// piece, which holds the delete, also opens the block. Pieces of CHUNK elements, for `nft -f -` to read while the
// rest is built.
export function* planRestoreChunks(spec: NftablesSpec, wanted: readonly Wanted[]): Generator<string, void, void> {
  yield restoreHead(spec.table);
  const by = bySet(wanted);
  for (const k of SET_KEYS) {
    const mine = by[k];
    yield setHead(k, mine.length > 0);
    yield* elementLines(mine);
  }
  yield restoreTail(spec);
}

// The pieces of the restore's frame, shared by planRestoreChunks and planRestoreBytes.
const restoreHead = (t: string): string => `table inet ${t}\ndelete table inet ${t}\ntable inet ${t} {\n`;
const setHead = (k: SetKey, elements: boolean): string =>
  `  set ${k} { type ${TYPE[k]}; flags ${FLAGS[k]};${elements ? '\n    elements = {\n' : ' }\n'}`;
const restoreTail = (spec: NftablesSpec): string => {
  const rules = SET_KEYS.map((k) => `    ${planRule(spec, k)}\n`).join('');
  return `  chain input {\n    type filter hook input priority ${spec.priority}; policy accept;\n${rules}  }\n}\n`;
};
// A set's elements: lines of CHUNK, ", " between, each line but the last ending in ",", the last closing the
// elements and the set.
const END_LINE = ',\n';
const END_SET = '\n    }\n  }\n';
function* elementLines(ws: readonly Wanted[]): Generator<string, void, void> {
  for (let i = 0; i < ws.length; i += CHUNK)
    yield `      ${ws
      .slice(i, i + CHUNK)
      .map(elem)
      .join(', ')}${i + CHUNK >= ws.length ? END_SET : END_LINE}`;
}

// The same input as planRestoreChunks(spec, wantedElements(bans, now, maxSec)), byte for byte, written in one pass
// over the store's bans straight into byte buffers: no element list, no string per element, nothing to encode when
// piped. nft reads its whole input before it parses any (`nft -f -` waits for the end of input), so the time taken
// here adds to the restore's: wantedElements and the strings took 130 ms of CPU for 100,000 bans on a slow machine,
// this 30 ms. Each host's text is hashed (64 bits) as it is written: a host met twice (the store holds one ban per
// target: not expected) or two hosts of one hash (about 1 in 10^9 for 100,000) give null, and the caller takes
// planRestoreChunks, which keeps the longest timeout.
export const planRestoreBytes = (
  spec: NftablesSpec,
  bans: readonly Ban[],
  now: number,
  maxSec: number,
): Uint8Array[] | null => {
  const seen = new SeenHashes(bans.length);
  const h4 = new ElementPieces(seen);
  const h6 = new ElementPieces(seen);
  const nets: Ban[] = [];
  for (let i = 0; i < bans.length; i++) {
    const b = bans[i]!;
    const r = remainingSec(b.expiresAt, now);
    if (r === 0) continue;
    const target = b.target;
    if (!target.isHost()) {
      nets.push(b);
      continue;
    }
    const base = target.base;
    if (!(base.family === 4 ? h4 : h6).add(base.text, r !== null && r > maxSec ? null : r)) return null;
  }
  const by = bySet(wantedElements(nets, now, maxSec));
  const out: Uint8Array[] = [Buffer.from(restoreHead(spec.table))];
  for (const k of SET_KEYS) {
    const pieces =
      k === 'h4' ? h4.pieces() : k === 'h6' ? h6.pieces() : [...elementLines(by[k])].map((l) => Buffer.from(l));
    out.push(Buffer.from(setHead(k, pieces.length > 0)), ...pieces);
  }
  out.push(Buffer.from(restoreTail(spec)));
  return out;
};

// "      <IPv6 text, 39 at most> timeout <8 digits>s" and ", " per element, the line's end after the last.
const LINE_BYTES = 6 + CHUNK * (2 + 39 + 9 + 8 + 1) + END_SET.length;

// Hosts' elements of one set, a line of CHUNK at a time, each host's text hashed while it is copied (FNV-1a and a
// second multiplier: 64 bits) and the hash recorded in `seen`.
class ElementPieces {
  readonly #seen: SeenHashes;
  readonly #full: Buffer[] = [];
  #buf = Buffer.allocUnsafe(LINE_BYTES);
  #p = 0;
  #n = 0;

  constructor(seen: SeenHashes) {
    this.#seen = seen;
  }

  // False when the text's hash was seen before (nothing else is meant to be written then).
  add(text: string, sec: number | null): boolean {
    const buf = this.#buf;
    let p = putAscii(buf, this.#p, this.#n === 0 ? '      ' : ', ');
    let a = 0x811c9dc5;
    let b = 0x9e3779b9;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      buf[p++] = c;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    if (!this.#seen.add(a >>> 0, b >>> 0)) return false;
    if (sec !== null) {
      p = putUint(buf, putAscii(buf, p, ' timeout '), sec);
      buf[p++] = 115; // s
    }
    this.#p = p;
    if (++this.#n === CHUNK) {
      this.#full.push(buf.subarray(0, p));
      this.#buf = Buffer.allocUnsafe(LINE_BYTES);
      this.#p = 0;
      this.#n = 0;
    }
    return true;
  }

  // Every line, each ended.
  pieces(): Buffer[] {
    const lines = this.#n ? [...this.#full, this.#buf.subarray(0, this.#p)] : this.#full;
    return lines.map((l, i) => {
      // Each line has room for its end after it (LINE_BYTES): ended in place.
      const end = i === lines.length - 1 ? END_SET : END_LINE;
      const whole = Buffer.from(l.buffer, l.byteOffset, l.length + end.length);
      whole.write(end, l.length, 'latin1');
      return whole;
    });
  }
}

// 64-bit hashes, an open-addressing table of two typed arrays (a slot of two zeros is empty: `b` is made odd).
class SeenHashes {
  readonly #a: Uint32Array;
  readonly #b: Uint32Array;
  readonly #mask: number;

  // `most`: at most how many will be added (the table is twice that, rounded up to a power of two).
  constructor(most: number) {
    let cap = 16;
    while (cap < most * 2) cap *= 2;
    this.#a = new Uint32Array(cap);
    this.#b = new Uint32Array(cap);
    this.#mask = cap - 1;
  }

  // False when (a, b) is there already; else added.
  add(a: number, b: number): boolean {
    const odd = (b | 1) >>> 0;
    let h = a & this.#mask;
    for (;;) {
      const x = this.#b[h]!;
      if (x === 0) break;
      if (x === odd && this.#a[h] === a) return false;
      h = (h + 1) & this.#mask;
    }
    this.#a[h] = a;
    this.#b[h] = odd;
    return true;
  }
}

export const planRestore = (spec: NftablesSpec, wanted: readonly Wanted[]): string =>
  [...planRestoreChunks(spec, wanted)].join('');

// Ban (or re-ban with a new timeout) one element; succeeds whether or not it was there.
export const planBan = (table: string, w: Wanted): string =>
  [
    `add element inet ${table} ${w.key} { ${w.elem} }`,
    `delete element inet ${table} ${w.key} { ${w.elem} }`,
    `add element inet ${table} ${w.key} { ${elem(w)} }`,
  ].join('\n') + '\n';

// New elements with their timeouts, one command per set: one kernel change each (planBan makes three, so that it
// succeeds whatever is there). Fails as a whole when one of them is there already.
export const planCreate = (table: string, wanted: readonly Wanted[]): string =>
  `${planAdd(table, wanted, 'create').join('\n')}\n`;

// Unban one element; succeeds whether or not it was there.
export const planUnban = (table: string, key: SetKey, e: string): string =>
  `add element inet ${table} ${key} { ${e} }\ndelete element inet ${table} ${key} { ${e} }\n`;

// Repair without a rebuild: delete strays and early-lapsing elements, then add what is missing (one transaction).
// Each delete follows an add of the same elements: one whose kernel timeout lapsed since the listing would
// otherwise fail the delete, and with it the whole transaction (seen on a loaded machine).
export const planRepair = (
  table: string,
  add: readonly Wanted[],
  remove: readonly { key: SetKey; elem: string }[],
): string => {
  const lines: string[] = [];
  for (const key of SET_KEYS) {
    const mine = remove.filter((r) => r.key === key).map((r) => r.elem);
    for (let i = 0; i < mine.length; i += CHUNK) {
      const part = `inet ${table} ${key} { ${mine.slice(i, i + CHUNK).join(', ')} }`;
      lines.push(`add element ${part}`, `delete element ${part}`);
    }
  }
  lines.push(...planAdd(table, add));
  return lines.length ? `${lines.join('\n')}\n` : '';
};

import { parseCidr, type Cidr } from '../core/addr.js';
import { formatSyslogDatagram } from '../core/syslog.js';
import type { IgnoreSnapshot } from './ignore-gate.js';
import * as L from './lines.js';
import { MAX_MESSAGE, SYSLOG_PRI, SYSLOG_TAG } from './log.js';

// The one definition of what the -tcp alert path in C does (native/trapalert.c): a table of plain bytes, built
// here from the pipeline's own inputs, which C follows without knowing what it means. C looks the peer up in the
// rules, checks the files the rules came from, fills in the peer's address and port, and sends; nothing else.
// - The line: the pipeline's own detection line (L.detectionLines) inside the logger's own syslog datagram
//   (formatSyslogDatagram, SYSLOG_PRI, SYSLOG_TAG, the pid), rendered here with markers where the address and
//   port go and cut at the markers. The header's time is rendered for every second of a window (CLOCK_SECONDS);
//   a peer after the window goes to the pipeline.
// - The decision: rules, first match wins. The ignore entries hand the peer to the pipeline (which then finds it
//   ignored and logs nothing, as 1.2), ::/96 but :: and ::1 too (inet_ntop spells those with a dotted tail, Addr
//   does not), everything else alerts. A file of the ignore step whose stat changed hands every peer over.
// Whether C may act at all (SCAN_TRIGGER, RESOLVE_HOST, the pipeline idle) is fast-alert.ts's. The layout is in
// native/trapalert.h: change both together and bump ALERT_TABLE_VERSION in both.
export const ALERT_TABLE_VERSION = 1;
// Seconds of header times in one table.
export const CLOCK_SECONDS = 300;

const PART = { text: 0, clock: 1, addr: 2, port: 3 } as const;
const VERDICT = { hand: 0, alert: 1 } as const;

// Where the address and the port go: characters no message and no syslog header holds.
const ADDR_MARK = '\u0001';
const PORT_MARK = '\u0002';

// The -tcp detection line for a peer spelled `ip` on trap port `port`, as the pipeline logs it (RESOLVE_HOST off:
// host and ip are the same text).
const tcpLine = (ip: string, port: number | string): string =>
  L.detectionLines({ mode: 'tcp', dstPort: port as number }, ip, ip).join('');

// The datagram the logger sends for that line at `at` (log.ts: SYSLOG_PRI, SYSLOG_TAG, the pid).
export const alertDatagram = (at: Date, pid: number, ip: string, port: number): string =>
  formatSyslogDatagram(SYSLOG_PRI, at, SYSLOG_TAG, pid, tcpLine(ip, port));

type Rule = { family: 4 | 6; verdict: number; net: number[]; mask: number[] };

const rule = (c: Cidr, verdict: number): Rule => {
  const bytes = c.base.bytes;
  const mask = Array.from({ length: 16 }, (_, i) =>
    i < bytes.length ? (0xff << (8 - Math.max(0, Math.min(8, c.bits - i * 8)))) & 0xff : 0,
  );
  return { family: c.base.family, verdict, net: mask.map((m, i) => (bytes[i] ?? 0) & m), mask };
};

const cidr = (text: string): Cidr => {
  const c = parseCidr(text);
  if (!c) throw new Error(`alert-table: bad prefix ${text}`);
  return c;
};

// First match wins; no match hands the peer over.
const rulesOf = (entries: readonly Cidr[]): Rule[] => [
  ...entries.map((c) => rule(c, VERDICT.hand)),
  rule(cidr('::/128'), VERDICT.alert),
  rule(cidr('::1/128'), VERDICT.alert),
  rule(cidr('::/96'), VERDICT.hand),
  rule(cidr('0.0.0.0/0'), VERDICT.alert),
  rule(cidr('::/0'), VERDICT.alert),
];

type Part = { kind: number; text: string };

// The datagram for `at` with the markers, cut before the first: this second's clock text, and the rest.
const cut = (at: Date, pid: number): [string, string] => {
  const d = formatSyslogDatagram(SYSLOG_PRI, at, SYSLOG_TAG, pid, tcpLine(ADDR_MARK, PORT_MARK));
  const first = Math.min(...[d.indexOf(ADDR_MARK), d.indexOf(PORT_MARK)].filter((i) => i >= 0));
  return [d.slice(0, first), d.slice(first)];
};

// The rest as parts: the address, the port and the text between them.
const partsOf = (rest: string): Part[] => {
  const parts: Part[] = [];
  let text = '';
  for (const ch of rest) {
    if (ch !== ADDR_MARK && ch !== PORT_MARK) {
      text += ch;
      continue;
    }
    if (text) parts.push({ kind: PART.text, text });
    text = '';
    parts.push({ kind: ch === ADDR_MARK ? PART.addr : PART.port, text: '' });
  }
  if (text) parts.push({ kind: PART.text, text });
  return parts;
};

export type AlertTable = { bytes: Uint8Array; first: number; end: number };

// The table for a pipeline whose ignore step reads `snap`, from the second of `nowMs` for CLOCK_SECONDS. null
// when the longest line would be cut (MAX_MESSAGE): then the pipeline writes every line.
export const alertTable = (snap: IgnoreSnapshot, pid: number, nowMs: number): AlertTable | null => {
  if (tcpLine('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 65535).length > MAX_MESSAGE) return null;
  const first = Math.floor(nowMs / 1000);
  const clock = Array.from({ length: CLOCK_SECONDS }, (_, i) => cut(new Date((first + i) * 1000), pid)[0]);
  const parts: Part[] = [{ kind: PART.clock, text: '' }, ...partsOf(cut(new Date(first * 1000), pid)[1])];
  const rules = rulesOf(snap.entries);
  const w = new Writer();
  w.u32(ALERT_TABLE_VERSION);
  w.i64(first);
  w.u32(clock.length);
  clock.forEach((c) => w.text(c));
  w.u32(parts.length);
  for (const p of parts) {
    w.u8(p.kind);
    w.text(p.text);
  }
  w.u32(rules.length);
  for (const r of rules) [r.family, r.verdict, ...r.net, ...r.mask].forEach((b) => w.u8(b));
  w.u32(snap.files.length);
  for (const [path, key] of snap.files) {
    w.u8(key ? 1 : 0);
    (key ?? [0n, 0n, 0n, 0n, 0n]).forEach((v) => w.u64(v));
    w.text(path);
  }
  return { bytes: w.done(), first, end: first + CLOCK_SECONDS };
};

// Little-endian, growing as needed; a text is its UTF-8 length (u32) and bytes, as the logger sends it.
class Writer {
  #buf = Buffer.alloc(32768);
  #at = 0;
  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = Buffer.alloc(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }
  u8(n: number): void {
    this.#room(1);
    this.#at = this.#buf.writeUInt8(n, this.#at);
  }
  u32(n: number): void {
    this.#room(4);
    this.#at = this.#buf.writeUInt32LE(n, this.#at);
  }
  i64(n: number): void {
    this.#room(8);
    this.#at = this.#buf.writeBigInt64LE(BigInt(n), this.#at);
  }
  u64(n: bigint): void {
    this.#room(8);
    this.#at = this.#buf.writeBigUInt64LE(n, this.#at);
  }
  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.#room(n);
    this.#at += this.#buf.write(s, this.#at);
  }
  done(): Uint8Array {
    return new Uint8Array(this.#buf.subarray(0, this.#at));
  }
}

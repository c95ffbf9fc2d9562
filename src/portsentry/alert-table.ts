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

// The datagram for `at` cut at the markers: its text up to the first (this second's clock text) and the rest.
const cut = (at: Date, pid: number): { clock: string; rest: Part[] } => {
  const d = formatSyslogDatagram(SYSLOG_PRI, at, SYSLOG_TAG, pid, tcpLine(ADDR_MARK, PORT_MARK));
  const first = d.search(/[\u0001\u0002]/);
  const rest: Part[] = [];
  let text = '';
  for (const ch of d.slice(first)) {
    if (ch !== ADDR_MARK && ch !== PORT_MARK) {
      text += ch;
      continue;
    }
    if (text) rest.push({ kind: PART.text, text });
    text = '';
    rest.push({ kind: ch === ADDR_MARK ? PART.addr : PART.port, text: '' });
  }
  if (text) rest.push({ kind: PART.text, text });
  return { clock: d.slice(0, first), rest };
};

export type AlertTable = { bytes: Uint8Array; first: number; end: number };

// The table for a pipeline whose ignore step reads `snap`, from the second of `nowMs` for CLOCK_SECONDS. null
// when the longest line would be cut (MAX_MESSAGE): then the pipeline writes every line.
export const alertTable = (snap: IgnoreSnapshot, pid: number, nowMs: number): AlertTable | null => {
  if (tcpLine('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 65535).length > MAX_MESSAGE) return null;
  const first = Math.floor(nowMs / 1000);
  const { rest } = cut(new Date(first * 1000), pid);
  const clock = Array.from({ length: CLOCK_SECONDS }, (_, i) => cut(new Date((first + i) * 1000), pid).clock);
  const parts: Part[] = [{ kind: PART.clock, text: '' }, ...rest];
  const rules = rulesOf(snap.entries);
  const text = (s: string): Buffer => {
    const b = Buffer.from(s);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return Buffer.concat([len, b]);
  };
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const out: Buffer[] = [u32(ALERT_TABLE_VERSION)];
  const firstBuf = Buffer.alloc(8);
  firstBuf.writeBigInt64LE(BigInt(first));
  out.push(firstBuf, u32(clock.length), ...clock.map(text));
  out.push(u32(parts.length), ...parts.flatMap((p) => [Buffer.from([p.kind]), text(p.text)]));
  out.push(u32(rules.length), ...rules.map((r) => Buffer.from([r.family, r.verdict, ...r.net, ...r.mask])));
  out.push(u32(snap.files.length));
  for (const [path, key] of snap.files) {
    const k = Buffer.alloc(41);
    k[0] = key ? 1 : 0;
    (key ?? [0n, 0n, 0n, 0n, 0n]).forEach((v, i) => k.writeBigUInt64LE(v, 1 + i * 8));
    out.push(k, text(path));
  }
  return { bytes: new Uint8Array(Buffer.concat(out)), first, end: first + CLOCK_SECONDS };
};

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { EX_CONFIG, formatDiagnostic } from '../../core/diagnostics.js';
import { loadFilter } from '../filters/load.js';
import { Matcher, type Hit, type MatchResult } from '../filters/matcher.js';
import { parseTimeZone } from '../filters/date/time-zone.js';
import type { LogLine } from '../types.js';
import { systemClock } from '../../core/clock.js';
import { USEDNS_VALUES } from '../dns/host-failures.js';
import { HostResolver, type Resolution } from '../dns/resolver.js';

const USAGE = 'usage: sentryban regex [--json] [--timezone TZ] [--first] [--usedns yes|warn|no|raw] [-r|--raw] LOG FILTER\n';

export type LineOutcome = { line: number; matched: boolean; ignored: boolean; address: string | null; time: number | null; groups: Record<string, string>; addresses?: string[] };

// fail2ban-regex's view of one line: "ignored" when an ignoreregex or any nofail hit said so, else "matched"
// when a failregex hit, else "missed".
export const outcomeOf = (lineNo: number, r: MatchResult): LineOutcome => {
  const hit = r.ignored ? undefined : r.hits.find((h) => !h.nofail);
  const matched = hit !== undefined;
  return { line: lineNo, matched, ignored: r.ignored, address: hit?.id ?? null, time: matched && r.time !== null ? Math.floor(r.time / 1000) : null, groups: hit?.groups ?? {} };
};

const decoder = new TextDecoder('utf-8', { fatal: false });
// Small enough that strings sliced from a chunk and kept a while (address cache keys, sessions) pin little.
const CHUNK = 1 << 16;

// Streams a file line by line (bounded memory, invalid UTF-8 as U+FFFD, a last line without newline skipped, as
// fail2ban-regex does). Each line is a slice of one decoded chunk WITH its "\n" (no copy; the matcher cuts its
// regex buffer from it); a line ending in "\r\n" comes without both.
const forEachLine = async (path: string, fn: (text: string) => void | Promise<void>, onChunk: () => void): Promise<void> => {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let carry: Buffer = Buffer.alloc(0);
  let pos = 0;
  try {
    for (let r = readSync(fd, buf, 0, buf.length, pos); r > 0; r = readSync(fd, buf, 0, buf.length, pos)) {
      pos += r;
      const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, r)]) : buf.subarray(0, r);
      const last = chunk.lastIndexOf(10);
      if (last < 0) { carry = Buffer.from(chunk); continue; }
      const text = decoder.decode(chunk.subarray(0, last + 1));
      onChunk();
      carry = Buffer.from(chunk.subarray(last + 1));
      for (let start = 0, nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
        const p = nl > start && text.charCodeAt(nl - 1) === 13 ? fn(text.slice(start, nl - 1)) : fn(text.slice(start, nl + 1));
        if (p) await p; // only a line with a host name to look up (--usedns yes|warn) waits
      }
    }
  } finally { closeSync(fd); }
};

// The host name of the line's first counted hit, when it is a name rather than an address (usedns yes/warn).
const hostOf = (r: MatchResult): string | null => {
  if (r.ignored) return null;
  for (const h of r.hits) if (!h.nofail) return h.addr === null && h.groups.dns !== undefined && h.id === h.groups.dns ? h.id : null;
  return null;
};

const fmtTime = (sec: number): string => new Date(sec * 1000).toISOString().replace('T', ' ').slice(0, 19);

// `sentryban regex LOG FILTER`: the peer of fail2ban-regex (check-all, comment and empty lines skipped).
export const runRegex = async (argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> => {
  let json = false; let tz: string | undefined; let checkAll = true; let usedns: string | undefined; let raw = false;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a === '--first') checkAll = false;
    else if (a === '--timezone') tz = argv[++i];
    else if (a === '--usedns') usedns = argv[++i];
    else if (a.startsWith('--usedns=')) usedns = a.slice(9);
    else if (a === '-r' || a === '--raw') raw = true;
    else if (a === '-h' || a === '--help') { out.write(USAGE); return 0; }
    else pos.push(a);
  }
  if (pos.length !== 2) { err.write(USAGE); return 64; }
  const [log, ref] = pos as [string, string];
  const zone = parseTimeZone(tz);
  if (!zone) { err.write(`sentryban regex: unknown time zone ${JSON.stringify(tz)}\n`); return 64; }
  if (usedns !== undefined && !(USEDNS_VALUES as readonly string[]).includes(usedns)) { err.write(`sentryban regex: --usedns expects yes, warn, no or raw, got ${JSON.stringify(usedns)}\n`); return 64; }
  const f = loadFilter(ref, usedns ? { usedns } : {});
  if (!f.ok) { for (const d of f.errors) err.write(`${formatDiagnostic(d)}\n`); return EX_CONFIG; }
  // The clock is read once per chunk of lines (~600), not per line: a line's "now" is at most a chunk old.
  let nowMs = Date.now();
  const m = new Matcher(f.value, { checkAll, noDate: 'now', timezone: zone, now: () => nowMs });
  const isFile = existsSync(log);
  let tested = 0; let ignored = 0; let matched = 0; let missed = 0;
  const found: string[] = [];
  let buffer = '';
  let n = 0;
  const source = isFile ? log : 'argv';
  // Statuses of the last 64 lines (ring), for fail2ban-regex's relabelling of lines a multi-line failure consumed.
  const MATCHED = 1; const IGNORED = 2; const MISSED = 3;
  const recent = new Uint8Array(64);
  const line: LogLine = { text: '', source };
  // fail2ban-regex resolves names by default (usedns warn); we only when --usedns yes|warn is given, never with -r.
  const hosts = !raw && (usedns === 'yes' || usedns === 'warn') ? new HostResolver({ clock: systemClock }) : null;
  const one = (text: string): void | Promise<void> => {
    n++;
    if (isFile && (text.length <= 1 && (text === '' || text === '\n') || text.charCodeAt(0) === 35)) return;
    line.text = text; // one LogLine for all lines: the matcher keeps none
    const r = m.match(line);
    const name = hosts ? hostOf(r) : null;
    // The next line is matched only after this count (the caller awaits), so `r` stays this line's.
    if (name !== null) return (hosts as HostResolver).resolve(name).then((res) => count(r, res));
    count(r, null);
  };
  // res: the lookup of the line's host name; a name without address leaves the line missed, as fail2ban-regex.
  const count = (r: MatchResult, res: Resolution | null): void => {
    tested++;
    // fail2ban-regex counts earlier lines consumed by a multi-line failure as matched.
    if (r.consumedBack) {
      for (const k of r.consumedBack) {
        if (k > 64 || k >= tested) continue;
        const i = (tested - 1 - k) & 63;
        if (recent[i] === MISSED) { recent[i] = MATCHED; missed--; matched++; }
      }
    }
    let hit: Hit | undefined;
    if (!r.ignored) for (const h of r.hits) if (!h.nofail) { hit = h; break; }
    if (res && res.addrs.length === 0) hit = undefined;
    if (hit) {
      matched++; recent[(tested - 1) & 63] = MATCHED;
      for (const id of res ? res.addrs.map((a) => a.text) : [hit.id]) if (found.length <= 50) found.push(`    ${id}  (${r.time === null ? 'no time' : fmtTime(Math.floor(r.time / 1000))})`);
    } else if (r.ignored) { ignored++; recent[(tested - 1) & 63] = IGNORED; } else { missed++; recent[(tested - 1) & 63] = MISSED; }
    if (json) {
      let o = outcomeOf(n, r);
      if (res) o = res.addrs.length ? { ...o, address: res.addrs[0]?.text ?? null, addresses: res.addrs.map((a) => a.text) } : { ...o, matched: false, address: null, time: null, groups: {} };
      buffer += `${JSON.stringify({ line: o.line, matched: o.matched, address: o.address, time: o.time, groups: o.groups, ...(o.addresses ? { addresses: o.addresses } : {}) })}\n`;
      if (buffer.length > 65536) { out.write(buffer); buffer = ''; }
    }
  };
  if (isFile) await forEachLine(log, one, () => { nowMs = Date.now(); });
  else for (const l of log.split('\n')) { const p = one(l.replace(/\r$/, '')); if (p) await p; }
  if (json) { out.write(buffer); return 0; }
  out.write(`\nResults\n=======\n\nFailregex: ${f.value.failregex.length} regexes, filter ${f.value.name}\n|- matched addresses:\n${found.slice(0, 50).join('\n')}${matched > 50 ? `\n    ... ${matched - 50} more` : ''}\n\`-\n\n`);
  out.write(`Lines: ${tested} lines, ${ignored} ignored, ${matched} matched, ${missed} missed\n`);
  return 0;
};

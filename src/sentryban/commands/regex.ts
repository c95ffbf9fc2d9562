import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { EX_CONFIG, formatDiagnostic } from '../../core/diagnostics.js';
import { loadFilter } from '../filters/load.js';
import { Matcher, type MatchResult } from '../filters/matcher.js';
import { parseTimeZone } from '../filters/date/time-zone.js';
import { systemClock } from '../../core/clock.js';
import { USEDNS_VALUES } from '../dns/host-failures.js';
import { HostResolver } from '../dns/resolver.js';

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

// Streams a file line by line (bounded memory, invalid UTF-8 as U+FFFD, a last line without newline included).
const forEachLine = async (path: string, fn: (line: string) => void | Promise<void>): Promise<void> => {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer = Buffer.alloc(0);
  let pos = 0;
  try {
    for (let r = readSync(fd, buf, 0, buf.length, pos); r > 0; r = readSync(fd, buf, 0, buf.length, pos)) {
      pos += r;
      const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, r)]) : buf.subarray(0, r);
      const last = chunk.lastIndexOf(10);
      if (last < 0) { carry = Buffer.from(chunk); continue; }
      const text = decoder.decode(chunk.subarray(0, last));
      carry = Buffer.from(chunk.subarray(last + 1));
      let start = 0;
      for (let nl = text.indexOf('\n'); ; nl = text.indexOf('\n', start)) {
        const end = nl < 0 ? text.length : nl;
        const p = fn(text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end));
        if (p) await p; // only lines with a host name to look up wait
        if (nl < 0) break;
        start = nl + 1;
      }
    }
    // A last line without its newline is not complete yet: fail2ban-regex skips it too.
  } finally { closeSync(fd); }
};

// The host name of the line's first counted hit, when it is a name rather than an address (usedns yes/warn).
const hostOf = (r: MatchResult): string | null => {
  const h = r.hits.find((x) => !x.nofail);
  return h && h.addr === null && h.groups.dns !== undefined && h.id === h.groups.dns ? h.id : null;
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
  const m = new Matcher(f.value, { checkAll, noDate: 'now', timezone: zone });
  const isFile = existsSync(log);
  let tested = 0; let ignored = 0; let matched = 0; let missed = 0;
  const found: string[] = [];
  let buffer = '';
  let n = 0;
  const source = isFile ? log : 'argv';
  const recent: Array<'matched' | 'ignored' | 'missed'> = []; // statuses of the last lines, for multi-line relabelling
  // fail2ban-regex resolves names by default (usedns warn); we only when --usedns yes|warn is given, never with -r.
  const hosts = !raw && (usedns === 'yes' || usedns === 'warn') ? new HostResolver({ clock: systemClock }) : null;
  const one = (text: string): void | Promise<void> => {
    n++;
    if (isFile && (text.startsWith('#') || text === '')) return;
    const r = m.match({ text, source });
    const o = outcomeOf(n, r);
    const name = hosts && o.matched ? hostOf(r) : null;
    if (name === null) { count(r, o); return; }
    // Matching state moved on already; only the counting of this line waits for its lookup.
    return (hosts as HostResolver).resolve(name).then((res) => {
      if (res.addrs.length === 0) count(r, { ...o, matched: false, address: null, time: null, groups: {} });
      else count(r, { ...o, address: res.addrs[0]?.text ?? null, addresses: res.addrs.map((x) => x.text) });
    });
  };
  const count = (r: MatchResult, o: LineOutcome): void => {
    tested++;
    // fail2ban-regex counts earlier lines consumed by a multi-line failure as matched.
    for (const k of r.consumedBack ?? []) {
      const i = recent.length - k;
      if (i >= 0 && recent[i] === 'missed') { recent[i] = 'matched'; missed--; matched++; }
    }
    recent.push(o.matched ? 'matched' : o.ignored ? 'ignored' : 'missed');
    if (recent.length > 64) recent.shift();
    if (o.matched) { matched++; for (const a of o.addresses ?? [o.address]) if (found.length <= 50) found.push(`    ${a}  (${o.time === null ? 'no time' : fmtTime(o.time)})`); }
    else if (o.ignored) ignored++; else missed++;
    if (json) {
      buffer += `${JSON.stringify({ line: o.line, matched: o.matched, address: o.address, time: o.time, groups: o.groups, ...(o.addresses ? { addresses: o.addresses } : {}) })}\n`;
      if (buffer.length > 65536) { out.write(buffer); buffer = ''; }
    }
  };
  if (isFile) await forEachLine(log, one);
  else for (const l of log.split('\n')) { const p = one(l.replace(/\r$/, '')); if (p) await p; }
  if (json) { out.write(buffer); return 0; }
  out.write(`\nResults\n=======\n\nFailregex: ${f.value.failregex.length} regexes, filter ${f.value.name}\n|- matched addresses:\n${found.slice(0, 50).join('\n')}${matched > 50 ? `\n    ... ${matched - 50} more` : ''}\n\`-\n\n`);
  out.write(`Lines: ${tested} lines, ${ignored} ignored, ${matched} matched, ${missed} missed\n`);
  return 0;
};

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { EX_CONFIG, formatDiagnostic } from '../../core/diagnostics.js';
import { loadFilter } from '../filters/load.js';
import { Matcher, type MatchResult } from '../filters/matcher.js';
import { parseTimeZone } from '../filters/date/time-zone.js';

const USAGE = 'usage: sentryban regex [--json] [--timezone TZ] [--first] LOG FILTER\n';

export type LineOutcome = { line: number; matched: boolean; ignored: boolean; address: string | null; time: number | null; groups: Record<string, string> };

// fail2ban-regex's view of one line: matched when a hit is not "nofail"; ignored by an ignoreregex or nofail.
export const outcomeOf = (lineNo: number, r: MatchResult): LineOutcome => {
  const hit = r.hits.find((h) => !h.nofail);
  const matched = hit !== undefined && !(r.ignored && r.hits.every((h) => h.nofail || h.id === null));
  return { line: lineNo, matched, ignored: !matched && r.ignored, address: matched ? hit?.id ?? null : null, time: matched && r.time !== null ? Math.floor(r.time / 1000) : null, groups: matched ? hit?.groups ?? {} : {} };
};

const decoder = new TextDecoder('utf-8', { fatal: false });

// Streams a file line by line (bounded memory, invalid UTF-8 as U+FFFD, a last line without newline included).
const forEachLine = (path: string, fn: (line: string) => void): void => {
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
        fn(text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end));
        if (nl < 0) break;
        start = nl + 1;
      }
    }
    if (carry.length) fn(decoder.decode(carry).replace(/\r$/, ''));
  } finally { closeSync(fd); }
};

const fmtTime = (sec: number): string => new Date(sec * 1000).toISOString().replace('T', ' ').slice(0, 19);

// `sentryban regex LOG FILTER`: the peer of fail2ban-regex (check-all, comment and empty lines skipped).
export const runRegex = async (argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> => {
  let json = false; let tz: string | undefined; let checkAll = true;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a === '--first') checkAll = false;
    else if (a === '--timezone') tz = argv[++i];
    else if (a === '-h' || a === '--help') { out.write(USAGE); return 0; }
    else pos.push(a);
  }
  if (pos.length !== 2) { err.write(USAGE); return 64; }
  const [log, ref] = pos as [string, string];
  const zone = parseTimeZone(tz);
  if (!zone) { err.write(`sentryban regex: unknown time zone ${JSON.stringify(tz)}\n`); return 64; }
  const f = loadFilter(ref);
  if (!f.ok) { for (const d of f.errors) err.write(`${formatDiagnostic(d)}\n`); return EX_CONFIG; }
  const m = new Matcher(f.value, { checkAll, noDate: 'drop', timezone: zone });
  const isFile = existsSync(log);
  let tested = 0; let ignored = 0; let matched = 0; let missed = 0;
  const found: string[] = [];
  let buffer = '';
  let n = 0;
  const source = isFile ? log : 'argv';
  const one = (raw: string): void => {
    n++;
    if (isFile && (raw.startsWith('#') || raw === '')) return;
    const o = outcomeOf(n, m.match({ text: raw, source }));
    tested++;
    if (o.matched) { matched++; if (found.length <= 50) found.push(`    ${o.address}  (${o.time === null ? 'no time' : fmtTime(o.time)})`); }
    else if (o.ignored) ignored++; else missed++;
    if (json) {
      buffer += `${JSON.stringify({ line: o.line, matched: o.matched, address: o.address, time: o.time, groups: o.groups })}\n`;
      if (buffer.length > 65536) { out.write(buffer); buffer = ''; }
    }
  };
  if (isFile) forEachLine(log, one); else for (const l of log.split('\n')) one(l.replace(/\r$/, ''));
  if (json) { out.write(buffer); return 0; }
  out.write(`\nResults\n=======\n\nFailregex: ${f.value.failregex.length} regexes, filter ${f.value.name}\n|- matched addresses:\n${found.slice(0, 50).join('\n')}${matched > 50 ? `\n    ... ${matched - 50} more` : ''}\n\`-\n\n`);
  out.write(`Lines: ${tested} lines, ${ignored} ignored, ${matched} matched, ${missed} missed\n`);
  return 0;
};

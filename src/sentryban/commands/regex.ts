import { existsSync, readFileSync } from 'node:fs';
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
  const lines = isFile ? readFileSync(log, 'latin1') : log;
  const text = isFile ? Buffer.from(lines, 'latin1').toString('utf8') : lines;
  let tested = 0; let ignored = 0; let matched = 0; let missed = 0;
  const found: string[] = [];
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  let buffer = '';
  for (let n = 0; n < rows.length; n++) {
    const raw = (rows[n] as string).replace(/\r$/, '');
    if (isFile && (raw.startsWith('#') || raw === '')) continue;
    const o = outcomeOf(n + 1, m.match({ text: raw, source: isFile ? log : 'argv' }));
    tested++;
    if (o.matched) { matched++; found.push(`    ${o.address}  (${o.time === null ? 'no time' : fmtTime(o.time)})`); }
    else if (o.ignored) ignored++; else missed++;
    if (json) buffer += `${JSON.stringify({ line: o.line, matched: o.matched, address: o.address, time: o.time, groups: o.groups })}\n`;
    if (buffer.length > 65536) { out.write(buffer); buffer = ''; }
  }
  if (json) { out.write(buffer); return 0; }
  out.write(`\nResults\n=======\n\nFailregex: ${f.value.failregex.length} regexes, filter ${f.value.name}\n|- matched addresses:\n${found.slice(0, 50).join('\n')}${found.length > 50 ? `\n    ... ${found.length - 50} more` : ''}\n\`-\n\n`);
  out.write(`Lines: ${tested} lines, ${ignored} ignored, ${matched} matched, ${missed} missed\n`);
  return 0;
};

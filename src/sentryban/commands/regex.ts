import { closeSync, openSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { EX_CONFIG, formatDiagnostic } from '../../core/diagnostics.js';
import { loadFilter } from '../filters/load.js';
import type { Matcher, MatchResult } from '../filters/matcher.js';
import type { Filter } from '../filters/filter.js';
import { parseTimeZone } from '../filters/date/time-zone.js';
import type { LogLine } from '../types.js';
import { systemClock } from '../../core/clock.js';
import { releaseOptimizer } from '../../core/start-up-jit.js';
import { Tally } from './regex-tally.js';
import { matchInRanges, planRanges, startCrew } from './regex-parallel.js';
import type { RegexSetup } from './regex-setup.js';
import { USEDNS_VALUES } from '../dns/host-failures.js';
import type { HostResolver, Resolution } from '../dns/resolver.js';
import { forEachLine, matcherFor, skipped } from './regex-lines.js';

const USAGE =
  'usage: sentryban regex [--json] [--timezone TZ] [--first] [--usedns yes|warn|no|raw] [-r|--raw] [--threads N] LOG FILTER\n';

export type LineOutcome = {
  line: number;
  matched: boolean;
  ignored: boolean;
  address: string | null;
  time: number | null;
  groups: Record<string, string>;
  addresses?: string[];
};

// fail2ban-regex's view of one line: "ignored" when an ignoreregex or any nofail hit said so, else "matched"
// when a failregex hit, else "missed".
export const outcomeOf = (lineNo: number, r: MatchResult): LineOutcome => {
  const hit = r.ignored ? undefined : r.hits.find((h) => !h.nofail);
  const matched = hit !== undefined;
  return {
    line: lineNo,
    matched,
    ignored: r.ignored,
    address: hit?.id ?? null,
    time: matched && r.time !== null ? Math.floor(r.time / 1000) : null,
    groups: hit?.groups ?? {},
  };
};

const EX_NOINPUT = 66;
const EX_IOERR = 74;
const reason = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);
const isRegularFile = (path: string): boolean => {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
};

// The matcher for a setup, its filter loaded (see matcherFor).
export const makeMatcher = (
  s: RegexSetup,
): { m: Matcher; tick: () => void; failregexes: number; name: string; filter: Filter } | string[] => {
  const f = loadFilter(s.ref, s.usedns ? { usedns: s.usedns } : {});
  if (!f.ok) return f.errors.map((d) => formatDiagnostic(d));
  return { ...matcherFor(s, f.value), failregexes: f.value.failregex.length, name: f.value.name, filter: f.value };
};

// The host name of the line's first counted hit, when it is a name rather than an address (usedns yes/warn).
const hostOf = (r: MatchResult): string | null => {
  if (r.ignored) return null;
  for (const h of r.hits)
    if (!h.nofail) return h.addr === null && h.groups.dns !== undefined && h.id === h.groups.dns ? h.id : null;
  return null;
};

// `sentryban regex LOG FILTER`: the peer of fail2ban-regex (check-all, comment and empty lines skipped).
// opts.now: a fixed clock for the lines without date (tests).
export const runRegex = async (
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  opts: { now?: number } = {},
): Promise<number> => {
  let threads: number | undefined;
  let json = false;
  let tz: string | undefined;
  let checkAll = true;
  let usedns: string | undefined;
  let raw = false;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a === '--first') checkAll = false;
    else if (a === '--timezone') tz = argv[++i];
    else if (a === '--usedns') usedns = argv[++i];
    else if (a.startsWith('--usedns=')) usedns = a.slice(9);
    else if (a === '-r' || a === '--raw') raw = true;
    else if (a === '--threads') threads = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      out.write(USAGE);
      return 0;
    } else pos.push(a);
  }
  if (pos.length !== 2) {
    err.write(USAGE);
    return 64;
  }
  const [log, ref] = pos as [string, string];
  const zone = parseTimeZone(tz);
  if (!zone) {
    err.write(`sentryban regex: unknown time zone ${JSON.stringify(tz)}\n`);
    return 64;
  }
  if (usedns !== undefined && !(USEDNS_VALUES as readonly string[]).includes(usedns)) {
    err.write(`sentryban regex: --usedns expects yes, warn, no or raw, got ${JSON.stringify(usedns)}\n`);
    return 64;
  }
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    err.write(`sentryban regex: --threads expects 1 to 64\n`);
    return 64;
  }
  // fail2ban-regex resolves names by default (usedns warn); we only when --usedns yes|warn is given, never with -r.
  const resolving = !raw && (usedns === 'yes' || usedns === 'warn');
  // A one-shot batch, unlike the daemon (young-gen.js keeps its young generation at its start size): let it
  // grow to its maximum at the first growth. With a 1 MiB young generation every ~700 lines scavenge and
  // promote; measured on 1,000,000 sshd lines: ~10% less CPU and less peak RSS (fewer objects promoted).
  try {
    setFlagsFromString('--semi-space-growth-factor=16');
  } catch {
    /* an unknown flag: the default growth */
  }
  const setup: RegexSetup = {
    ref,
    usedns,
    checkAll,
    tz,
    countOnly: !json && !resolving,
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  };
  // As fail2ban-regex (os.path.isfile): a regular file is read, anything else (a directory, a missing path) is
  // the log line itself. A file that cannot be read is an error, not a line.
  const isFile = isRegularFile(log);
  if (isFile) {
    try {
      closeSync(openSync(log, 'r'));
    } catch (e) {
      err.write(`sentryban regex: cannot read ${log}: ${reason(e)}\n`);
      return EX_NOINPUT;
    }
  }
  // The summary of a big file is counted in pieces by several threads (same counts, see regex-parallel.ts).
  const plan = isFile && !json && !resolving ? planRanges(log, threads) : null;
  const crew = plan ? startCrew(plan, setup) : null;
  const made = makeMatcher(setup);
  if (Array.isArray(made)) {
    await crew?.stop();
    for (const e of made) err.write(`${e}\n`);
    return EX_CONFIG;
  }
  crew?.share(made.filter);
  // Held by bin/sentryban until now (main.ts): the modules and the filter's translation ran once; the lines'
  // path is optimized as usual (flags are the process's: the workers' start-up, under way, is held too).
  releaseOptimizer();
  const { m, tick } = made;
  const tally = new Tally();
  let buffer = '';
  let n = 0;
  const source = isFile ? log : 'argv';
  const line: LogLine = { text: '', source };
  // (its module, and node:dns with it, only loaded when names are looked up)
  const hosts = resolving ? new (await import('../dns/resolver.js')).HostResolver({ clock: systemClock }) : null;
  const one = (text: string): void | Promise<void> => {
    n++;
    if (isFile && skipped(text)) return;
    line.text = text; // one LogLine for all lines: the matcher keeps none
    const r = m.match(line);
    const name = hosts ? hostOf(r) : null;
    // The next line is matched only after this count (the caller awaits), so `r` stays this line's.
    if (name !== null) return (hosts as HostResolver).resolve(name).then((res) => count(r, res));
    count(r, null);
  };
  const count = (r: MatchResult, res: Resolution | null): void => {
    tally.count(r, res);
    if (json) {
      let o = outcomeOf(n, r);
      if (res)
        o = res.addrs.length
          ? { ...o, address: res.addrs[0]?.text ?? null, addresses: res.addrs.map((a) => a.text) }
          : { ...o, matched: false, address: null, time: null, groups: {} };
      buffer += `${JSON.stringify({ line: o.line, matched: o.matched, address: o.address, time: o.time, groups: o.groups, ...(o.addresses ? { addresses: o.addresses } : {}) })}\n`;
      if (buffer.length > 65536) {
        out.write(buffer);
        buffer = '';
      }
    }
  };
  try {
    if (crew) {
      const note = await matchInRanges(crew, m, tally, (from, to) => forEachLine(log, one, tick, from, to));
      if (process.env.SENTRYBAN_REGEX_DEBUG) err.write(`${note}\n`);
    } else if (isFile) await forEachLine(log, one, tick);
    else
      for (const l of log.split('\n')) {
        const p = one(l.replace(/\r$/, ''));
        if (p) await p;
      }
  } catch (e) {
    // The file went away or failed under us (a disk error): say so; no partial summary.
    await crew?.stop();
    err.write(`sentryban regex: reading ${log} failed: ${reason(e)}\n`);
    return EX_IOERR;
  }
  if (json) {
    out.write(buffer);
    return 0;
  }
  const { found, matched } = tally;
  out.write(
    `\nResults\n=======\n\nFailregex: ${made.failregexes} regexes, filter ${made.name}\n|- matched addresses:\n${found.slice(0, 50).join('\n')}${matched > 50 ? `\n    ... ${matched - 50} more` : ''}\n\`-\n\n`,
  );
  out.write(`Lines: ${tally.tested} lines, ${tally.ignored} ignored, ${matched} matched, ${tally.missed} missed\n`);
  return 0;
};

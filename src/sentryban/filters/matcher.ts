import { parseAddr } from '../../core/addr.js';
import type { Failure, LogLine } from '../types.js';
import { groupsOf, type CompiledRegex } from './compiled-regex.js';
import { DateDetector } from './date/detector.js';
import type { TimeZone } from './date/time-zone.js';
import type { Filter } from './filter.js';
import { MlfidCache, mergeFailure, type FailData } from './mlfid.js';

type Tuple = [string, string, string]; // text before the date, the date, text after it

export type MatcherOptions = {
  checkAll?: boolean; // try every failregex (fail2ban-regex) instead of stopping at the first hit (the daemon)
  timezone?: TimeZone; // logtimezone; default the host's zone
  now?: () => number; // epoch ms, the injected clock
  noDate?: 'now' | 'drop'; // a line without date: use the time it was read (followed logs) or drop its failure (replay)
};

// One failregex hit, including those fail2ban does not count (nofail, pending session without address).
export type Hit = { regex: number; id: string | null; addr: Failure['addr']; cidr?: number; time: number | null; groups: Record<string, string>; nofail: boolean };

export type MatchResult = {
  failures: Failure[]; // what the jail counts
  hits: Hit[];
  time: number | null; // epoch ms of the line's date (null when none was found)
  ignored: boolean; // an ignoreregex or a nofail hit said so (fail2ban-regex's "ignored")
};

const EMPTY: MatchResult = Object.freeze({ failures: [], hits: [], time: null, ignored: false }) as MatchResult;
const joinBuf = (lines: readonly Tuple[]): string => {
  if (lines.length === 1) { const l = lines[0] as Tuple; return `${l[0]}${l[2]}\n`; }
  let s = '';
  for (const l of lines) s += `${l[0]}${l[2]}\n`;
  return s;
};

// Lines of the buffer covered by a match [start, end) in buf, as fail2ban's Regex.search computes them.
const splitMatched = (buf: string, m: RegExpExecArray, org: Tuple[]): { matched: Tuple[]; unmatched: Tuple[] } => {
  if (org.length <= 1) return { matched: org, unmatched: [] };
  const s = m.index; const e = m.index + m[0].length;
  const ls = buf.lastIndexOf('\n', s) + 1 > 0 ? buf.lastIndexOf('\n', s) + 1 : 0;
  const le0 = buf.indexOf('\n', Math.max(0, e - 1));
  const le = le0 < 0 ? buf.length : le0 + 1;
  const count = (to: number): number => { let c = 0; for (let i = buf.indexOf('\n'); i >= 0 && i < to; i = buf.indexOf('\n', i + 1)) c++; return c; };
  const c1 = count(ls); const c2 = count(le);
  return { matched: org.slice(c1, c2), unmatched: [...org.slice(0, c1), ...org.slice(c2)] };
};

const idOf = (text: string, cidr: number | undefined): { id: string; addr: Failure['addr']; cidr?: number } => {
  const a = parseAddr(text);
  if (!a) return { id: text, addr: null };
  const full = a.family === 4 ? 32 : 128;
  if (cidr === undefined || cidr >= full) return { id: a.text, addr: a };
  return { id: `${a.text}/${cidr}`, addr: a, cidr };
};

// Matches lines against one filter, keeping fail2ban's per-file state (last date template, line buffer, sessions).
export class Matcher {
  readonly filter: Filter;
  #opts: Required<Pick<MatcherOptions, 'checkAll' | 'noDate'>> & MatcherOptions;
  #dates: DateDetector;
  #buffer: Tuple[] = [];
  #lastDate: number | null = null; // epoch seconds
  #lastDateText = '';
  #mlfid = new MlfidCache();

  constructor(filter: Filter, opts: MatcherOptions = {}) {
    this.filter = filter;
    this.#opts = { checkAll: false, noDate: 'now', ...opts };
    this.#dates = new DateDetector(filter.dateTemplates, opts.timezone ?? { kind: 'local' });
  }

  #now(): number { return this.#opts.now ? this.#opts.now() : Date.now(); }

  // `time` (epoch ms) is given by sources that know it (journald): no date detection then.
  match(line: LogLine, time?: number): MatchResult {
    const text = line.text.endsWith('\n') || line.text.endsWith('\r') ? line.text.replace(/[\r\n]+$/, '') : line.text;
    const nowMs = this.#now();
    let tuple: Tuple;
    let date: number | null = null;
    if (time !== undefined) { tuple = ['', '', text]; date = time / 1000; }
    else {
      const f = this.#dates.find(text, nowMs);
      if (f) {
        tuple = [text.slice(0, f.start), text.slice(f.start, f.end), text.slice(f.end)];
        if (!f.empty) { if (f.time !== null) { date = f.time; this.#lastDate = date; this.#lastDateText = tuple[1]; } }
        else if (this.#lastDate !== null && this.#lastDate > nowMs / 1000 - 60) { tuple = ['', this.#lastDateText, text]; date = this.#lastDate; }
        else date = nowMs / 1000;
      } else tuple = ['', '', text];
      if (date === null) {
        if (this.#lastDate !== null && this.#lastDate > nowMs / 1000 - 60) { tuple = ['', this.#lastDateText, text]; date = this.#lastDate; }
        else if (this.#opts.noDate === 'now') date = (line.at ?? nowMs) / 1000;
      }
    }
    return this.#find(tuple, date, line, nowMs);
  }

  #ignored(buf: string): boolean {
    for (const r of this.filter.ignoreregex) { r.re.lastIndex = 0; if (r.re.test(buf)) return true; }
    return false;
  }

  #find(tuple: Tuple, date: number | null, line: LogLine, nowMs: number): MatchResult {
    const f = this.filter;
    const checkAll = this.#opts.checkAll;
    const multi = f.maxlines > 1;
    let org: Tuple[];
    if (multi) { this.#buffer.push(tuple); if (this.#buffer.length > f.maxlines) this.#buffer = this.#buffer.slice(-f.maxlines); org = this.#buffer; }
    else { org = [tuple]; this.#buffer = org; }
    let buf: string | null = joinBuf(org);
    const timeMs = date === null ? null : date * 1000;
    if (f.ignoreregex.length && f.ignoreregex.length < f.failregex.length - 2 && this.#ignored(buf)) return { ...EMPTY, time: timeMs, ignored: true };
    let pre: Record<string, string> | null = null;
    let preMatch: RegExpExecArray | null = null;
    let contentOnly: string | null = null;
    if (f.prefregex) {
      const m = f.prefregex.re.exec(buf);
      if (!m) return timeMs === null ? EMPTY : { ...EMPTY, time: timeMs };
      preMatch = m;
      const content = m.groups?.content;
      if (content) { this.#buffer = [['', '', content]]; buf = null; contentOnly = content; }
    }
    // What a single-line regex sees (without the trailing newline), for the leading-literal reject.
    const head = multi ? null : contentOnly ?? tuple[0] + tuple[2];
    const hits: Hit[] = [];
    let ignored = false;
    for (let i = 0; i < f.failregex.length; i++) {
      const r = f.failregex[i] as CompiledRegex;
      if (head !== null && r.prefix !== null && !head.startsWith(r.prefix)) continue;
      if (buf === null) buf = joinBuf(this.#buffer);
      const m = r.re.exec(buf);
      if (!m) continue;
      if (preMatch && !pre && f.prefregex) { pre = groupsOf(f.prefregex, preMatch); delete pre.content; }
      let fail: FailData = groupsOf(r, m);
      const split = splitMatched(buf, m, org);
      if (f.ignoreregex.length && this.#ignored(multi ? joinBuf(split.matched) : buf)) {
        ignored = true;
        if (!checkAll || multi) this.#buffer = split.unmatched;
        buf = null;
        if (!checkAll) break;
        continue;
      }
      if (!checkAll || multi) { this.#buffer = split.unmatched; buf = null; }
      if (pre) { for (const k in pre) if (fail[k] === undefined) fail[k] = pre[k]; }
      const mlfid = fail.mlfid as string | undefined;
      if (mlfid !== undefined) {
        fail = mergeFailure(this.#mlfid, mlfid, fail, nowMs);
        if (fail.nofail && !checkAll) { hits.push(this.#hit(i, null, null, undefined, timeMs, fail, true)); break; }
      }
      const g = fail as Record<string, unknown>;
      let fid = g.fid as string | undefined;
      let ip = g.ip4 as string | undefined;
      let cidr: number | undefined;
      if (ip !== undefined) cidr = g.cidr ? Number(g.cidr) : undefined;
      else if ((ip = g.ip6 as string | undefined) !== undefined) cidr = g.cidr ? Number(g.cidr) : undefined;
      else { ip = g.dns as string | undefined; if (ip === undefined && mlfid === undefined) ip = fid; }
      let id: ReturnType<typeof idOf> | null = null;
      if (ip === undefined) g.mlfpending = 1;
      else if (fid === undefined || fid === ip) id = idOf(ip, cidr);
      else { const a = idOf(ip, cidr); id = { id: fid, addr: a.addr, ...(a.cidr !== undefined ? { cidr: a.cidr } : {}) }; }
      hits.push(this.#hit(i, id?.id ?? null, id?.addr ?? null, id?.cidr, timeMs, fail, Boolean(g.nofail)));
      if (!checkAll) break;
    }
    const failures: Failure[] = [];
    for (const h of hits) {
      if (h.nofail) { ignored = true; continue; }
      if (h.id === null || h.time === null) continue;
      failures.push({ id: h.id, addr: h.addr, ...(h.cidr !== undefined ? { cidr: h.cidr } : {}), time: h.time, filter: f.name, source: line.source, lines: [line.text], groups: h.groups, ...(h.groups.user ? { user: h.groups.user } : {}) });
    }
    return { failures, hits, time: timeMs, ignored };
  }

  #hit(regex: number, id: string | null, addr: Failure['addr'], cidr: number | undefined, time: number | null, fail: FailData, nofail: boolean): Hit {
    const groups: Record<string, string> = {};
    for (const [k, v] of Object.entries(fail)) if (typeof v === 'string') groups[k] = v;
    return { regex, id, addr, ...(cidr !== undefined ? { cidr } : {}), time, groups, nofail };
  }
}

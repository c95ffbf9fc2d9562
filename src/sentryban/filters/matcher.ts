import type { Failure, LogLine } from '../types.js';
import type { CompiledRegex } from './compiled-regex.js';
import { contentTestOf, groupOf, groupsOf } from './regex-groups.js';
import { DateDetector } from './date/detector.js';
import type { TimeZone } from './date/time-zone.js';
import type { Filter } from './filter.js';
import { MlfidCache, mergeFailure, type FailData } from './mlfid.js';
import { ADDR_CACHE_MAX, cachedIdOf, freshIdOf, type Id, type IdOf } from './addr-ids.js';

type Tuple = [string, string, string]; // text before the date, the date, text after it

export type MatcherOptions = {
  checkAll?: boolean; // try every failregex (fail2ban-regex) instead of stopping at the first hit (the daemon)
  timezone?: TimeZone; // logtimezone; default the host's zone
  now?: () => number; // epoch ms, the injected clock
  noDate?: 'now' | 'drop'; // a line without date: use the time it was read (followed logs) or drop its failure (replay)
  // Results for counting only (sentryban regex's summary): `failures` always empty and hits without `groups`
  // (an empty object) nor `addr` (null), their ids as captured (`rawId`: hitId() gives the id the other mode
  // has); which hits, their times, `ignored` and `consumedBack` are the same. With `idOf` given, the hits carry
  // the ids it makes, as in the other mode (`sentryban replay`'s matching thread).
  countOnly?: boolean;
  // How many address texts the id cache holds before it is cleared (default 16,384, the daemon's bound). A one-shot
  // batch over many addresses sets more (`sentryban replay`: 35,000 addresses in 1M varied sshd lines).
  addrCache?: number;
  // Makes the failures' ids instead of the cache above (`sentryban replay`'s matching thread: ids made from the
  // address texts on the other thread, see commands/replay-feed.ts).
  idOf?: IdOf;
};

// One failregex hit, including those fail2ban does not count (nofail, pending session without address).
export type Hit = {
  regex: number;
  id: string | null;
  addr: Failure['addr'];
  cidr?: number;
  time: number | null;
  groups: Record<string, string>;
  nofail: boolean;
  lines?: string[];
  // Counting only: `id` is the captured address text as written (not parsed: nothing but the first 50 ids of a
  // summary is ever shown), made canonical by hitId() where shown; `cidr` the captured one.
  rawId?: boolean;
};

// A hit's id as the daemon's matcher makes it (the address canonical, through ipaddr.js), in either mode.
export const hitId = (h: Hit): string | null => (h.rawId && h.id !== null ? freshIdOf(h.id, h.cidr).id : h.id);

// A hit the jail counts, of which #reportFailures makes a Failure: not nofail, with an id and a time.
export const countedHit = (h: Hit): h is Hit & { id: string; time: number } =>
  !h.nofail && h.id !== null && h.time !== null;

export type MatchResult = {
  failures: Failure[]; // what the jail counts
  hits: Hit[];
  time: number | null; // epoch ms of the line's date (null when none was found)
  ignored: boolean; // an ignoreregex or a nofail hit said so (fail2ban-regex's "ignored")
  // Multi-line filters: earlier lines (k lines back, among the lines given to match()) that this match consumed
  // into a failure; fail2ban-regex counts them as matched.
  consumedBack?: number[];
};

const NONE: never[] = []; // shared by results without hits (as EMPTY's arrays were)
const NO_GROUPS: Record<string, string> = Object.freeze({});
const EMPTY: MatchResult = Object.freeze({ failures: NONE, hits: NONE, time: null, ignored: false });
const joinBuf = (lines: readonly Tuple[]): string => {
  if (lines.length === 1) {
    const l = lines[0] as Tuple;
    return `${l[0]}${l[2]}\n`;
  }
  let s = '';
  for (const l of lines) s += `${l[0]}${l[2]}\n`;
  return s;
};

// Lines of the buffer covered by a match [start, end) in buf, as fail2ban's Regex.search computes them.
const splitMatched = (
  buf: string,
  m: RegExpExecArray,
  org: Tuple[],
): { matched: Tuple[]; unmatched: Tuple[]; before: number } => {
  if (org.length <= 1) return { matched: org.slice(), unmatched: [], before: 0 };
  const s = m.index;
  const e = m.index + m[0].length;
  const ls = buf.lastIndexOf('\n', s) + 1 > 0 ? buf.lastIndexOf('\n', s) + 1 : 0;
  const le0 = buf.indexOf('\n', Math.max(0, e - 1));
  const le = le0 < 0 ? buf.length : le0 + 1;
  const count = (to: number): number => {
    let c = 0;
    for (let i = buf.indexOf('\n'); i >= 0 && i < to; i = buf.indexOf('\n', i + 1)) c++;
    return c;
  };
  const c1 = count(ls);
  const c2 = count(le);
  return { matched: org.slice(c1, c2), unmatched: [...org.slice(0, c1), ...org.slice(c2)], before: c1 };
};

// Lines captured by <SKIPLINES> go back to the buffer as unmatched, after the lines before the match
// (fail2ban's Regex.getSkippedLines).
const putBackSkipped = (
  split: { matched: Tuple[]; unmatched: Tuple[]; before: number },
  groups: Record<string, unknown>,
): void => {
  const keys = Object.keys(groups)
    .filter((k) => /^skiplines\d+$/.test(k))
    .sort((a, b) => Number(a.slice(9)) - Number(b.slice(9)));
  const skipped = keys.map((k) => String(groups[k])).join('');
  const lines = skipped.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const back: Tuple[] = [];
  let from = 0;
  for (const sl of lines) {
    const i = split.matched.findIndex((t, k) => k >= from && t[0] + t[2] === sl);
    if (i < 0) continue;
    back.push(...split.matched.splice(i, 1));
    from = i;
  }
  split.unmatched.splice(split.before, 0, ...back);
};

const startsWithAny = (s: string, list: readonly string[]): boolean => {
  for (const p of list) if (s.startsWith(p)) return true;
  return false;
};

// One line's matching state, shared by the steps of Matcher.#find: one object per matcher, reset per line (no
// allocation per line).
class LineScan {
  lineBuf = ''; // the line (or the multi-line buffer) as fail2ban's regexes see it, with its "\n"
  buf: string | null = null; // what the next failregex runs on; null: to be made again (Matcher.#bufOf)
  multi = false;
  org: Tuple[] = NONE; // the multi-line buffer with this line, as it was before any hit
  head: string | null = null; // single-line: the text the failregexes' literal prefixes are tested on
  contentOnly: string | null = null; // the prefregex's content
  contentBuf: string | null = null; // the content + "\n", made once
  contentTuple: Tuple | null = null;
  preMatch: RegExpExecArray | null = null;
  pre: Record<string, string> | null = null; // the prefregex's groups, taken at the first hit
  split: ReturnType<typeof splitMatched> | null = null; // the lines the last hit consumed (multi-line)
  mlfid: string | undefined = undefined; // the last hit's session id
  ignored = false;
  timeMs: number | null = null;
  nowMs = 0;

  start(lineBuf: string, org: Tuple[], multi: boolean, timeMs: number | null, nowMs: number): void {
    this.lineBuf = lineBuf;
    this.buf = lineBuf;
    this.multi = multi;
    this.org = org;
    this.head = null;
    this.contentOnly = null;
    this.contentBuf = null;
    this.contentTuple = null;
    this.preMatch = null;
    this.pre = null;
    this.split = null;
    this.mlfid = undefined;
    this.ignored = false;
    this.timeMs = timeMs;
    this.nowMs = nowMs;
  }
}

// Hit groups: the string values of the failure data; none for counting only (see MatcherOptions.countOnly).
const copyGroups = (fail: FailData): Record<string, string> => {
  const groups: Record<string, string> = {};
  for (const k in fail) {
    const v = fail[k];
    if (typeof v === 'string') groups[k] = v;
  }
  return groups;
};
const noGroups = (): Record<string, string> => NO_GROUPS;

type Scan = (s: LineScan) => Hit[] | null;
type Report = (
  hits: Hit[],
  s: LineScan,
  line: LogLine,
  lineText: string,
  before: Tuple[] | null,
  seq: number,
) => MatchResult;

// Matches lines against one filter, keeping fail2ban's per-file state (last date template, line buffer, sessions).
export class Matcher {
  readonly filter: Filter;
  #opts: Required<Pick<MatcherOptions, 'checkAll' | 'noDate'>> & MatcherOptions;
  #dates: DateDetector;
  #buffer: Tuple[] = [];
  #lastDate: number | null = null; // epoch seconds
  #lastDateSrc = ''; // the last date's text is #lastDateSrc.slice(#lastDateS, #lastDateE), cut when needed
  #lastDateS = 0;
  #lastDateE = 0;
  #mlfid = new MlfidCache();
  #seq = 0;
  #idOf: IdOf;
  // Counting only (`sentryban regex`'s summary): addresses are not parsed at each hit but only where an id is
  // shown (hitId, the summary's first 50). A file has tens of thousands of addresses (35,000 in 1M varied sshd
  // lines, 60,000 in 1M nginx error lines): their parse by ipaddr.js was 16-24% of the command's time, and a cache
  // of them grew the old generation (docs/filters.md, "Throughput", sessions 10 and 11).
  #rawIds: boolean;
  #seqOf = new WeakMap<Tuple, number>();
  #ascii: Array<number[] | undefined>; // filter.dispatch for ASCII first characters, by code
  #two: Array<number[] | undefined> = new Array<number[] | undefined>(128 * 128); // by the first two (see #candidates)
  #lastMiss: MatchResult = EMPTY;
  #prefTest: RegExp | null; // see contentTestOf
  #line = new LineScan();
  // The modes, resolved here so that the daemon's path has no branch for `sentryban regex`'s: the first hit or
  // every failregex (checkAll), failures with their groups or counting only (countOnly).
  #scan: Scan;
  #report: Report;
  #groups: (fail: FailData) => Record<string, string>;

  constructor(filter: Filter, opts: MatcherOptions = {}) {
    this.filter = filter;
    this.#opts = { checkAll: false, noDate: 'now', ...opts };
    this.#dates = new DateDetector(filter.dateTemplates, opts.timezone ?? { kind: 'local' });
    this.#prefTest = filter.prefregex ? contentTestOf(filter.prefregex) : null;
    this.#ascii = Array.from({ length: 128 }, (_, c) => filter.dispatch.get(String.fromCharCode(c)));
    this.#scan = (this.#opts.checkAll ? this.#scanAll : this.#scanFirst).bind(this);
    this.#report = (opts.countOnly ? this.#reportCounts : this.#reportFailures).bind(this);
    this.#groups = opts.countOnly ? noGroups : copyGroups;
    this.#rawIds = opts.countOnly === true && opts.idOf === undefined;
    this.#idOf = opts.idOf ?? cachedIdOf(opts.addrCache ?? ADDR_CACHE_MAX);
  }

  #now(): number {
    return this.#opts.now ? this.#opts.now() : Date.now();
  }

  // `time` (epoch ms) is given by sources that know it (journald): no date detection then.
  // A text ending in one "\n" (as `sentryban regex` hands them) is the line without it; the regex buffer is
  // then cut from it instead of copied.
  match(line: LogLine, time?: number): MatchResult {
    const raw = line.text;
    const n = raw.length;
    const last = n ? raw.charCodeAt(n - 1) : 0;
    let text = raw;
    let withNl: string | null = null;
    if (last === 10 || last === 13) {
      const prev = n > 1 ? raw.charCodeAt(n - 2) : 0;
      if (last === 10 && prev !== 10 && prev !== 13) {
        withNl = raw;
        text = raw.slice(0, n - 1);
      } else text = raw.replace(/[\r\n]+$/, '');
    }
    const nowMs = this.#now();
    // [text before the date, the date, text after it]; null for the common case of a single-line filter, a line
    // with its newline and its date at the start: then it is ['', date, text.slice(cut)] and never needed whole.
    let tuple: Tuple | null;
    let date: number | null = null;
    let cut = 0; // tuple[2] is text.slice(cut) when tuple[0] is ''
    if (time !== undefined) {
      tuple = ['', '', text];
      date = time / 1000;
    } else {
      const d = this.#dates;
      if (d.locate(text, nowMs)) {
        const s = d.start;
        const e = d.end;
        tuple =
          s === 0 && withNl !== null && this.filter.maxlines <= 1
            ? null
            : [s === 0 ? '' : text.slice(0, s), text.slice(s, e), text.slice(e)];
        cut = e;
        if (!d.empty) {
          if (d.time !== null) {
            date = d.time;
            this.#lastDate = date;
            this.#lastDateSrc = text;
            this.#lastDateS = s;
            this.#lastDateE = e;
          }
        } else if (this.#lastDate !== null && this.#lastDate > nowMs / 1000 - 60) {
          tuple = ['', this.#lastDateText(), text];
          cut = 0;
          date = this.#lastDate;
        } else date = nowMs / 1000;
      } else tuple = ['', '', text];
      if (date === null) {
        if (this.#lastDate !== null && this.#lastDate > nowMs / 1000 - 60) {
          tuple = ['', this.#lastDateText(), text];
          cut = 0;
          date = this.#lastDate;
        } else if (this.#opts.noDate === 'now') date = (line.at ?? nowMs) / 1000;
      }
    }
    // tuple[2] + "\n" as a slice of the text that came with its newline (same characters, no copy).
    const bufHint =
      withNl !== null && (tuple === null || tuple[0] === '') ? (cut === 0 ? withNl : withNl.slice(cut)) : null;
    return this.#find(tuple, text, cut, date, line, nowMs, bufHint, withNl !== null ? text : line.text);
  }

  // Everything of this matcher's state that decides the results of the lines to come, as text (caches and
  // clock readings left out). `sentryban regex` compares keys to check that a range matched in another thread,
  // after replaying earlier lines, started from the state the lines before it left.
  stateKey(): string {
    const buf = this.#buffer.map((t) => [
      t[0],
      t[1],
      t[2],
      this.#seqOf.has(t) ? this.#seq - (this.#seqOf.get(t) as number) : -1,
    ]);
    const last = this.#lastDate === null ? null : [this.#lastDate, this.#lastDateText()];
    return JSON.stringify([this.#dates.stateKey(), buf, last, this.#mlfid.stateKey()]);
  }

  // How many times the date detector reordered its templates (see DateDetector.stateKey).
  get dateReorders(): number {
    return this.#dates.reorders;
  }

  #lastDateText(): string {
    return this.#lastDateSrc.slice(this.#lastDateS, this.#lastDateE);
  }

  #ignored(buf: string): boolean {
    for (const r of this.filter.ignoreregex) {
      r.re.lastIndex = 0;
      if (r.re.test(buf)) return true;
    }
    return false;
  }

  // tuple null: single-line filter, the line's text after its date is text.slice(cut), bufHint that plus "\n".
  // The steps shared by both scans: the multi-line buffer, the early ignoreregex test, the prefregex; then the
  // scan chosen at construction, then the result.
  #find(
    tuple: Tuple | null,
    text: string,
    cut: number,
    date: number | null,
    line: LogLine,
    nowMs: number,
    bufHint: string | null,
    lineText: string,
  ): MatchResult {
    const f = this.filter;
    const multi = f.maxlines > 1;
    // A single-line filter keeps no buffer between lines: its buffer is this line (or, after the prefregex, its
    // content) until a hit empties it, which ends the line's matching in the daemon's scan (the other leaves it).
    let org: Tuple[] = NONE;
    const seq = ++this.#seq;
    const before = multi ? this.#buffer.slice(Math.max(0, this.#buffer.length - f.maxlines + 1)) : null;
    if (multi && tuple) {
      this.#seqOf.set(tuple, seq);
      this.#buffer.push(tuple);
      if (this.#buffer.length > f.maxlines) this.#buffer = this.#buffer.slice(-f.maxlines);
      org = this.#buffer;
    }
    const lineBuf = multi ? joinBuf(org) : (bufHint ?? (tuple ? `${tuple[0]}${tuple[2]}\n` : `${text.slice(cut)}\n`));
    const timeMs = date === null ? null : date * 1000;
    if (f.ignoreregex.length && f.ignoreregex.length < f.failregex.length - 2 && this.#ignored(lineBuf))
      return this.#miss(timeMs, true);
    const s = this.#line;
    s.start(lineBuf, org, multi, timeMs, nowMs);
    if (!this.#prefix(s)) return this.#miss(timeMs, false);
    // What a single-line regex sees (without the trailing newline), for the leading-literal reject.
    s.head = multi ? null : (s.contentOnly ?? (tuple ? tuple[0] + tuple[2] : text.slice(cut)));
    const hits = this.#scan(s);
    if (hits === null) return this.#miss(timeMs, s.ignored);
    return this.#report(hits, s, line, lineText, before, seq);
  }

  // The prefregex: false when it does not match. Its content becomes what the failregexes see.
  #prefix(s: LineScan): boolean {
    const f = this.filter;
    const pt = this.#prefTest;
    if (pt !== null && !s.multi) {
      // The content as slices of the line's buffer; the prefregex's groups are taken only at a hit.
      pt.lastIndex = 0;
      const m = pt.exec(s.lineBuf);
      if (m === null) return false;
      s.preMatch = m; // its groups are the prefregex's but content (see contentTestOf), for #failData at a hit
      const cs = pt.lastIndex;
      s.contentOnly = s.lineBuf.slice(cs, s.lineBuf.length - 1);
      s.contentBuf = s.lineBuf.slice(cs);
      s.buf = null;
    } else if (f.prefregex) {
      const m = f.prefregex.re.exec(s.lineBuf);
      if (!m) return false;
      s.preMatch = m;
      const content = groupOf(f.prefregex, m, 'content');
      if (content) {
        if (s.multi) {
          s.contentTuple = ['', '', content];
          this.#buffer = [s.contentTuple];
        }
        s.buf = null;
        s.contentOnly = content;
      }
    }
    return true;
  }

  // The daemon's scan (fail2ban's server): the first failregex that hits ends the line, a hit or ignored.
  // The candidate loop is the same in #scanAll: keep them in step.
  #scanFirst(s: LineScan): Hit[] | null {
    const f = this.filter;
    const head = s.head;
    const cands = head === null ? null : this.#candidates(head);
    const count = cands ? cands.length : f.failregex.length;
    for (let c = 0; c < count; c++) {
      const i = cands ? (cands[c] as number) : c;
      const r = f.failregex[i] as CompiledRegex;
      if (head !== null && r.prefixes !== null && !startsWithAny(head, r.prefixes)) continue;
      const m = r.re.exec(this.#bufOf(s));
      if (!m) continue;
      const fail = this.#failData(s, r, m);
      if (fail === null) return null;
      // A session's context line (nofail): reported as is, without id.
      if (fail.nofail && s.mlfid !== undefined) return [this.#hit(i, null, null, undefined, s.timeMs, fail, true)];
      return [this.#hitOf(s, i, fail)];
    }
    return null;
  }

  // fail2ban-regex's scan (checkAll, `sentryban regex`): every failregex is tried, every hit kept.
  #scanAll(s: LineScan): Hit[] | null {
    const f = this.filter;
    const head = s.head;
    const cands = head === null ? null : this.#candidates(head);
    const count = cands ? cands.length : f.failregex.length;
    let hits: Hit[] | null = null; // made at the first hit
    for (let c = 0; c < count; c++) {
      const i = cands ? (cands[c] as number) : c;
      const r = f.failregex[i] as CompiledRegex;
      if (head !== null && r.prefixes !== null && !startsWithAny(head, r.prefixes)) continue;
      const m = r.re.exec(this.#bufOf(s));
      if (!m) continue;
      const fail = this.#failData(s, r, m);
      if (fail !== null) (hits ??= []).push(this.#hitOf(s, i, fail));
    }
    return hits;
  }

  // The buffer the next failregex runs on, made again after a hit consumed lines or an ignoreregex hit.
  #bufOf(s: LineScan): string {
    if (s.buf !== null) return s.buf;
    if (!s.multi) s.buf = s.contentOnly === null ? s.lineBuf : (s.contentBuf ??= `${s.contentOnly}\n`);
    else if (this.#buffer.length === 1 && this.#buffer[0] === s.contentTuple)
      s.buf = s.contentBuf ??= joinBuf(this.#buffer);
    else s.buf = joinBuf(this.#buffer);
    return s.buf;
  }

  // A failregex's match as failure data (its groups, the prefregex's, the session's), the lines it consumed
  // taken out of the buffer; null when an ignoreregex says so.
  #failData(s: LineScan, r: CompiledRegex, m: RegExpExecArray): FailData | null {
    const f = this.filter;
    const buf = s.buf as string;
    if (!s.pre && f.prefregex && (s.preMatch ??= f.prefregex.re.exec(s.lineBuf)))
      s.pre = groupsOf(f.prefregex, s.preMatch, 'content');
    let fail: FailData = groupsOf(r, m);
    const split = s.multi ? splitMatched(buf, m, s.org) : null; // single line: all of it matched, nothing left
    s.split = split;
    if (split && r.names.has('skiplines0')) putBackSkipped(split, fail);
    if (f.ignoreregex.length && this.#ignored(split ? joinBuf(split.matched) : buf)) {
      s.ignored = true;
      if (split) this.#buffer = split.unmatched;
      s.buf = null;
      return null;
    }
    if (split) {
      this.#buffer = split.unmatched;
      s.buf = null;
    }
    const pre = s.pre;
    if (pre) {
      for (const k in pre) if (fail[k] === undefined) fail[k] = pre[k];
    }
    const mlfid = fail.mlfid as string | undefined;
    s.mlfid = mlfid;
    if (mlfid !== undefined) fail = mergeFailure(this.#mlfid, mlfid, fail, s.nowMs);
    return fail;
  }

  // The hit of failure data: its id (address, subnet, host name or raw fid) and, multi-line, its lines.
  #hitOf(s: LineScan, i: number, fail: FailData): Hit {
    const g = fail as Record<string, unknown>;
    const fid = g.fid as string | undefined;
    let ip = g.ip4 as string | undefined;
    let cidr: number | undefined;
    if (ip !== undefined) cidr = g.cidr ? Number(g.cidr) : undefined;
    else if ((ip = g.ip6 as string | undefined) !== undefined) cidr = g.cidr ? Number(g.cidr) : undefined;
    else {
      // A host name stays the id with addr null; usedns resolves it after matching (src/sentryban/dns/).
      ip = g.dns as string | undefined;
      if (ip === undefined && s.mlfid === undefined) ip = fid;
    }
    let id: Id | null = null;
    if (ip === undefined) g.mlfpending = 1;
    else if (this.#rawIds) {
      const raw = fid === undefined || fid === ip;
      const h: Hit = {
        regex: i,
        id: raw ? ip : fid,
        addr: null,
        cidr: raw ? cidr : undefined,
        time: s.timeMs,
        groups: NO_GROUPS,
        nofail: Boolean(g.nofail),
        rawId: raw,
      };
      return h;
    } else id = this.#idOf(ip, cidr, fid === undefined || fid === ip ? undefined : fid);
    const hit = this.#hit(i, id?.id ?? null, id?.addr ?? null, id?.cidr, s.timeMs, fail, Boolean(g.nofail));
    const split = s.split;
    if (split && split.matched.length > 1) hit.lines = split.matched.map((t) => t.join(''));
    return hit;
  }

  // The daemon's result: the failures the jail counts (a hit with an id and a time, not nofail).
  #reportFailures(
    hits: Hit[],
    s: LineScan,
    line: LogLine,
    lineText: string,
    before: Tuple[] | null,
    seq: number,
  ): MatchResult {
    const name = this.filter.name;
    const failures: Failure[] = [];
    let ignored = s.ignored;
    for (const h of hits) {
      if (h.nofail) {
        ignored = true;
        continue;
      }
      if (!countedHit(h)) continue;
      const lines = h.lines ?? [lineText];
      const { id, addr, time, groups } = h;
      const fo: Failure =
        h.cidr === undefined
          ? { id, addr, time, filter: name, source: line.source, lines, groups }
          : { id, addr, cidr: h.cidr, time, filter: name, source: line.source, lines, groups };
      if (groups.user) fo.user = groups.user;
      failures.push(fo);
    }
    return this.#withBack({ failures, hits, time: s.timeMs, ignored }, before, seq);
  }

  // `sentryban regex`'s summary (countOnly): the hits only, no Failure objects (their groups are empty too).
  #reportCounts(hits: Hit[], s: LineScan, _l: LogLine, _t: string, before: Tuple[] | null, seq: number): MatchResult {
    const ignored = s.ignored || hits.some((h) => h.nofail);
    return this.#withBack({ failures: NONE, hits, time: s.timeMs, ignored }, before, seq);
  }

  // Multi-line: the earlier lines a failure consumed, k lines back.
  #withBack(r: MatchResult, before: Tuple[] | null, seq: number): MatchResult {
    if (!before || !r.hits.some((h) => !h.nofail)) return r;
    const still = new Set(this.#buffer);
    const back = before
      .filter((t) => !still.has(t))
      .map((t) => seq - (this.#seqOf.get(t) ?? seq))
      .filter((k) => k > 0);
    if (back.length) r.consumedBack = back;
    return r;
  }

  // Failregexes worth trying on a text (in order): by its first character (the filter's dispatch table), narrowed
  // by its second for ASCII texts (table made as texts come) — the literal prefixes are still checked one by one.
  #candidates(head: string): number[] {
    const f = this.filter;
    const c0 = head.charCodeAt(0);
    if (!(c0 < 128)) return f.dispatch.get(head[0] ?? '') ?? f.wild;
    const base = this.#ascii[c0] ?? f.wild;
    const c1 = head.charCodeAt(1);
    if (!(c1 < 128) || base.length === 0) return base;
    const key = c0 * 128 + c1;
    let two = this.#two[key];
    if (two === undefined) {
      two = base.filter((i) => {
        const ps = (f.failregex[i] as CompiledRegex).prefixes;
        return ps === null || ps.some((p) => p.length < 2 || p.charCodeAt(1) === c1);
      });
      this.#two[key] = two;
    }
    return two;
  }

  // A result without hits, shared (frozen) by consecutive lines with the same time.
  #miss(time: number | null, ignored: boolean): MatchResult {
    if (time === null && !ignored) return EMPTY;
    const last = this.#lastMiss;
    if (last.time === time && last.ignored === ignored) return last;
    return (this.#lastMiss = Object.freeze({ failures: NONE, hits: NONE, time, ignored }) as MatchResult);
  }

  #hit(
    regex: number,
    id: string | null,
    addr: Failure['addr'],
    cidr: number | undefined,
    time: number | null,
    fail: FailData,
    nofail: boolean,
  ): Hit {
    const groups = this.#groups(fail);
    return cidr === undefined
      ? { regex, id, addr, time, groups, nofail }
      : { regex, id, addr, cidr, time, groups, nofail };
  }
}

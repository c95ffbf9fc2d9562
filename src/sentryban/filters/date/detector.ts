import type { DateTemplate } from './template.js';
import { groupsToEpoch } from './strptime.js';
import type { TimeZone } from './time-zone.js';

// A slot's last conversion (per template, so that lines alternating between formats each find their own): the
// date text, the fields that decide the time (SIG_NAMES, first defined value of each), the time and the clock
// it was converted at.
type Slot = {
  t: DateTemplate;
  hits: number;
  lastUsed: number;
  distance: number;
  at: number;
  sig: (readonly number[])[]; // group numbers of the SIG_NAMES the template has
  sigNames: string[]; // their names
  cText: string;
  cFields: (string | undefined)[] | null;
  cTime: number | null;
  cNow: number;
  // Where cText's fraction digits are ([cFa, cFb), from its start; -1 when none or the template has no
  // DateTemplate.fraction): a text differing from cText only there has cTime.
  cFa: number;
  cFb: number;
  // Where cText's seconds digits are (cSa, two of them; -1 when the template has no DateTemplate.seconds or its
  // minute does not convert linearly) and the time of second 0 of its minute: a text differing from cText only
  // there (00-59) and in the fraction digits has time cMin + its seconds.
  cSa: number;
  cMin: number;
};
export type DateFound = { start: number; end: number; time: number | null; empty: boolean };

const BIG = 0x7fffffff;
// The fields groupsToEpoch reads: two matches with the same values convert to the same time (%f is not one).
const SIG_NAMES = ['y', 'Y', 'm', 'B', 'b', 'd', 'H', 'I', 'p', 'M', 'S', 'j', 'z', 'Z'];
// A conversion is reused within this many ms of the clock it was made at: the clock decides a missing year or
// day, and a template's last conversion can be old when its format comes back after a while.
const REUSE_MS = 60_000;
const isAlnum = (c: string): boolean => /^[\p{L}\p{N}]$/u.test(c);

const exec = (re: RegExp, line: string, from = 0, to = line.length): RegExpExecArray | null => {
  re.lastIndex = from;
  return re.exec(to === line.length ? line : line.slice(0, to));
};

// First defined value of a named group (a name has several numbers when conditional branches copied it).
const groupValue = (m: RegExpExecArray, nums: readonly number[] | undefined): string | undefined => {
  if (nums)
    for (const i of nums) {
      const v = m[i];
      if (v !== undefined) return v;
    }
  return undefined;
};

const firstIndex = (m: RegExpExecArray, nums: readonly number[] | undefined): [number, number] | undefined => {
  if (nums)
    for (const i of nums) {
      const v = m.indices?.[i];
      if (v) return v;
    }
  return undefined;
};

// Position of the date text: from __p (text before it) and __d, or from match indices.
const dateSpan = (m: RegExpExecArray, t: DateTemplate): [number, number] => {
  if (t.byPrefix) {
    const s = m.index + (groupValue(m, t.groups.get('__p'))?.length ?? 0);
    return [s, s + (groupValue(m, t.groups.get('__d'))?.length ?? 0)];
  }
  return firstIndex(m, t.groups.get('__d')) ?? [m.index, m.index + m[0].length];
};

// line.startsWith(s, at), compared from the end (dates differ in their last digits first); V8's startsWith with
// a position is much slower on sliced strings.
const sameAt = (line: string, at: number, s: string): boolean => {
  for (let i = s.length - 1; i >= 0; i--) if (line.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
  return true;
};

// sameAt, but for [a, b) of s (its fraction of a second), where the line may have any ASCII digits.
const sameButDigits = (line: string, at: number, s: string, a: number, b: number): boolean => {
  for (let i = s.length - 1; i >= b; i--) if (line.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
  for (let i = b - 1; i >= a; i--) {
    const c = line.charCodeAt(at + i);
    if (c < 48 || c > 57) return false;
  }
  for (let i = a - 1; i >= 0; i--) if (line.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
  return true;
};

// The seconds (00-59) of the line's date when it differs from the slot's cText only in its seconds digits and its
// fraction digits (same length: the caller checks), else -1.
const secondsIfSameMinute = (line: string, at: number, slot: Slot): number => {
  const s = slot.cText;
  const a = slot.cSa;
  const d1 = line.charCodeAt(at + a) - 48;
  const d2 = line.charCodeAt(at + a + 1) - 48;
  if (d1 < 0 || d1 > 5 || d2 < 0 || d2 > 9) return -1;
  const fa = slot.cFa;
  const fb = fa < 0 ? -1 : slot.cFb;
  for (let i = s.length - 1; i >= 0; i--) {
    if (i === a + 1) {
      i = a;
      continue;
    }
    const c = line.charCodeAt(at + i);
    if (i >= fa && i < fb ? c < 48 || c > 57 : c !== s.charCodeAt(i)) return -1;
  }
  return d1 * 10 + d2;
};

// A one-character string (or '') as a number: its UTF-16 code, -1 for ''.
const codeAt = (s: string, i: number): number => (i >= 0 && i < s.length ? s.charCodeAt(i) : -1);
// JavaScript's \w (without the u flag).
const isWordCode = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 95;
const isAlnumCode = (c: number): boolean =>
  c >= 0 && (c < 128 ? (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) : isAlnum(String.fromCharCode(c)));

// fail2ban's DateDetector: the template that matched last is tried first (at the same place), then the list,
// preferring line-anchored templates and the leftmost date; templates that hit move toward the front.
// The hot path allocates nothing but the regex match: last positions are kept as numbers (characters as codes).
export class DateDetector {
  #slots: Slot[];
  // fail2ban's __lastPos (distance, char before, first char) and __lastEndPos (end, last char, char after).
  #posD = 1;
  #posPrev = -1;
  #posFirst = -1;
  #endE = BIG;
  #endLast = -1;
  #endNext = -1;
  #lastIdx = BIG;
  // The group: how many slots at the front hold line-anchored templates that hit already (see stateKey()).
  #group = 0;
  #firstUnused = 0;
  #tz: TimeZone;
  #m: RegExpExecArray | null = null;
  #slot: Slot | null = null; // the last date's template
  #to = 0;
  // The last locate(): where the date is and its time in epoch seconds (null when it has none).
  start = 0;
  end = 0;
  time: number | null = null;
  empty = false;
  // How many times the list's order or hit counts may have decided a line's date or a move (see stateKey()).
  reorders = 0;

  constructor(templates: readonly DateTemplate[], tz: TimeZone) {
    this.#slots = templates.map((t, at) => ({
      t,
      hits: 0,
      lastUsed: 0,
      distance: BIG,
      at,
      sig: SIG_NAMES.flatMap((n) => {
        const nums = t.groups.get(n);
        return nums ? [nums] : [];
      }),
      sigNames: SIG_NAMES.filter((n) => t.groups.has(n)),
      cText: '',
      cFields: null,
      cTime: null,
      cNow: -Infinity,
      cFa: -1,
      cFb: -1,
      cSa: -1,
      cMin: 0,
    }));
    this.#tz = tz;
  }

  // The template that found the last date (after a locate() that returned true).
  get lastTemplate(): DateTemplate | undefined {
    return this.#slot?.t;
  }

  get templateNames(): string[] {
    return this.#slots.map((s) => s.t.name);
  }

  // What decides the next lines' dates, as text, except hit counts (only whether a template hit), last-use times
  // and the order within the group: the line-anchored templates that hit, when they are the front of the list.
  // Counts and times decide only whether a template moves; the group's order decides only which of its templates
  // takes a line two of them match, or the line that brings a new template into the list's used part (a new
  // format: the move compares counts). The group's own moves only reorder the group: they keep the key, so that
  // lines alternating between formats (their templates swap places) leave two detectors with equal keys. Two
  // detectors with the same key find the same dates for the same lines, and end with the same key, until one of
  // them counts a reorder (reorders): a move of a template outside the group, or a line two group templates match
  // where the list's order picked one.
  stateKey(): string {
    const slots = this.#slots;
    const g = this.#group;
    const group = slots
      .slice(0, g)
      .map((x) => x.at)
      .sort((a, b) => a - b)
      .join(' ');
    const rest = slots
      .slice(g)
      .map((x) => `${x.at}:${x.hits > 0 ? 1 : 0}:${x.distance}`)
      .join(',');
    const last = this.#lastIdx < slots.length ? (slots[this.#lastIdx] as Slot).at : BIG;
    const pos = `${this.#posD},${this.#posPrev},${this.#posFirst};${this.#endE},${this.#endLast},${this.#endNext}`;
    return `${last};${this.#firstUnused};${pos};${group}|${rest}`;
  }

  #weight(s: Slot): number {
    return (s.hits * s.t.weight) / Math.max(1, s.distance);
  }

  // Sets #m and #slot (the match and its template's slot); false when no template matches.
  #matchTime(line: string, nowSec: number): boolean {
    const slots = this.#slots;
    let match: RegExpExecArray | null = null;
    let found: RegExpExecArray | null = null;
    let foundDist = BIG;
    let foundIdx = -1;
    let foundTo = line.length;
    let to = line.length; // the match was searched in line.slice(0, to)
    let ignoreBySearch = BIG;
    let i = this.#lastIdx;
    if (i < slots.length) {
      const t = (slots[i] as Slot).t;
      if (t.lineBegin) {
        ignoreBySearch = i;
        // The usual line: the last template again, placed by test() alone (see DateTemplate.spanTest).
        if (t.spanTest === 2 || (t.spanTest === 1 && isWordCode(line.charCodeAt(0)))) {
          const re = t.fast as RegExp;
          re.lastIndex = 0;
          if (re.test(line)) return this.#took(i, line, nowSec, 0, re.lastIndex, null, line.length);
          // no match: on to the list, as after exec() found none
        } else match = exec(t.fast ?? t.re, line);
      } else {
        const d = this.#posD;
        const dPrev = this.#posPrev;
        const dFirst = this.#posFirst;
        const e = this.#endE;
        const eLast = this.#endLast;
        const eNext = this.#endNext;
        const okBeg =
          (d > 0 && codeAt(line, d - 1) === dPrev) ||
          (d === 0 && dPrev === -1) ||
          (codeAt(line, d) === dFirst && !isAlnumCode(dFirst));
        const okEnd = codeAt(line, e) === eNext || (codeAt(line, e - 1) === eLast && !isAlnumCode(eLast));
        if (okBeg && okEnd) {
          to = Math.min(e, line.length);
          match = exec(t.fast ?? t.re, line, d, to);
        } else {
          match = exec(t.fast ?? t.re, line);
          ignoreBySearch = i;
        }
      }
      if (match) {
        const ds = match.index;
        const de = match.index + match[0].length;
        if (!(slots.length === 1 || t.lineBegin || (ds === this.#posD && de === this.#endE))) {
          found = match;
          foundDist = ds;
          foundIdx = i;
          foundTo = to;
          match = null;
        }
      }
    }
    let placed = -1; // the end of a date placed by test() in the list (lines alternating between formats)
    if (!match) {
      to = line.length;
      const word0 = isWordCode(line.charCodeAt(0));
      for (i = 0; i < slots.length; i++) {
        if (i === ignoreBySearch) continue;
        const s = slots[i] as Slot;
        const t = s.t;
        if (t.lineBegin && (t.spanTest === 2 || (t.spanTest === 1 && word0))) {
          // A line-anchored template takes the line where it matches (the break below), placed as above.
          const re = t.fast as RegExp;
          re.lastIndex = 0;
          if (!re.test(line)) continue;
          placed = re.lastIndex;
          break;
        }
        match = exec(t.fast ?? t.re, line);
        if (!match) continue;
        const distance = match.index;
        if (i + 1 >= slots.length || s.t.lineBegin) break;
        if (distance === 0 && s.hits && !(slots[i + 1] as Slot).hits) break;
        if (distance > s.distance || distance > this.#posD) {
          if (distance < foundDist) {
            found = match;
            foundDist = distance;
            foundIdx = i;
            foundTo = to;
          }
          match = null;
          continue;
        }
        break;
      }
      if ((match || placed >= 0) && i < this.#group) {
        // A group template took the line: had the list put another one that matches before it, that one would.
        for (let k = i + 1; k < this.#group; k++) {
          if (k === ignoreBySearch) continue;
          const re = (slots[k] as Slot).t.fast ?? (slots[k] as Slot).t.re;
          re.lastIndex = 0;
          if (re.test(line)) {
            this.reorders++;
            break;
          }
        }
      }
      if (!match && placed < 0 && found) {
        match = found;
        i = foundIdx;
        to = foundTo;
      }
    }
    if (placed >= 0) return this.#took(i, line, nowSec, 0, placed, null, line.length);
    if (!match) return false;
    return this.#took(i, line, nowSec, match.index, match.index + match[0].length, match, to);
  }

  // Slot i's template matched [distance, endpos) of the line (match: its array, null when placed by test()).
  #took(
    i0: number,
    line: string,
    nowSec: number,
    distance: number,
    endpos: number,
    match: RegExpExecArray | null,
    to: number,
  ): true {
    let i = i0;
    const slot = this.#slots[i] as Slot;
    const first = slot.hits === 0;
    slot.hits++;
    slot.lastUsed = nowSec;
    slot.distance = distance;
    if (this.#firstUnused === i) this.#firstUnused++;
    this.#posD = distance;
    this.#posPrev = distance > 0 ? codeAt(line, distance - 1) : -1;
    this.#posFirst = codeAt(line, distance);
    this.#endE = endpos;
    this.#endLast = codeAt(line, endpos - 1);
    this.#endNext = codeAt(line, endpos);
    if (i && i !== this.#lastIdx) {
      if (i >= this.#group) this.reorders++; // (the group's own moves keep stateKey())
      i = this.#reorder(i);
      this.#group = this.#groupLength();
    } else if (first) this.#group = this.#groupLength();
    this.#lastIdx = i;
    this.#m = match;
    this.#slot = slot;
    this.#to = to;
    return true;
  }

  #groupLength(): number {
    const slots = this.#slots;
    let g = 0;
    while (g < slots.length && (slots[g] as Slot).hits > 0 && (slots[g] as Slot).t.lineBegin) g++;
    return g;
  }

  #reorder(num: number): number {
    const slots = this.#slots;
    const s = slots[num] as Slot;
    const untime = s.lastUsed - 300;
    const weight = this.#weight(s);
    let pos = this.#firstUnused < num ? this.#firstUnused : num >> 1;
    const movable = (): boolean => {
      const p = slots[pos] as Slot;
      return weight > this.#weight(p) || untime > p.lastUsed;
    };
    if (!movable()) {
      if (pos === num - 1) return num;
      pos = num - 1;
      if (!movable()) return num;
    }
    slots.splice(num, 1);
    slots.splice(pos, 0, s);
    while (this.#firstUnused < slots.length && (slots[this.#firstUnused] as Slot).hits) this.#firstUnused++;
    return pos;
  }

  // Finds the date in a line: sets start/end (the date text, to cut it out), time (epoch seconds) and empty.
  locate(line: string, nowMs: number): boolean {
    if (!this.#matchTime(line, nowMs / 1000)) return false;
    const m = this.#m as RegExpExecArray;
    const slot = this.#slot as Slot;
    const t = slot.t;
    let start: number;
    let end: number;
    if (this.#m === null) {
      start = 0;
      end = this.#endE;
    } // placed by test(): the match is the date, at 0
    else if (t.fast) {
      start = m.index + (m[1]?.length ?? 0);
      end = start + (m[2]?.length ?? 0);
    } else if (t.byPrefix) {
      start = m.index + (groupValue(m, t.prefixNums)?.length ?? 0);
      end = start + (groupValue(m, t.dateNums)?.length ?? 0);
    } else [start, end] = dateSpan(m, t);
    this.start = start;
    this.end = end;
    if (start === end) {
      this.time = null;
      this.empty = true;
      return true;
    }
    this.empty = false;
    // Lines of one format usually carry the date text its last line had: reuse that conversion.
    // Lines with fractions of a second (ISO dates with microseconds) differ in them only, within a second.
    const ct = slot.cText;
    if (
      end - start === ct.length &&
      nowMs - slot.cNow <= REUSE_MS &&
      nowMs >= slot.cNow &&
      (slot.cFa < 0 ? sameAt(line, start, ct) : sameButDigits(line, start, ct, slot.cFa, slot.cFb))
    ) {
      this.time = slot.cTime;
      return true;
    }
    // A new second of the same minute (the other fields as cText's): no regex, no conversion.
    if (slot.cSa >= 0 && end - start === ct.length && nowMs - slot.cNow <= REUSE_MS && nowMs >= slot.cNow) {
      const sec = secondsIfSameMinute(line, start, slot);
      if (sec >= 0) {
        slot.cText = line.slice(start, end);
        slot.cTime = slot.cMin + sec;
        slot.cFields = null; // (its %S is another second's now)
        this.time = slot.cTime;
        return true;
      }
    }
    this.time = this.#convert(slot, line, start, end, nowMs);
    return true;
  }

  // The time of the date at [start, end) that the last #matchTime() found with the slot's template.
  #convert(slot: Slot, line: string, start: number, end: number, nowMs: number): number | null {
    const t = slot.t;
    let m = this.#m as RegExpExecArray;
    // The full regex, at the same place, for the date fields (same pattern, so the same match); with indices where
    // the fraction of a second is to be found (DateTemplate.fraction).
    const fr = t.fraction;
    const sr = t.seconds;
    const indexed = fr?.re ?? sr?.re;
    if (t.fast) m = exec(indexed ?? t.re, line, this.#m === null ? 0 : m.index, this.#to) as RegExpExecArray;
    const span = fr ? m.indices?.[fr.num] : undefined;
    slot.cFa = span ? span[0] - start : -1;
    slot.cFb = span ? span[1] - start : -1;
    const sSpan = sr ? m.indices?.[sr.num] : undefined;
    const sAt = sSpan && sSpan[1] - sSpan[0] === 2 ? sSpan[0] - start : -1;
    const fresh = nowMs - slot.cNow <= REUSE_MS && nowMs >= slot.cNow;
    let time: number | null;
    if (t.kind === 'pattern') {
      // Text differing only in fields the time does not read (a fraction of a second): the same time.
      const sig = slot.sig;
      const f = slot.cFields;
      const fields = sig.map((nums) => groupValue(m, nums));
      let same = fresh && f !== null;
      for (let k = 0; same && k < sig.length; k++) same = fields[k] === (f as (string | undefined)[])[k];
      if (same) {
        slot.cText = line.slice(start, end);
        if (slot.cSa >= 0) slot.cSa = sAt; // (the same minute, converted linearly)
        return slot.cTime;
      }
      // groupsToEpoch reads these fields only (SIG_NAMES): the other groups' values are not gathered.
      const g: Record<string, string | undefined> = {};
      for (let k = 0; k < fields.length; k++) if (fields[k] !== undefined) g[slot.sigNames[k] as string] = fields[k];
      time = groupsToEpoch(g, nowMs, this.#tz);
      slot.cFields = fields;
      slot.cSa = sAt >= 0 && time !== null ? this.#minuteOf(slot, g, time, nowMs, sAt) : -1;
    } else if (t.kind === 'tai64n') time = parseInt(line.slice(start + 2, start + 17), 16);
    else {
      const v = groupValue(m, t.groups.get('__epoch')) ?? line.slice(start, end);
      let n = Number(v);
      if (t.longEpoch && v.length >= 13) n = v.length >= 16 && !v.includes('.') ? n / 1e6 : n / 1e3;
      time = n;
    }
    slot.cText = line.slice(start, end);
    slot.cTime = time;
    slot.cNow = nowMs;
    return time;
  }

  // Sets slot.cMin, the time of second 0 of the minute of fields g (converted to `time`), and returns sAt (where
  // the seconds are), or -1 when the minute does not convert linearly (second 59's time is not second 0's + 59: a
  // day or a year assumed differently within it, or a zone's offset changing in it).
  #minuteOf(slot: Slot, g: Record<string, string | undefined>, time: number, nowMs: number, sAt: number): number {
    const t0 = groupsToEpoch({ ...g, S: '00' }, nowMs, this.#tz);
    if (t0 === null || time !== t0 + Number(g.S)) return -1;
    if (groupsToEpoch({ ...g, S: '59' }, nowMs, this.#tz) !== t0 + 59) return -1;
    slot.cMin = t0;
    return sAt;
  }

  find(line: string, nowMs: number): DateFound | null {
    return this.locate(line, nowMs) ? { start: this.start, end: this.end, time: this.time, empty: this.empty } : null;
  }
}

import type { DateTemplate } from './template.js';
import { groupsToEpoch } from './strptime.js';
import type { TimeZone } from './time-zone.js';

type Slot = { t: DateTemplate; hits: number; lastUsed: number; distance: number };
export type DateFound = { start: number; end: number; time: number | null; empty: boolean };

const BIG = 0x7fffffff;
const isAlnum = (c: string): boolean => /^[\p{L}\p{N}]$/u.test(c);
const BRANCH = /__b\d+$/;

const exec = (re: RegExp, line: string, from = 0, to = line.length): RegExpExecArray | null => {
  re.lastIndex = from;
  return re.exec(to === line.length ? line : line.slice(0, to));
};

// Position of the date text: the __d group (or its copy in a conditional branch).
const dateSpan = (m: RegExpExecArray, byPrefix: boolean): [number, number] => {
  if (byPrefix) {
    const g = m.groups as Record<string, string | undefined>;
    const s = m.index + (g.__p?.length ?? 0);
    return [s, s + (g.__d?.length ?? 0)];
  }
  const idx = m.indices?.groups;
  if (idx) for (const k in idx) { const v = idx[k]; if (v && (k === '__d' || k.startsWith('__d__b'))) return v; }
  return [m.index, m.index + m[0].length];
};

const foldGroups = (m: RegExpExecArray): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {};
  const g = m.groups ?? {};
  for (const k in g) { const v = g[k]; if (v === undefined) continue; const n = k.replace(BRANCH, ''); if (out[n] === undefined) out[n] = v; }
  return out;
};

// fail2ban's DateDetector: the template that matched last is tried first (at the same place), then the list,
// preferring line-anchored templates and the leftmost date; templates that hit move toward the front.
export class DateDetector {
  #slots: Slot[];
  #lastPos: [number, string, string] = [1, '', ''];
  #lastEnd: [number, string, string] = [BIG, '', ''];
  #lastIdx = BIG;
  #firstUnused = 0;
  #tz: TimeZone;
  #cacheTpl: DateTemplate | null = null;
  #cacheText = '';
  #cacheTime: number | null = null;

  constructor(templates: readonly DateTemplate[], tz: TimeZone) {
    this.#slots = templates.map((t) => ({ t, hits: 0, lastUsed: 0, distance: BIG }));
    this.#tz = tz;
  }

  get templateNames(): string[] { return this.#slots.map((s) => s.t.name); }

  #weight(s: Slot): number { return (s.hits * s.t.weight) / Math.max(1, s.distance); }

  #matchTime(line: string, nowSec: number): [RegExpExecArray, number] | null {
    const slots = this.#slots;
    let match: RegExpExecArray | null = null;
    let found: [RegExpExecArray | null, number, number, number] = [null, BIG, BIG, -1];
    let ignoreBySearch = BIG;
    let i = this.#lastIdx;
    if (i < slots.length) {
      const t = (slots[i] as Slot).t;
      if (t.lineBegin) { match = exec(t.re, line); ignoreBySearch = i; }
      else {
        const [d, dPrev, dFirst] = this.#lastPos; const [e, eLast, eNext] = this.#lastEnd;
        const okBeg = line.slice(Math.max(0, d - 1), d) === dPrev && d > 0 || (d === 0 && dPrev === '') || (line.slice(d, d + 1) === dFirst && !isAlnum(dFirst));
        const okEnd = line.slice(e, e + 1) === eNext || (line.slice(e - 1, e) === eLast && !isAlnum(eLast));
        if (okBeg && okEnd) match = exec(t.re, line, d, Math.min(e, line.length));
        else { match = exec(t.re, line); ignoreBySearch = i; }
      }
      if (match) {
        const [ds, de] = [match.index, match.index + match[0].length];
        if (!(slots.length === 1 || t.lineBegin || (ds === this.#lastPos[0] && de === this.#lastEnd[0]))) { found = [match, ds, de, i]; match = null; }
      }
    }
    if (!match) {
      for (i = 0; i < slots.length; i++) {
        if (i === ignoreBySearch) continue;
        const s = slots[i] as Slot;
        match = exec(s.t.re, line);
        if (!match) continue;
        const distance = match.index;
        if (i + 1 >= slots.length || s.t.lineBegin) break;
        if (distance === 0 && s.hits && !(slots[i + 1] as Slot).hits) break;
        if (distance > s.distance || distance > this.#lastPos[0]) {
          if (distance < found[1]) found = [match, distance, match.index + match[0].length, i];
          match = null;
          continue;
        }
        break;
      }
      if (!match && found[0]) { match = found[0]; i = found[3]; }
    }
    if (!match) return null;
    const slot = slots[i] as Slot;
    const distance = match.index; const endpos = match.index + match[0].length;
    slot.hits++; slot.lastUsed = nowSec; slot.distance = distance;
    if (this.#firstUnused === i) this.#firstUnused++;
    this.#lastPos = [distance, line.slice(Math.max(0, distance - 1), distance), line[distance] ?? ''];
    this.#lastEnd = [endpos, line[endpos - 1] ?? '', line.slice(endpos, endpos + 1)];
    if (i && i !== this.#lastIdx) i = this.#reorder(i);
    this.#lastIdx = i;
    return [match, i];
  }

  #reorder(num: number): number {
    const slots = this.#slots;
    const s = slots[num] as Slot;
    const untime = s.lastUsed - 300;
    const weight = this.#weight(s);
    let pos = this.#firstUnused < num ? this.#firstUnused : num >> 1;
    const movable = (): boolean => { const p = slots[pos] as Slot; return weight > this.#weight(p) || untime > p.lastUsed; };
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

  // Finds the date in a line: where its text is (to cut it out) and its time in epoch seconds.
  find(line: string, nowMs: number): DateFound | null {
    const r = this.#matchTime(line, nowMs / 1000);
    if (!r) return null;
    const [m, i] = r;
    const tpl = (this.#slots[i] as Slot).t;
    const [start, end] = dateSpan(m, tpl.byPrefix);
    if (start === end) return { start, end, time: null, empty: true };
    const t = (this.#slots[i] as Slot).t;
    // Consecutive lines usually carry the same date text: reuse its conversion (same template, same text).
    const text = line.slice(start, end);
    if (t === this.#cacheTpl && text === this.#cacheText) return { start, end, time: this.#cacheTime, empty: false };
    const g = foldGroups(m);
    let time: number | null;
    if (t.kind === 'pattern') time = groupsToEpoch(g, nowMs, this.#tz);
    else if (t.kind === 'tai64n') time = parseInt(line.slice(start + 2, start + 17), 16);
    else {
      const v = g.__epoch ?? line.slice(start, end);
      let n = Number(v);
      if (t.longEpoch && v.length >= 13) n = v.length >= 16 && !v.includes('.') ? n / 1e6 : n / 1e3;
      time = n;
    }
    this.#cacheTpl = t; this.#cacheText = text; this.#cacheTime = time;
    return { start, end, time, empty: false };
  }
}

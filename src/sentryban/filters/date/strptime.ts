import { MONTHS, MONTHS_FULL } from './tokens.js';
import { epochToWallMs, parseZoneOffset, wallToEpochMs, type TimeZone } from './time-zone.js';

const DAY_MS = 86400000;

// The clock's wall-clock reading in a zone for the last (clock, zone) converted with: conversions come in runs
// with the same clock (sentryban regex reads it once per chunk of lines), and the zone's offset is costly to find.
type NowIn = { nowMs: number; tz: TimeZone | null; wall: number; year: number; month: number; day: number };
const lastNow: NowIn = { nowMs: NaN, tz: null, wall: 0, year: 0, month: 0, day: 0 };
const nowIn = (nowMs: number, tz: TimeZone): NowIn => {
  if (lastNow.nowMs === nowMs && lastNow.tz === tz) return lastNow;
  const wall = epochToWallMs(nowMs, tz);
  const d = new Date(wall);
  lastNow.nowMs = nowMs;
  lastNow.tz = tz;
  lastNow.wall = wall;
  lastNow.year = d.getUTCFullYear();
  lastNow.month = d.getUTCMonth() + 1;
  lastNow.day = d.getUTCDate();
  return lastNow;
};

// Date fields captured by a template -> epoch seconds, resolving a missing year/day like fail2ban:
// no year: this year, or last year when that would be more than a day in the future; no day: today or yesterday.
export const groupsToEpoch = (
  g: Readonly<Record<string, string | undefined>>,
  nowMs: number,
  defaultTz: TimeZone,
): number | null => {
  let year: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let tzOff: number | null = null;
  let julian: number | undefined;
  if (g.y !== undefined) {
    year = Number(g.y);
    if (year <= 2000) year += 2000;
  }
  if (g.Y !== undefined) year = Number(g.Y);
  if (g.m !== undefined) month = Number(g.m);
  if (g.B !== undefined) month = MONTHS_FULL.indexOf(g.B.toLowerCase()) + 1;
  if (g.b !== undefined) month = MONTHS.indexOf(g.b.toLowerCase()) + 1;
  if (g.d !== undefined) day = Number(g.d);
  if (g.H !== undefined) hour = Number(g.H);
  if (g.I !== undefined) {
    hour = Number(g.I);
    const ampm = (g.p ?? '').toLowerCase();
    if (ampm === '' || ampm === 'am') {
      if (hour === 12) hour = 0;
    } else if (ampm === 'pm' && hour !== 12) hour += 12;
  }
  if (g.M !== undefined) minute = Number(g.M);
  if (g.S !== undefined) second = Number(g.S);
  if (g.j !== undefined) julian = Number(g.j);
  const z = g.z ?? g.Z;
  if (z !== undefined) {
    tzOff = z === 'Z' || z === 'UTC' || z === 'GMT' ? 0 : parseZoneOffset(z);
    if (tzOff === null) return null;
  }
  const now = nowIn(nowMs, defaultTz);
  const nowWall = now.wall;
  const assumeYear = year === undefined;
  year ??= now.year;
  if ((month === undefined || day === undefined) && julian !== undefined) {
    const d = new Date(Date.UTC(year, 0, 1) + (julian - 1) * DAY_MS);
    year = d.getUTCFullYear();
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  let assumeToday = false;
  if (month === undefined && day === undefined) {
    month = now.month;
    day = now.day;
    assumeToday = true;
  }
  if (month === undefined || day === undefined || month < 1 || (second > 59 && second > 61)) return null;
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1 || hour > 23 || second > 59) return null;
  let naive = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < 100) naive = new Date(naive).setUTCFullYear(year);
  if (tzOff !== null) naive -= tzOff * 60000;
  if (assumeToday && naive > nowWall) naive -= DAY_MS;
  if (assumeYear && naive > nowWall + DAY_MS) {
    const d = new Date(naive);
    const prev = Date.UTC(year - 1, month - 1, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
    if (new Date(prev).getUTCDate() !== day) return null;
    naive = prev;
  }
  const ms = tzOff !== null ? naive : wallToEpochMs(naive, defaultTz);
  return Math.floor(ms / 1000);
};

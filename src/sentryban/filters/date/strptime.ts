import { MONTHS, MONTHS_FULL } from './tokens.js';
import { epochToWallMs, parseZoneOffset, wallToEpochMs, type TimeZone } from './time-zone.js';

const DAY_MS = 86400000;

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
  const nowWall = epochToWallMs(nowMs, defaultTz);
  const nowD = new Date(nowWall);
  const assumeYear = year === undefined;
  year ??= nowD.getUTCFullYear();
  if ((month === undefined || day === undefined) && julian !== undefined) {
    const d = new Date(Date.UTC(year, 0, 1) + (julian - 1) * DAY_MS);
    year = d.getUTCFullYear();
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  let assumeToday = false;
  if (month === undefined && day === undefined) {
    month = nowD.getUTCMonth() + 1;
    day = nowD.getUTCDate();
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

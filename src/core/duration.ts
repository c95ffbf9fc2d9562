// Durations in seconds, as fail2ban writes them: "600", "10m", "1h30m", "1d", "2w", "-1" (permanent).
const UNIT_SEC: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
  mo: 2629800,
  month: 2629800,
  months: 2629800,
  y: 31557600,
  year: 31557600,
  years: 31557600,
};

export const PERMANENT = -1;

export const parseDurationSec = (input: string | number): number | null => {
  if (typeof input === 'number') return Number.isFinite(input) ? input : null;
  const text = input.trim().toLowerCase();
  if (text === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) < 0 ? PERMANENT : Number(text);
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const unit = UNIT_SEC[m[2] ?? ''];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    pos = re.lastIndex;
  }
  return pos === text.length && pos > 0 ? total : null;
};

export const formatDurationSec = (sec: number): string => {
  if (sec < 0) return 'permanent';
  const parts: string[] = [];
  let rest = Math.round(sec);
  for (const [u, n] of [
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join('');
};

// Times as people read them: local time (TZ honoured, as `date` prints it) and what is left of a ban.
const two = (n: number): string => String(n).padStart(2, '0');

// 2026-12-07 03:04:05 in the local zone (fail2ban's `get JAIL banip --with-time` uses the same shape).
export const formatLocal = (ms: number): string => {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
};

// The two largest units: "3d 4h", "1h 2m", "58m 12s", "9s"; an end already reached (the lift is queued): "due".
export const formatLeft = (ms: number): string => {
  if (ms <= 0) return 'due';
  let rest = Math.ceil(ms / 1000);
  const parts: string[] = [];
  for (const [unit, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= n || (unit === 's' && parts.length === 0)) parts.push(`${Math.floor(rest / n)}${unit}`);
    rest %= n;
    if (parts.length === 2) break;
  }
  // "1h 0m" reads as well as "1h"; keep the second unit only when it says something.
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join(' ');
};

// An ISO time from the daemon, in local time with what is left: "2026-12-07 03:04:05 (in 58m 12s)".
export const formatWhen = (iso: string | null, now: number, none = 'never'): string =>
  iso === null ? none : `${formatLocal(Date.parse(iso))} (${whenLeft(Date.parse(iso) - now)})`;
const whenLeft = (ms: number): string => (ms <= 0 ? 'due' : `in ${formatLeft(ms)}`);

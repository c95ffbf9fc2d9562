// %-tokens of fail2ban date patterns, as Python regex text (translated with the rest of the template).
const WDAY = 'mon|tue|wed|thu|fri|sat|sun';
const WDAY_FULL = 'wednesday|thursday|saturday|tuesday|monday|friday|sunday';
export const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
export const MONTHS_FULL = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const MONTHS_FULL_RE = 'september|february|november|december|january|october|august|march|april|june|july|may';
const TZ_ABBR = '[A-Z](?:[A-Z]{2,4})?';

// Century prefixes for %ExY: last year .. now+3, plus every third year since 2000 (fail2ban's rule).
const yearRe = (nowYear: number): string => {
  const set = new Set<string>();
  for (const y of [nowYear - 1, nowYear + 3]) set.add(String(y).slice(0, 3));
  for (let y = 2000; y <= nowYear; y += 3) set.add(String(y).slice(0, 3));
  const list = [...set].sort();
  const common = list.every((p) => p.slice(0, 2) === list[0]?.slice(0, 2));
  if (common && list.length > 1) return `(?P<Y>${list[0]?.slice(0, 2)}[${list.map((p) => p[2]).join('')}]\\d)`;
  return `(?P<Y>(?:${list.join('|')})\\d)`;
};

export const tokenTable = (nowYear: number): Record<string, string> => ({
  '%': '%',
  a: `(?P<a>${WDAY})`,
  A: `(?P<A>${WDAY_FULL})`,
  b: `(?P<b>${MONTHS.join('|')})`,
  B: `(?P<B>${MONTHS_FULL_RE})`,
  d: '(?P<d>[1-2]\\d|[0 ]?[1-9]|3[0-1])',
  f: '(?P<f>[0-9]{1,6})',
  H: '(?P<H>[0-1]?\\d|2[0-3])',
  I: '(?P<I>1[0-2]|0[1-9]|[1-9])',
  j: '(?P<j>36[0-6]|3[0-5]\\d|[1-2]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])',
  k: ' ?(?P<H>[0-2]?\\d)',
  l: ' ?(?P<I>1?\\d)',
  m: '(?P<m>0?[1-9]|1[0-2])',
  M: '(?P<M>[0-5]?\\d)',
  p: '(?P<p>am|pm)',
  S: '(?P<S>[0-5]?\\d|6[0-1])',
  U: '(?P<U>5[0-3]|[0-4]\\d|\\d)',
  W: '(?P<W>5[0-3]|[0-4]\\d|\\d)',
  w: '(?P<w>[0-6])',
  u: '(?P<u>[1-7])',
  y: '(?P<y>\\d\\d)',
  Y: '(?P<Y>\\d{4})',
  G: '(?P<G>\\d\\d\\d\\d)',
  z: '(?P<z>Z|UTC|GMT|[+-][01]\\d(?::?\\d{2})?)',
  Z: '(?P<Z>Z|[A-Z]{3,5})',
  ExZ: `(?P<Z>${TZ_ABBR})`,
  Exz: `(?P<z>(?:${TZ_ABBR})?[+-][01]\\d(?::?\\d{2})?|${TZ_ABBR})`,
  Exd: '(?P<d>[1-2]\\d|0[1-9]|3[0-1])',
  Exm: '(?P<m>0[1-9]|1[0-2])',
  ExH: '(?P<H>[0-1]\\d|2[0-3])',
  Exk: ' ?(?P<H>[0-1]?\\d|2[0-3])',
  Exl: ' ?(?P<I>1[0-2]|\\d)',
  ExM: '(?P<M>[0-5]\\d)',
  ExS: '(?P<S>[0-5]\\d|6[0-1])',
  ExY: yearRe(nowYear),
  Exy: '(?P<y>\\d{2})',
});

const TOKEN_RE = /%(%|ExZ|Exz|Exd|Exm|ExH|Exk|Exl|ExM|ExS|ExY|Exy|[aAbBdfHIjklmMpSUWwuyYGzZ])/g;

// Replaces %-tokens; a `%` that is not a token is an error, as in fail2ban.
export const expandTokens = (pattern: string, table: Record<string, string>): string | null => {
  const out = pattern.replace(TOKEN_RE, (_m, k: string) => `\u0000${k}\u0001`);
  if (out.includes('%')) return null;
  // NUL and SOH are the sentinels put around each token above: no pattern or log text holds them.
  // eslint-disable-next-line no-control-regex
  return out.replace(/\u0000([^\u0001]+)\u0001/g, (_m, k: string) => table[k] ?? '');
};

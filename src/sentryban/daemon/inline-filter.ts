import { parseAddr } from '../../core/addr.js';
import type { Instant } from '../../core/clock.js';
import type { Failure, LogLine } from '../types.js';

// A minimal filter for jails that write `failregex` inline: <HOST>/<ADDR> capture the address, the line's own
// time is a leading epoch, ISO 8601/RFC 3339 or PortSentry history stamp. Full fail2ban filters come from
// the filters stage; this keeps bundled jails and fixtures self-contained.
export type Matcher = { name: string; match(line: LogLine): Failure | null };

const ADDR_RE = '\\[?(?<host>(?:\\d{1,3}\\.){3}\\d{1,3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)\\]?';
const STAMP = /^\s*(?:(?<epoch>\d{9,11}(?:\.\d+)?)\s*-?\s*|(?<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+)/;

export const compileInlineFilter = (name: string, failregex: string[], ignoreregex: string[]): Matcher | string => {
  const compile = (r: string): RegExp | string => {
    try { return new RegExp(r.replace(/<HOST>|<ADDR>/g, ADDR_RE)); } catch (e) { return `${r}: ${(e as Error).message}`; }
  };
  const fails = failregex.map(compile);
  const ignores = ignoreregex.map(compile);
  const bad = [...fails, ...ignores].find((r): r is string => typeof r === 'string');
  if (bad) return bad;
  const fr = fails as RegExp[];
  const ir = ignores as RegExp[];
  const matcher: Matcher = {
    name,
    match(line: LogLine): Failure | null {
      const stamp = STAMP.exec(line.text);
      const time = parseStamp(stamp?.groups) ?? line.at;
      if (time === undefined) return null;
      const body = stamp ? line.text.slice(stamp[0].length) : line.text;
      if (ir.some((r) => r.test(body))) return null;
      for (const r of fr) {
        const m = r.exec(body);
        const host = m?.groups?.host;
        if (!host) continue;
        const addr = parseAddr(host);
        return { id: addr?.text ?? host, addr, time, filter: name, source: line.source, lines: [line.text], groups: { ...m.groups } };
      }
      return null;
    },
  };
  return matcher;
};

const parseStamp = (g: Record<string, string | undefined> | undefined): Instant | undefined => {
  if (g?.epoch) return Math.round(Number(g.epoch) * 1000);
  if (g?.iso) { const t = Date.parse(g.iso.replace(' ', 'T').replace(',', '.')); return Number.isNaN(t) ? undefined : t; }
  return undefined;
};

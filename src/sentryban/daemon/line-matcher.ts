import type { Filter } from '../filters/filter.js';
import type { IdOf } from '../filters/addr-ids.js';
import { Matcher, type Hit } from '../filters/matcher.js';
import type { Failure, LogLine } from '../types.js';

// A jail's matcher, built by the daemon from the filter the config loaded. A matcher keeps per-file state
// (multi-line buffers, last date), so each followed file gets its own; `now` dates the lines without a year.
export type LineMatcher = { name: string; match(line: LogLine): Failure[] };

export const newLineMatcher = (filter: Filter, now: () => number): LineMatcher => {
  const m = new Matcher(filter, { now });
  return { name: filter.name, match: (line) => m.match(line, line.entryTime).failures };
};

// The same matcher for `sentryban replay`, which also needs each line's own time (null: the line has none; its
// failures are dropped rather than dated by the clock, since a past line was not read "now").
export type TimedLineMatcher = {
  name: string;
  match(line: LogLine): { failures: Failure[]; hits: Hit[]; time: number | null };
};

// Its id cache holds 131,072 addresses (the daemon's 16,384 were cleared again and again by the 35,000 addresses of
// 1M varied sshd lines: 7% of replay's time, 5 interleaved runs). Replay's matching thread (commands/replay-feed.ts)
// makes the ids itself (`idOf`) and, for a jail without an ignorecommand, reads only the hits (`countOnly`: no
// Failure objects nor groups made).
export const newTimedLineMatcher = (
  filter: Filter,
  now: () => number,
  opts: { idOf?: IdOf; countOnly?: boolean } = {},
): TimedLineMatcher => {
  const ids = opts.idOf ? { idOf: opts.idOf } : { addrCache: 1 << 17 };
  const m = new Matcher(filter, { now, noDate: 'drop', ...ids, countOnly: opts.countOnly === true });
  return { name: filter.name, match: (line) => m.match(line, line.entryTime) };
};

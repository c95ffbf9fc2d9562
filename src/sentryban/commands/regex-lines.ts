import { closeSync, openSync, readSync } from 'node:fs';
import { Matcher } from '../filters/matcher.js';
import type { Filter } from '../filters/filter.js';
import { parseTimeZone } from '../filters/date/time-zone.js';
import type { RegexSetup } from './regex-setup.js';

// What both threads of `sentryban regex` need to count a file's lines: its lines, and a matcher for a filter
// already loaded (the worker threads get the main thread's: regex-parallel.ts).

const decoder = new TextDecoder('utf-8', { fatal: false });
// Small enough that strings sliced from a chunk and kept a while (address cache keys, sessions) pin little.
const CHUNK = 1 << 16;

// Streams the lines of a file's byte range [from, to) (from at a line start; bounded memory, invalid UTF-8 as
// U+FFFD, a last line without newline skipped, as fail2ban-regex does). Each line is a slice of one decoded
// chunk WITH its "\n" (no copy; the matcher cuts its regex buffer from it); a line ending in "\r\n" comes
// without both.
export const forEachLine = async (
  path: string,
  fn: (text: string) => void | Promise<void>,
  onChunk: () => void,
  from = 0,
  to = Infinity,
): Promise<void> => {
  const fd = openSync(path, 'r');
  // buf[0, keep): the start of a line whose newline is not read yet, moved to the front after each block (not
  // joined to the next read by a copy of it all); the buffer doubles for a line longer than it (fail2ban-regex
  // reads every line whole).
  let buf = Buffer.allocUnsafe(CHUNK);
  let keep = 0;
  let pos = from;
  try {
    for (;;) {
      if (keep === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, keep);
        buf = bigger;
      }
      const want = Math.min(buf.length - keep, to - pos);
      const r = want > 0 ? readSync(fd, buf, keep, want, pos) : 0;
      if (r <= 0) break;
      pos += r;
      const n = keep + r;
      const last = buf.lastIndexOf(10, n - 1);
      if (last < 0) {
        keep = n;
        continue;
      }
      const text = decoder.decode(buf.subarray(0, last + 1)); // before the next read reuses `buf`
      keep = n - last - 1;
      if (keep > 0) buf.copyWithin(0, last + 1, n);
      onChunk();
      for (let start = 0, nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
        const p =
          nl > start && text.charCodeAt(nl - 1) === 13 ? fn(text.slice(start, nl - 1)) : fn(text.slice(start, nl + 1));
        if (p) await p; // only a line with a host name to look up (--usedns yes|warn) waits
      }
    }
  } finally {
    closeSync(fd);
  }
};

// fail2ban-regex skips comment and empty lines of a file (they are not tested).
export const skipped = (text: string): boolean =>
  (text.length <= 1 && (text === '' || text === '\n')) || text.charCodeAt(0) === 35;

// The matcher for a setup and a loaded filter (a Filter is never changed: matchers share it), and a clock read
// once per chunk of lines (~600), not per line: a line's "now" is at most a chunk old.
export const matcherFor = (s: RegexSetup, filter: Filter): { m: Matcher; tick: () => void } => {
  let nowMs = s.now ?? Date.now();
  const m = new Matcher(filter, {
    checkAll: s.checkAll,
    noDate: 'now',
    timezone: parseTimeZone(s.tz) ?? { kind: 'local' },
    now: () => nowMs,
    countOnly: s.countOnly === true,
  });
  return {
    m,
    tick: () => {
      nowMs = s.now ?? Date.now();
    },
  };
};

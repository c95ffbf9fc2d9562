import type { Instant } from '../../core/clock.js';
import type { Ban } from '../types.js';
import type { JailTally, LineRef, ReplayEvent } from './replay-jails.js';

// What `sentryban replay` prints: a timeline (one entry per ban, unban and ignored failure, in log time) and a
// summary per jail, as text or as JSON lines (docs/sentryban.md, "Replay", has the shape). Written in blocks.
export type Summary = { tally: JailTally; inForce: Ban[] };

// UTC, with milliseconds only when there are some.
// The texts of two minutes are kept (events come in log time: most fall in the minute of the one before, and a
// ban's end is its bantime later, so a timeline of bans alternates between two minutes), the seconds written
// here; what Date gives for the rest (a fraction of a millisecond, a year past 9999).
let minute = NaN;
let head = '';
let minute2 = NaN; // the other minute kept
let head2 = '';
const slowTime = (t: Instant): string => new Date(t).toISOString().replace('.000Z', 'Z');
export const formatTime = (t: Instant): string => {
  if (!Number.isInteger(t)) return slowTime(t);
  const m = Math.floor(t / 60000);
  if (m !== minute) {
    if (m === minute2) {
      minute2 = minute;
      minute = m;
      const h = head;
      head = head2;
      head2 = h;
    } else {
      const iso = new Date(m * 60000).toISOString();
      if (iso.length !== 24) return slowTime(t);
      minute2 = minute;
      head2 = head;
      minute = m;
      head = iso.slice(0, 17);
    }
  }
  const ms = t - m * 60000;
  const sec = Math.floor(ms / 1000);
  const frac = ms - sec * 1000;
  return `${head}${sec < 10 ? '0' : ''}${sec}${frac === 0 ? '' : `.${String(frac).padStart(3, '0')}`}Z`;
};
const untilOf = (b: Ban): string | null => (b.expiresAt === null ? null : formatTime(b.expiresAt));
// The line without its "\n" or "\r\n" (/\r?\n$/, by its last characters).
const lineText = (r: LineRef): string => {
  const t = r.text;
  let n = t.length;
  if (t.charCodeAt(n - 1) !== 10) return t;
  n--;
  if (t.charCodeAt(n - 1) === 13) n--;
  return t.slice(0, n);
};
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface ReplayPrinter {
  event(e: ReplayEvent): void;
  summary(s: readonly Summary[]): void;
  flush(): void;
}

class Buffered {
  readonly #out: NodeJS.WritableStream;
  #buf = '';
  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }
  write(s: string): void {
    this.#buf += s;
    if (this.#buf.length > 65536) this.flush();
  }
  flush(): void {
    if (this.#buf) this.#out.write(this.#buf);
    this.#buf = '';
  }
}

// One JSON object per line: the events in log time, then one summary object per jail. An event's line is written
// as JSON.stringify writes its object (the same keys in the same order, each value through JSON.stringify), without
// the object: on 1M sshd lines the JSON printer made the main thread the longer of replay's two.
const q = JSON.stringify;
const refsJson = (lines: readonly LineRef[]): string => {
  let s = '';
  for (const r of lines) s += `${s ? ',' : ''}{"source":${q(r.source)},"line":${q(r.line)},"text":${q(lineText(r))}}`;
  return `[${s}]`;
};
export class JsonPrinter extends Buffered implements ReplayPrinter {
  event(e: ReplayEvent): void {
    const head = `{"type":${q(e.type)},"time":${q(formatTime(e.at))}`;
    if (e.type === 'ban') {
      const b = e.ban;
      this.write(
        `${head},"jail":${q(b.jail)},"target":${q(b.target.text)},"bantime":${q(b.bantimeSec)},"until":${q(untilOf(b))},` +
          `"banCount":${q(b.banCount)},"reason":${q(e.reason)},"lines":${refsJson(e.lines)}}\n`,
      );
    } else if (e.type === 'unban') {
      const b = e.ban;
      this.write(`${head},"jail":${q(b.jail)},"target":${q(b.target.text)},"reason":${q(e.reason)},"lines":[]}\n`);
    } else
      this.write(
        `${head},"jail":${q(e.jail)},"target":${q(e.target)},"reason":${q(e.rule)},"lines":${refsJson([e.line])}}\n`,
      );
  }
  summary(s: readonly Summary[]): void {
    for (const { tally: t, inForce } of s)
      this.write(
        `${JSON.stringify({
          type: 'summary',
          jail: t.jail,
          lines: t.lines,
          failures: t.failures,
          counted: t.counted,
          ignored: t.ignored,
          bans: t.bans,
          unbans: t.unbans,
          inForce: inForce.map((b) => ({ target: b.target.text, until: untilOf(b) })),
        })}\n`,
      );
  }
}

// For people: one line per event, a ban's reason and counted lines indented under it.
export class TextPrinter extends Buffered implements ReplayPrinter {
  event(e: ReplayEvent): void {
    const at = formatTime(e.at);
    if (e.type === 'ban') {
      const b = e.ban;
      const bt = b.bantimeSec < 0 ? 'permanent' : `bantime ${b.bantimeSec}s until ${untilOf(b)}`;
      let s = `${at} ${b.jail} ban ${b.target.text} ${bt} (ban #${b.banCount})\n    ${e.reason}\n`;
      for (const r of e.lines) s += `    ${r.source}:${r.line}: ${lineText(r)}\n`;
      this.write(s);
    } else if (e.type === 'unban') this.write(`${at} ${e.ban.jail} unban ${e.ban.target.text} (${e.reason})\n`);
    else
      this.write(
        `${at} ${e.jail} ignored ${e.target} (${e.rule})\n    ${e.line.source}:${e.line.line}: ${lineText(e.line)}\n`,
      );
  }
  summary(s: readonly Summary[]): void {
    let out = '\nSummary\n';
    for (const { tally: t, inForce } of s) {
      out += `${t.jail}: ${plural(t.lines, 'line')}, ${plural(t.failures, 'failure')} (${t.counted} counted, ${t.ignored} ignored), ${plural(t.bans, 'ban')}, ${plural(t.unbans, 'unban')}, ${inForce.length} banned at the end\n`;
      for (const b of inForce)
        out += `    ${b.target.text} ${b.expiresAt === null ? 'permanent' : `until ${untilOf(b)}`}\n`;
    }
    this.write(out);
  }
}

import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FeedReader,
  ReplayFeed,
  lineRef,
  type Batch,
  type FeedJail,
} from '../../../src/sentryban/commands/replay-feed.js';
import { LineCursor, openInputs } from '../../../src/sentryban/commands/replay-input.js';
import { newTimedLineMatcher } from '../../../src/sentryban/daemon/line-matcher.js';
import { loadYamlFilter } from '../../../src/sentryban/filters/yaml-filter.js';
import type { Filter } from '../../../src/sentryban/filters/filter.js';
import type { Failure } from '../../../src/sentryban/types.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// The hand-over between replay's matching half and its jails (replay-feed.ts): what the reader gives back is what
// the daemon's matcher found, field by field, for every shape of failure id, line by line in time order.
const tmps: Array<() => void> = [];
afterEach(() => {
  for (const c of tmps.splice(0)) c();
});
const tmpDir = (): string => {
  const t = makeTmpDir('sentryban-feed-');
  tmps.push(t.cleanup);
  return t.dir;
};

const FILTER = `name: shapes
failregex:
  - '^\\s*raw failure of <F-ID>[a-z]\\w*</F-ID>$'
  - '^\\s*failure from <ADDR> user <F-USER>\\S+</F-USER>$'
  - '^\\s*subnet failure from <SUBNET>$'
  - '^\\s*session <F-ID>s\\d+</F-ID> failed from <ADDR>$'
  - '^\\s*odd failure of <F-ID>\\S+</F-ID>$'
datepattern: '{^LN-BEG}'
`;
const LOG_A = [
  'Dec  6 10:00:01 raw failure of mallory',
  'Dec  6 10:00:03 failure from 192.0.2.7 user root',
  'Dec  6 10:00:05 nothing here',
  'Dec  6 10:00:05 subnet failure from 198.51.100.0/24',
  'Dec  6 10:00:09 failure from 2001:db8:0:0::1 user bob',
  'Dec  6 10:00:09 session s42 failed from ::ffff:203.0.113.9',
  '# a comment',
  '',
  'Dec  6 10:00:11 failure from 192.0.2.7 user root',
];
const LOG_B = [
  'Dec  6 10:00:02 failure from 2001:db8::1 user eve',
  'Dec  6 10:00:05 subnet failure from 2001:db8:1::/48',
  'Dec  6 10:00:10 failure from 192.0.2.8 user root',
  'Dec  6 10:00:12 odd failure of m\u{1F600}x',
];
const NOW = Date.UTC(2026, 11, 7);

const filterIn = (dir: string): Filter => {
  const file = join(dir, 'shapes.yaml');
  writeFileSync(file, FILTER);
  const f = loadYamlFilter(file);
  if (!f.ok) throw new Error(JSON.stringify(f.errors));
  return f.value;
};
const cursorsOf = (paths: string[]): LineCursor[] => {
  const inputs = openInputs(paths, process.stdin);
  if (!Array.isArray(inputs)) throw new Error(inputs.reason);
  return inputs.map((i) => new LineCursor(i));
};
type Seen = { time: number; source: number; lineNo: number; text: string | null; found: Failure[][] };
const readBack = async (batches: AsyncIterable<Batch> | Iterable<Batch>, names: string[], filters: string[]) => {
  const reader = new FeedReader(names, filters);
  const seen: Seen[] = [];
  // Runs of lines without failures: how many, and the latest of their times.
  const quiet: Array<[number, number]> = [];
  let end: Batch['end'] = null;
  for await (const b of batches) {
    await reader.read(
      b,
      (l) => {
        const { time, source, lineNo } = l;
        // The failures of a jail without an ignorecommand are the reader's, reused at its next line: copied.
        seen.push({
          time,
          source,
          lineNo,
          text: lineRef(l, '').text,
          found: l.found.map((f) => f.map((x) => ({ ...x }))),
        });
      },
      (lines, time) => quiet.push([lines, time]),
    );
    end = b.end;
  }
  return { seen, end, quiet };
};
// What a failure carries for the jails (and, with an ignorecommand, for its tags).
const core = (f: Failure) => ({ id: f.id, addr: f.addr?.text ?? null, cidr: f.cidr, time: f.time, source: f.source });
const tags = (f: Failure) => ({ ...core(f), groups: f.groups, user: f.user, lines: f.lines });

describe('replay feed', () => {
  it('hands back every failure as the matcher made it (all four id shapes), lines merged in time order', async () => {
    const dir = tmpDir();
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    writeFileSync(a, `${LOG_A.join('\n')}\n`);
    writeFileSync(b, LOG_B.join('\n')); // no newline at the end
    const filter = filterIn(dir);
    // The expected: each file through the daemon's matcher on its own, then ordered by time (a before b on a tie).
    const want: Array<{ time: number; source: number; lineNo: number; failures: Failure[] }> = [];
    [a, b].forEach((path, source) => {
      const m = newTimedLineMatcher(filter, () => NOW);
      (source === 0 ? LOG_A : LOG_B).forEach((text, i) => {
        if (text === '' || text.startsWith('#')) return;
        const r = m.match({ text: `${text}\n`, source: path });
        want.push({ time: r.time as number, source, lineNo: i + 1, failures: r.failures });
      });
    });
    want.sort((x, y) => x.time - y.time || x.source - y.source);
    expect(want.filter((w) => w.failures.length > 0)).toHaveLength(10);

    for (const command of [false, true]) {
      const jails: FeedJail[] = [
        { filter, command },
        { filter, command: !command },
      ];
      const cursors = cursorsOf([a, b]);
      const feed = new ReplayFeed(cursors, jails, { since: null, until: null }, NOW);
      const { seen, end, quiet } = await readBack(feed.batches(), [a, b], ['shapes', 'shapes']);
      for (const c of cursors) c.close();
      expect(end).toBeNull();
      // The lines with failures one by one; those without as runs between them (count, latest time).
      const failed = want.filter((w) => w.failures.length > 0);
      expect(seen.map((l) => [l.time, l.source, l.lineNo])).toEqual(failed.map((w) => [w.time, w.source, w.lineNo]));
      const runs: Array<[number, number]> = [];
      want.forEach((w, i) => {
        if (w.failures.length > 0) return;
        const last = runs.at(-1);
        if (i > 0 && want[i - 1]!.failures.length === 0 && last)
          runs[runs.length - 1] = [last[0] + 1, Math.max(last[1], w.time)];
        else runs.push([1, w.time]);
      });
      expect(quiet).toEqual(runs);
      expect(quiet).toHaveLength(1); // "nothing here" (comments and empty lines are not lines of the log)
      seen.forEach((l, i) => {
        const w = failed[i]!;
        expect(l.text!.replace(/\n$/, '')).toBe((w.source === 0 ? LOG_A : LOG_B)[w.lineNo - 1]);
        // Jail 0 carries the tags when it has the ignorecommand, jail 1 when jail 0 has none.
        expect(l.found[0]!.map(command ? tags : core)).toEqual(w.failures.map(command ? tags : core));
        expect(l.found[1]!.map(command ? core : tags)).toEqual(w.failures.map(command ? core : tags));
      });
      // The shapes are all there: no address, an address, a subnet, an id of its own with an address.
      const all = seen.flatMap((l) => l.found[0]!);
      expect(all.map((f) => [f.id, f.addr?.text ?? null, f.cidr ?? null])).toEqual([
        ['mallory', null, null],
        ['2001:db8::1', '2001:db8::1', null],
        ['192.0.2.7', '192.0.2.7', null],
        ['198.51.100.0/24', '198.51.100.0', 24],
        ['2001:db8:1::/48', '2001:db8:1::', 48],
        ['2001:db8::1', '2001:db8::1', null],
        ['s42', '203.0.113.9', null],
        ['192.0.2.8', '192.0.2.8', null],
        ['192.0.2.7', '192.0.2.7', null],
        ['m\u{1F600}x', null, null], // a text with surrogates: handed over as a string, not as UTF-8
      ]);
    }
  });

  it('keeps to the window, and ends at a line without date with its file:line', async () => {
    const dir = tmpDir();
    const a = join(dir, 'a.log');
    writeFileSync(a, `${LOG_A.slice(0, 5).join('\n')}\nno date here\n${LOG_A[8]}\n`);
    const filter = filterIn(dir);
    const since = Date.UTC(2026, 11, 6, 10, 0, 3);
    const until = Date.UTC(2026, 11, 6, 10, 0, 9);
    const cursors = cursorsOf([a]);
    const feed = new ReplayFeed(cursors, [{ filter, command: false }], { since, until }, NOW);
    const { seen, end, quiet } = await readBack(feed.batches(), [a], ['shapes']);
    for (const c of cursors) c.close();
    expect(seen.map((l) => l.lineNo)).toEqual([2, 4]);
    expect(quiet).toEqual([[1, Date.UTC(2026, 11, 6, 10, 0, 5)]]); // line 3, "nothing here"
    expect(end).toEqual({ kind: 'nodate', message: `${a}:6: no date in the line: "no date here"` });
  });

  it('cuts batches of 4,096 lines and numbers the lines across them', async () => {
    const dir = tmpDir();
    const a = join(dir, 'a.log');
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++)
      lines.push(
        `Dec  6 10:${String(Math.floor(i / 600)).padStart(2, '0')}:${String(Math.floor(i / 10) % 60).padStart(2, '0')} failure from 192.0.2.${i % 250} user u${i}`,
      );
    writeFileSync(a, `${lines.join('\n')}\n`);
    const filter = filterIn(dir);
    const cursors = cursorsOf([a]);
    const batches: Batch[] = [];
    for await (const b of new ReplayFeed(
      cursors,
      [{ filter, command: false }],
      { since: null, until: null },
      NOW,
    ).batches())
      batches.push(b);
    for (const c of cursors) c.close();
    expect(batches.map((b) => b.done)).toEqual([false, false, true]);
    const { seen } = await readBack(batches, [a], ['shapes']);
    expect(seen).toHaveLength(10_000);
    expect(seen.every((l, i) => l.lineNo === i + 1 && l.found[0]![0]!.addr!.text === `192.0.2.${i % 250}`)).toBe(true);
  });
});

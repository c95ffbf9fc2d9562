import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { itReal } from '../../helpers/real.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { Matcher } from '../../../src/sentryban/filters/matcher.js';
import { outcomeOf } from '../../../src/sentryban/commands/regex.js';
import { parseAddr } from '../../../src/core/addr.js';
import { LOGS, replayFailJson } from './fail-json.js';

// Every stock fail2ban filter, checked in the same run against its sample log's failJSON annotations and
// against real fail2ban-regex. Disagreements must be listed in test/fixtures/filters/known-differences.json.
const FILTER_D = '/etc/fail2ban/filter.d';
const here = dirname(fileURLToPath(import.meta.url));
const KNOWN_FILE = join(here, '..', '..', 'fixtures', 'filters', 'known-differences.json');
const known = (
  existsSync(KNOWN_FILE) ? JSON.parse(readFileSync(KNOWN_FILE, 'utf8')) : { failJson: [], fail2banRegex: [], load: [] }
) as { failJson: string[]; fail2banRegex: string[]; load: string[] };
const stock = existsSync(FILTER_D)
  ? readdirSync(FILTER_D)
      .filter((f) => f.endsWith('.conf'))
      .map((f) => f.slice(0, -5))
      .sort()
  : [];
// Include-only helpers (no filter of their own): common.conf and the *-common.conf files.
const isHelper = (name: string): boolean => name === 'common' || name.endsWith('-common');
const report: Record<string, unknown> = {};
const record = process.env.SENTRYBAN_RECORD_DIFFERENCES === '1';

type Status = 'matched' | 'ignored' | 'missed';
type Peer = { status: Map<string, Set<Status>>; rows: Map<string, Array<[string, number | null]>> };

// Two fail2ban-regex runs per filter: per-line status (--print-all-*) and per-failure id/time (-o).
const runPeer = async (name: string): Promise<Peer> => {
  const args = ['-r', join(LOGS, name), join(FILTER_D, `${name}.conf`)];
  const env = { TZ: 'UTC' };
  const a = await execa(
    'fail2ban-regex',
    ['--print-all-matched', '--print-all-missed', '--print-all-ignored', ...args],
    { reject: false, timeout: 60_000, env },
  );
  const status = new Map<string, Set<Status>>();
  let cur: Status | null = null;
  for (const row of a.stdout.split('\n')) {
    const h = /^\|- (Matched|Ignored|Missed) line\(s\):/.exec(row);
    if (h) {
      cur = (h[1] ?? '').toLowerCase() as Status;
      continue;
    }
    if (row.startsWith('`-')) {
      cur = null;
      continue;
    }
    if (cur && row.startsWith('|  ')) {
      const t = row.slice(3).trimEnd();
      const s = status.get(t) ?? new Set<Status>();
      s.add(cur);
      status.set(t, s);
    }
  }
  const b = await execa('fail2ban-regex', ['-o', '<time>\u001f<fid>\u001f<msg>', ...args], {
    reject: false,
    timeout: 60_000,
    env,
  });
  const rows = new Map<string, Array<[string, number | null]>>();
  for (const row of b.stdout.split('\n')) {
    const [t, id, msg] = row.split('\u001f');
    if (msg === undefined) continue;
    const key = msg.trimEnd();
    const list = rows.get(key) ?? [];
    list.push([id ?? '', t === 'None' ? null : Math.floor(Number(t))]);
    rows.set(key, list);
  }
  return { status, rows };
};

const sameId = (a: string, b: string): boolean => a === b || (parseAddr(a)?.text ?? a) === (parseAddr(b)?.text ?? b);
// Lines without a date get "now" on both sides, a few seconds apart.
const sameTime = (a: number | null, b: number | null): boolean =>
  a === b || (a !== null && b !== null && Math.abs(a - b) < 600 && Math.abs(a - Date.now() / 1000) < 600);

const ours = (
  name: string,
): Map<number, { text: string; address: string | null; time: number | null; status: Status }> => {
  const f = loadFilter(join(FILTER_D, `${name}.conf`), {});
  const out = new Map<number, { text: string; address: string | null; time: number | null; status: Status }>();
  if (!f.ok) return out;
  const prevTz = process.env.TZ;
  const m = new Matcher(f.value, { checkAll: true, noDate: 'now', timezone: { kind: 'fixed', offsetMin: 0 } });
  // The last element is '' or a line without its newline, which fail2ban-regex does not read yet.
  readFileSync(join(LOGS, name), 'utf8')
    .split('\n')
    .slice(0, -1)
    .forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (line.startsWith('#') || line === '') return;
      const r = m.match({ text: line, source: name });
      const o = outcomeOf(i + 1, r);
      const done = [...out.values()];
      for (const k of r.consumedBack ?? []) {
        const prev = done[done.length - k];
        if (prev && prev.status === 'missed') prev.status = 'matched';
      }
      out.set(i + 1, {
        text: line,
        address: o.address,
        time: o.time,
        status: o.matched ? 'matched' : o.ignored ? 'ignored' : 'missed',
      });
    });
  process.env.TZ = prevTz;
  return out;
};

describe('stock fail2ban filters', () => {
  it('load (or are listed with their reason)', () => {
    const loaded: string[] = [];
    const failed: string[] = [];
    for (const name of stock) {
      if (isHelper(name)) continue;
      const f = loadFilter(join(FILTER_D, `${name}.conf`), {});
      if (f.ok) loaded.push(name);
      else failed.push(`${name}: ${f.errors.map((e) => e.message).join('; ')}`);
    }
    report.load = { loaded: loaded.length, of: loaded.length + failed.length, failed };
    console.log(
      `filters loaded ${loaded.length} of ${loaded.length + failed.length}${failed.length ? `\n${failed.join('\n')}` : ''}`,
    );
    for (const f of failed) expect(known.load).toContain(f.split(':')[0]);
  });

  it('agree with the failJSON annotations of their sample logs', () => {
    let lines = 0;
    let agree = 0;
    const diffs: string[] = [];
    const errs: string[] = [];
    for (const name of stock) {
      if (isHelper(name) || !existsSync(join(LOGS, name))) continue;
      const r = replayFailJson(name);
      lines += r.lines;
      agree += r.agree;
      errs.push(...r.loadErrors);
      for (const d of r.disagreements)
        diffs.push(`${d.file}:${d.line} ${d.opts} expected ${JSON.stringify(d.expected)} got ${JSON.stringify(d.got)}`);
    }
    console.log(
      `failJSON: ${agree} of ${lines} line outcomes agree; ${diffs.length} differ\n${diffs.slice(0, 40).join('\n')}`,
    );
    if (record) {
      known.failJson = diffs.map((d) => d.split(' ')[0] as string);
    }
    const unlisted = diffs.filter((d) => !known.failJson.includes(d.split(' ')[0] as string));
    expect(unlisted).toEqual([]);
  });

  itReal({ commands: ['fail2ban-regex'] })(
    'agree line by line with fail2ban-regex on the same files',
    async () => {
      const names = stock.filter((n) => !isHelper(n) && existsSync(join(LOGS, n)));
      const results = new Map<string, Peer>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < names.length) {
          const n = names[next++] as string;
          results.set(n, await runPeer(n));
        }
      };
      await Promise.all([worker(), worker()]);
      let lines = 0;
      let agree = 0;
      const diffs: string[] = [];
      for (const name of names) {
        const peer = results.get(name) ?? { status: new Map(), rows: new Map() };
        for (const [no, o] of ours(name)) {
          lines++;
          const st = peer.status.get(o.text.trimEnd());
          let same = st ? st.has(o.status) : o.status === 'missed';
          const rows: Array<[string, number | null]> | undefined = peer.rows.get(o.text.trimEnd());
          if (same && o.status === 'matched' && o.address !== null && rows)
            same = rows.some(([id, t]) => sameId(id, o.address ?? '') && sameTime(t, o.time));
          if (same) agree++;
          else
            diffs.push(
              `${name}:${no} ours ${o.status} ${o.address}@${o.time} fail2ban-regex ${st ? [...st].join('/') : 'absent'} ${rows ? rows.map(([a, t]) => `${a}@${t}`).join(',') : ''}`,
            );
        }
      }
      console.log(
        `fail2ban-regex: ${agree} of ${lines} lines agree; ${diffs.length} differ\n${diffs.slice(0, 40).join('\n')}`,
      );
      if (record) {
        known.fail2banRegex = diffs.map((d) => d.split(' ')[0] as string);
        writeFileSync(KNOWN_FILE, `${JSON.stringify(known, null, 1)}\n`);
      }
      const unlisted = diffs.filter((d) => !known.fail2banRegex.includes(d.split(' ')[0] as string));
      expect(unlisted).toEqual([]);
    },
    300_000,
  );
});

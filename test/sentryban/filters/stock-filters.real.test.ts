import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { itReal } from '../../helpers/real.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { Matcher } from '../../../src/sentryban/filters/matcher.js';
import { outcomeOf } from '../../../src/sentryban/commands/regex.js';
import { LOGS, replayFailJson } from './fail-json.js';

// Every stock fail2ban filter, checked in the same run against its sample log's failJSON annotations and
// against real fail2ban-regex. Disagreements must be listed in test/fixtures/filters/known-differences.json.
const FILTER_D = '/etc/fail2ban/filter.d';
const here = dirname(fileURLToPath(import.meta.url));
const KNOWN_FILE = join(here, '..', '..', 'fixtures', 'filters', 'known-differences.json');
const known = (existsSync(KNOWN_FILE) ? JSON.parse(readFileSync(KNOWN_FILE, 'utf8')) : { failJson: [], fail2banRegex: [], load: [] }) as { failJson: string[]; fail2banRegex: string[]; load: string[] };
const stock = existsSync(FILTER_D) ? readdirSync(FILTER_D).filter((f) => f.endsWith('.conf')).map((f) => f.slice(0, -5)).sort() : [];
// Include-only helpers (no filter of their own): common.conf and the *-common.conf files.
const isHelper = (name: string): boolean => name === 'common' || name.endsWith('-common');
const report: Record<string, unknown> = {};
const record = process.env.SENTRYBAN_RECORD_DIFFERENCES === '1';

const runPeer = async (name: string): Promise<Map<string, Array<[string, number | null]>>> => {
  const r = await execa('fail2ban-regex', ['-r', '-o', '<time>\u001f<fid>\u001f<msg>', join(LOGS, name), join(FILTER_D, `${name}.conf`)], { reject: false, timeout: 60_000, env: { TZ: 'UTC' } });
  const byLine = new Map<string, Array<[string, number | null]>>();
  for (const row of r.stdout.split('\n')) {
    const [t, id, msg] = row.split('\u001f');
    if (msg === undefined) continue;
    const list = byLine.get(msg) ?? [];
    list.push([id ?? '', t === 'None' ? null : Math.floor(Number(t))]);
    byLine.set(msg, list);
  }
  return byLine;
};

const ours = (name: string): Map<number, { text: string; address: string | null; time: number | null; matched: boolean }> => {
  const f = loadFilter(join(FILTER_D, `${name}.conf`), {});
  const out = new Map<number, { text: string; address: string | null; time: number | null; matched: boolean }>();
  if (!f.ok) return out;
  const prevTz = process.env.TZ;
  const m = new Matcher(f.value, { checkAll: true, noDate: 'drop', timezone: { kind: 'fixed', offsetMin: 0 } });
  readFileSync(join(LOGS, name), 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#') || line === '') return;
    const o = outcomeOf(i + 1, m.match({ text: line, source: name }));
    out.set(i + 1, { text: line, address: o.address, time: o.time, matched: o.matched });
  });
  process.env.TZ = prevTz;
  return out;
};

describe('stock fail2ban filters', () => {
  it('load (or are listed with their reason)', () => {
    const loaded: string[] = []; const failed: string[] = [];
    for (const name of stock) {
      if (isHelper(name)) continue;
      const f = loadFilter(join(FILTER_D, `${name}.conf`), {});
      if (f.ok) loaded.push(name); else failed.push(`${name}: ${f.errors.map((e) => e.message).join('; ')}`);
    }
    report.load = { loaded: loaded.length, of: loaded.length + failed.length, failed };
    console.log(`filters loaded ${loaded.length} of ${loaded.length + failed.length}${failed.length ? `\n${failed.join('\n')}` : ''}`);
    for (const f of failed) expect(known.load).toContain(f.split(':')[0]);
  });

  it('agree with the failJSON annotations of their sample logs', () => {
    let lines = 0; let agree = 0; const diffs: string[] = []; const errs: string[] = [];
    for (const name of stock) {
      if (isHelper(name) || !existsSync(join(LOGS, name))) continue;
      const r = replayFailJson(name);
      lines += r.lines; agree += r.agree; errs.push(...r.loadErrors);
      for (const d of r.disagreements) diffs.push(`${d.file}:${d.line} ${d.opts} expected ${JSON.stringify(d.expected)} got ${JSON.stringify(d.got)}`);
    }
    console.log(`failJSON: ${agree} of ${lines} line outcomes agree; ${diffs.length} differ\n${diffs.slice(0, 40).join('\n')}`);
    if (record) { known.failJson = diffs.map((d) => d.split(' ')[0] as string); }
    const unlisted = diffs.filter((d) => !known.failJson.includes(d.split(' ')[0] as string));
    expect(unlisted).toEqual([]);
  });

  itReal({ commands: ['fail2ban-regex'] })('agree line by line with fail2ban-regex on the same files', async () => {
    const names = stock.filter((n) => !isHelper(n) && existsSync(join(LOGS, n)));
    const results = new Map<string, Map<string, Array<[string, number | null]>>>();
    let next = 0;
    const worker = async (): Promise<void> => { while (next < names.length) { const n = names[next++] as string; results.set(n, await runPeer(n)); } };
    await Promise.all([worker(), worker()]);
    let lines = 0; let agree = 0; const diffs: string[] = [];
    for (const name of names) {
      const peer: Map<string, Array<[string, number | null]>> = results.get(name) ?? new Map();
      for (const [no, o] of ours(name)) {
        lines++;
        const p = peer.get(o.text);
        const peerMatched = p !== undefined;
        let same = peerMatched === o.matched;
        if (same && p && o.matched) same = p.some(([id, t]) => (id === o.address || id === 'None') && (t === o.time || t === null));
        if (same) agree++;
        else diffs.push(`${name}:${no} ours ${o.matched ? `${o.address}@${o.time}` : 'no'} fail2ban-regex ${p ? p.map(([a, t]) => `${a}@${t}`).join(',') : 'no'}`);
      }
    }
    console.log(`fail2ban-regex: ${agree} of ${lines} lines agree; ${diffs.length} differ\n${diffs.slice(0, 40).join('\n')}`);
    if (record) { known.fail2banRegex = diffs.map((d) => d.split(' ')[0] as string); writeFileSync(KNOWN_FILE, `${JSON.stringify(known, null, 1)}\n`); }
    const unlisted = diffs.filter((d) => !known.fail2banRegex.includes(d.split(' ')[0] as string));
    expect(unlisted).toEqual([]);
  }, 300_000);
});

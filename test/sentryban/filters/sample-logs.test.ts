import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import type { Filter } from '../../../src/sentryban/filters/filter.js';
import { parseSampleLog, readSampleLog, runSamples, uncovered, type Sample } from './sample-log.js';

// One factory for our own filters: every filters/<name>.yaml has its annotated sample log
// test/fixtures/logs/<name>, every line of it gives what its failJSON says through the daemon's matcher, and
// every failregex is hit by at least one expected match (a new failregex without a sample fails here).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FILTERS = join(ROOT, 'filters');
const LOGS = join(ROOT, 'test', 'fixtures', 'logs');
const NOW_YEAR = 2026; // the samples' year (sample-log.ts: SAMPLE_NOW_MS)

const names = readdirSync(FILTERS)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

const load = (path: string): Filter => {
  const f = loadFilter(path, { nowYear: NOW_YEAR });
  if (!f.ok) throw new Error(f.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n'));
  return f.value;
};

const problemsOf = (filter: Filter, samples: readonly Sample[], file: string): string[] =>
  runSamples(filter, samples).outcomes.flatMap((o) =>
    o.problems.map((p) => `${file}:${o.sample.line}: ${p}${o.sample.expect.desc ? ` (${o.sample.expect.desc})` : ''}`),
  );

describe('sample logs of our filters', () => {
  it('every filter has a sample log and every sample log a filter', () => {
    expect(names.length).toBeGreaterThan(0);
    expect(readdirSync(LOGS).sort()).toEqual(names);
  });

  describe.each(names)('%s', (name) => {
    const file = join(LOGS, name);
    const filter = (): Filter => load(join(FILTERS, `${name}.yaml`));
    const samples = (): Sample[] => (existsSync(file) ? readSampleLog(file) : []);

    it('has lines that must match and lines that must not', () => {
      const s = samples();
      expect(s.filter((x) => x.expect.match).length).toBeGreaterThan(0);
      expect(s.filter((x) => !x.expect.match).length).toBeGreaterThan(0);
    });

    it('gives every line what its failJSON says', () => {
      expect(problemsOf(filter(), samples(), `test/fixtures/logs/${name}`)).toEqual([]);
    });

    it('hits every failregex with an expected match', () => {
      const f = filter();
      expect(f.failregex.length).toBeGreaterThan(0);
      expect(uncovered(f, runSamples(f, samples()))).toEqual([]);
    });
  });
});

// The factory's own checks can fail: a wrong expectation, a failregex without sample, a bad annotation.
describe('the sample-log factory', () => {
  const P = 'Nov 25 04:05:19 vm sshd[1]: ';
  const sshd = (): Filter => load(join(FILTERS, 'sshd.yaml'));
  const one = (json: string, line: string): Sample[] => parseSampleLog(`# failJSON: ${json}\n${line}\n`, 't');

  it('reports a wrong host, user, time or match', () => {
    const line = `${P}Failed password for root from 203.0.113.5 port 1 ssh2`;
    const ok = '{"match": true, "host": "203.0.113.5", "user": "root", "time": "2026-11-25T04:05:19"}';
    expect(problemsOf(sshd(), one(ok, line), 't')).toEqual([]);
    expect(problemsOf(sshd(), one(ok.replace('.5"', '.6"'), line), 't')).toEqual([
      't:2: host: expected 203.0.113.6, got 203.0.113.5',
    ]);
    expect(problemsOf(sshd(), one(ok.replace('"root"', '"bob"'), line), 't')).toEqual([
      't:2: user: expected bob, got root',
    ]);
    expect(problemsOf(sshd(), one(ok.replace(':19"', ':20"'), line), 't')).toEqual([
      't:2: time: expected 2026-11-25T04:05:20, got 2026-11-25T04:05:19',
    ]);
    expect(problemsOf(sshd(), one('{"match": false}', line), 't')).toEqual(['t:2: expected match false, got true']);
  });

  it('reports a failregex that no sample hits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sample-logs-'));
    try {
      const yaml = readFileSync(join(FILTERS, 'sshd.yaml'), 'utf8').replace(
        /^failregex:\n/m,
        () => "failregex:\n  - '^Bad protocol version from <ADDR> port \\d+$'\n", // a function: no $' pattern
      );
      writeFileSync(join(dir, 'sshd.yaml'), yaml);
      const f = load(join(dir, 'sshd.yaml'));
      const run = runSamples(f, readSampleLog(join(LOGS, 'sshd')));
      expect(uncovered(f, run)).toEqual(['failregex[0]: ^Bad protocol version from <ADDR> port \\d+$']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a log line without failJSON, an unknown key, a match without host or time', () => {
    expect(() => parseSampleLog(`${P}x\n`, 'f')).toThrow('f:1: log line without a failJSON above it');
    expect(() => one('{"match": false, "hots": "x"}', 'x')).toThrow('t:1: failJSON: unknown key "hots"');
    expect(() => one('{"match": true, "time": "2026-11-25T04:05:19"}', 'x')).toThrow('needs "host" and "time"');
    expect(() => one('{"match": "yes"}', 'x')).toThrow('"match" must be true or false');
    expect(() => parseSampleLog('# failJSON: {"match": false}\n', 'f')).toThrow('the last failJSON has no log line');
  });
});

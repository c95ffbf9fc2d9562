import { readFileSync } from 'node:fs';
import { Matcher } from '../../../src/sentryban/filters/matcher.js';
import type { Filter } from '../../../src/sentryban/filters/filter.js';

// Our filters' sample logs (test/fixtures/logs/<filter>), in fail2ban's annotated style: a `# failJSON: {...}`
// line gives what the next log line must produce. Every log line must have one (a bare line is a fixture error),
// and unknown keys are refused, so a typo cannot turn an expectation off.
export type Expectation = {
  match: boolean;
  host?: string; // the failure's id: the address in canonical form (RFC 5952 for IPv6)
  user?: string;
  time?: string; // the line's date, UTC, as "YYYY-MM-DDTHH:MM:SS"
  desc?: string;
};
export type Sample = { line: number; text: string; expect: Expectation };

const KEYS = new Set(['match', 'host', 'user', 'time', 'desc']);
const STRING_KEYS = ['host', 'user', 'time', 'desc'] as const;

const parseExpectation = (json: string, where: string): Expectation => {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new Error(`${where}: failJSON is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: failJSON is not an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new Error(`${where}: failJSON: unknown key "${k}"`);
  if (typeof o.match !== 'boolean') throw new Error(`${where}: failJSON: "match" must be true or false`);
  for (const k of STRING_KEYS)
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new Error(`${where}: failJSON: "${k}" must be a string`);
  if (o.match && (o.host === undefined || o.time === undefined))
    throw new Error(`${where}: failJSON: a matching line needs "host" and "time"`);
  return o as Expectation;
};

// The samples of an annotated log: comment and empty lines are skipped, each failJSON goes with the next line.
export const parseSampleLog = (text: string, file: string): Sample[] => {
  const out: Sample[] = [];
  let pending: { expect: Expectation; line: number } | null = null;
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  rows.forEach((row, i) => {
    const where = `${file}:${i + 1}`;
    const j = /^#\s*failJSON:(.*)$/.exec(row);
    if (j) {
      if (pending)
        throw new Error(`${where}: failJSON follows the failJSON of line ${pending.line} without a log line`);
      pending = { expect: parseExpectation(j[1] as string, where), line: i + 1 };
      return;
    }
    if (row.startsWith('#') || row.trim() === '') return;
    if (!pending) throw new Error(`${where}: log line without a failJSON above it`);
    out.push({ line: i + 1, text: row, expect: pending.expect });
    pending = null;
  });
  if (pending) throw new Error(`${file}: the last failJSON has no log line`);
  return out;
};

// What each sample gave, and which failregexes the matching ones hit.
export type SampleOutcome = { sample: Sample; got: Expectation; problems: string[] };
export type SampleRun = { outcomes: SampleOutcome[]; hitRegexes: Set<number> };

// UTC and a fixed clock: the samples' dates without a year fall in 2026.
export const SAMPLE_NOW_MS = Date.UTC(2026, 11, 1);
const isoUtc = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

// The daemon's matcher (its options: first failregex wins, full results, lines without date take the clock),
// one per log as the daemon has one per followed file, fed the lines in order.
export const runSamples = (filter: Filter, samples: readonly Sample[]): SampleRun => {
  const m = new Matcher(filter, { now: () => SAMPLE_NOW_MS, timezone: { kind: 'fixed', offsetMin: 0 } });
  const hitRegexes = new Set<number>();
  const outcomes = samples.map((sample): SampleOutcome => {
    const r = m.match({ text: sample.text, source: 'sample' });
    const f = r.failures[0];
    const got: Expectation =
      f === undefined
        ? { match: false, ...(r.time !== null ? { time: isoUtc(r.time) } : {}) }
        : { match: true, host: f.id, user: f.groups.user ?? '', time: isoUtc(f.time) };
    const e = sample.expect;
    const problems: string[] = [];
    if (r.failures.length > 1) problems.push(`${r.failures.length} failures from one line`);
    if (got.match !== e.match) problems.push(`expected match ${e.match}, got ${got.match}`);
    for (const k of ['host', 'user', 'time'] as const)
      if (e[k] !== undefined && got[k] !== e[k]) problems.push(`${k}: expected ${e[k]}, got ${got[k]}`);
    if (e.match && problems.length === 0) for (const h of r.hits) hitRegexes.add(h.regex);
    return { sample, got, problems };
  });
  return { outcomes, hitRegexes };
};

// Failregexes (index: source) that no expected match hit: each must have a sample.
export const uncovered = (filter: Filter, run: SampleRun): string[] =>
  filter.failregex.flatMap((r, i) => (run.hitRegexes.has(i) ? [] : [`failregex[${i}]: ${r.source.regex}`]));

export const readSampleLog = (path: string): Sample[] => parseSampleLog(readFileSync(path, 'utf8'), path);

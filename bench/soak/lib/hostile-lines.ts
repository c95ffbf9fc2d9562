import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAddr } from '../../../src/core/addr.js';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import type { Filter } from '../../../src/sentryban/filters/filter.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { Matcher } from '../../../src/sentryban/filters/matcher.js';
import { fromJsonl, lineBytes, type Family, type HostileEntry } from './hostile-corpus.js';

// Runs the hostile corpus (hostile-corpus.ts) through the matcher the daemon uses, per filter: addresses found
// that are not the line's attacker (innocent), exceptions (crashes), and the time of each line.
export const ROOT = ((): string => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!readdirSync(d).includes('package.json')) d = dirname(d); // from bench/ and from dist-bench/bench/
  return d;
})();
export const FIXTURE = join(ROOT, 'test', 'fixtures', 'hostile', 'corpus.jsonl');
export const STOCK_DIR = '/etc/fail2ban/filter.d';
export const STOCK = ['sshd', 'nginx-http-auth', 'postfix', 'dovecot'] as const;
export const NOW = Date.UTC(2026, 11, 6, 23, 0, 0);

export type FilterRef = { label: string; ref: string; ours: boolean; family: Family | null };
export const filterRefs = (): FilterRef[] => [
  ...readdirSync(join(ROOT, 'filters'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -5);
      return { label: `ours:${name}`, ref: join(ROOT, 'filters', f), ours: true, family: familyOf(name) };
    }),
  ...STOCK.map((s) => ({
    label: `fail2ban:${s}`,
    ref: join(STOCK_DIR, `${s}.conf`),
    ours: false,
    family: familyOf(s),
  })),
];
const familyOf = (name: string): Family | null =>
  (['sshd', 'portsentry', 'nginx-http-auth', 'postfix', 'dovecot'] as const).find((f) => f === name) ?? null;

export const loadFixture = (): HostileEntry[] => fromJsonl(readFileSync(FIXTURE, 'utf8'));

// The text the daemon's file source hands the matcher for these bytes (follow.ts: UTF-8, U+FFFD for bad bytes).
const decoder = new TextDecoder('utf-8', { fatal: false });
export const lineText = (e: HostileEntry): string => decoder.decode(lineBytes(e));

export const compile = (f: FilterRef): Filter => {
  // usedns no: no name lookups (no traffic); <HOST> then matches addresses only, as fail2ban's usedns = no.
  const r = loadFilter(f.ref, { usedns: 'no', nowYear: 2026 });
  if (!r.ok) throw new Error(`${f.label}: ${r.errors.map(formatDiagnostic).join('; ')}`);
  return r.value;
};

export const canon = (s: string): string => parseAddr(s)?.text ?? s;

export type Finding = { n: number; kind: string; family: Family; attacker: string | null; found: string };
export type FilterRun = {
  filter: FilterRef;
  found: Map<number, string[]>; // addresses found, by line number
  innocent: Finding[];
  crashes: Array<{ n: number; error: string }>;
  medianMs: Float64Array; // per line (index n-1), median over the timed passes
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

// One warm-up pass, then `passes` timed passes (a fresh matcher each, as a restarted daemon has). checkAll: every
// failregex is tried (what fail2ban-regex reports), so an innocent address behind an earlier hit is seen too.
export const runFilter = (
  f: FilterRef,
  filter: Filter,
  es: readonly HostileEntry[],
  texts: readonly string[],
  passes: number,
): FilterRun => {
  const found = new Map<number, string[]>();
  const crashes: FilterRun['crashes'] = [];
  const times: number[][] = es.map(() => []);
  for (let p = 0; p <= passes; p++) {
    const m = new Matcher(filter, {
      checkAll: true,
      timezone: { kind: 'fixed', offsetMin: 0 },
      now: () => NOW,
      noDate: 'now',
    });
    for (const [i, e] of es.entries()) {
      const line = { text: texts[i] as string, source: `hostile/${e.family}.log`, at: NOW };
      let ids: string[] = [];
      const t0 = performance.now();
      try {
        ids = m.match(line).failures.map((x) => x.id);
      } catch (err) {
        if (p === 0) crashes.push({ n: e.n, error: String((err as Error)?.stack ?? err) });
      }
      const dt = performance.now() - t0;
      if (p > 0) (times[i] as number[]).push(dt);
      if (p === 0 && ids.length) found.set(e.n, ids);
    }
  }
  return { filter: f, found, innocent: innocentOf(es, found), crashes, medianMs: Float64Array.from(times.map(median)) };
};

// Every address found in a line other than its attacker's.
export const innocentOf = (es: readonly HostileEntry[], found: ReadonlyMap<number, string[]>): Finding[] => {
  const out: Finding[] = [];
  for (const e of es) {
    for (const id of found.get(e.n) ?? []) {
      if (e.attacker !== null && canon(id) === canon(e.attacker)) continue;
      out.push({ n: e.n, kind: e.kind, family: e.family, attacker: e.attacker, found: id });
    }
  }
  return out;
};

// Worst median time per line, over lines up to `maxBytes` long (or over longer ones only, with `over`).
type Worst = { ms: number; n: number; kind: string };
export const worst = (r: FilterRun, es: readonly HostileEntry[], pick: (e: HostileEntry) => boolean): Worst => {
  let best = { ms: -1, n: 0, kind: '' };
  for (const [i, e] of es.entries()) {
    const ms = r.medianMs[i] as number;
    if (pick(e) && ms > best.ms) best = { ms, n: e.n, kind: `${e.family}/${e.kind}` };
  }
  return best;
};
export const isLong = (e: HostileEntry): boolean => e.fill !== undefined && e.fill.count * e.fill.unit.length >= 65536;

// The corpus as a log file (one line per entry, in order).
export const corpusLog = (es: readonly HostileEntry[]): Buffer =>
  Buffer.concat(es.flatMap((e) => [lineBytes(e), Buffer.from('\n')]));

// fail2ban-regex's verdict on the same file: the addresses it finds, by line (its `<time>` is the line's number of
// seconds after 2026-12-06 00:00:00 UTC). usedns no, as ours: no name lookups.
type Verdict = { found: Map<number, string[]>; sec: number };
export const fail2banVerdict = async (logFile: string, f: FilterRef): Promise<Verdict> => {
  const { execa } = await import('execa');
  const t0 = performance.now();
  const r = await execa('fail2ban-regex', ['--usedns', 'no', '-o', '<time> <ip>', logFile, f.ref], {
    reject: false,
    timeout: 1_800_000,
    env: { TZ: 'UTC' },
    maxBuffer: 64 * MIB_OUT,
  });
  if (r.exitCode !== 0) {
    throw new Error(`fail2ban-regex ${f.ref} exited ${String(r.exitCode)}: ${r.stderr.slice(0, 500)}`);
  }
  const found = new Map<number, string[]>();
  const t0s = Date.UTC(2026, 11, 6) / 1000;
  for (const l of r.stdout.split('\n')) {
    const m = /^(\d+)(?:\.\d+)? (\S+)$/.exec(l);
    if (!m) continue;
    const n = Math.round(Number(m[1]) - t0s) % 86400;
    found.set(n, [...(found.get(n) ?? []), m[2] as string]);
  }
  return { found, sec: (performance.now() - t0) / 1000 };
};
const MIB_OUT = 1024 * 1024;

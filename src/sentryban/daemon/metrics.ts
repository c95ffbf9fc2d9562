import { statSync } from 'node:fs';
import type { MetricsAddress } from '../../core/metrics-address.js';
import { COMMAND_BUCKETS, Metrics, serveMetrics, type MetricsServer } from '../../core/metrics.js';
import type { JailCounters } from './manager.js';
import type { ActionTimer } from './repair.js';

// sentryban's series (docs/metrics.md). Loaded (with prom-client) only when sentryban.yaml has `metrics:`.
// The per-line counts are the manager's own integers, read at scrape time; only action calls, which run a command
// or a write, are observed as they end.
export type Watched = { counters(): JailCounters[]; dbfile: string };
export type SentrybanMetrics = {
  readonly metrics: Metrics;
  readonly server: MetricsServer;
  readonly timed: ActionTimer;
  watch(w: Watched): void;
};

// A backend's name ends with its jail (`ipset:sshd`, `command:mail:sshd`): the label is the rest.
const backendOf = (name: string, jail: string): string =>
  name.endsWith(`:${jail}`) ? name.slice(0, -jail.length - 1) : name;

const fileBytes = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

export const startSentrybanMetrics = async (at: MetricsAddress): Promise<SentrybanMetrics | string> => {
  const m = new Metrics();
  let watched: Watched | null = null;
  const jails = (): JailCounters[] => watched?.counters() ?? [];
  const perJail = (v: (j: JailCounters) => number) => () => jails().map((j) => [{ jail: j.jail }, v(j)] as const);
  const perFilter = (v: (j: JailCounters) => number) => () =>
    jails().map((j) => [{ jail: j.jail, filter: j.filter }, v(j)] as const);
  m.counter(
    'sentryban_lines_read_total',
    'Log lines read',
    ['jail', 'filter'],
    perFilter((j) => j.lines),
  );
  m.counter(
    'sentryban_lines_matched_total',
    "Failures the jail's filter found in the lines read (a multi-line failure counts once)",
    ['jail', 'filter'],
    perFilter((j) => j.matched),
  );
  m.counter(
    'sentryban_failures_total',
    'Failures counted (inside findtime)',
    ['jail'],
    perJail((j) => j.failures),
  );
  m.counter(
    'sentryban_bans_total',
    'Bans decided (a manual ban included)',
    ['jail'],
    perJail((j) => j.bans),
  );
  m.counter(
    'sentryban_unbans_total',
    'Bans lifted (expired or manual)',
    ['jail'],
    perJail((j) => j.unbans),
  );
  m.gauge(
    'sentryban_bans_in_force',
    'Bans in force now',
    ['jail'],
    perJail((j) => j.banned),
  );
  m.gauge(
    'sentryban_counting_addresses',
    'Addresses with failures being counted',
    ['jail'],
    perJail((j) => j.counting),
  );
  m.gauge('sentryban_store_bytes', 'Size of the SQLite store (file and WAL)', [], () => {
    const db = watched?.dbfile;
    return db ? [[{}, fileBytes(db) + fileBytes(`${db}-wal`)]] : [];
  });
  const labels = ['jail', 'backend', 'verb'];
  const seconds = m.histogram('sentryban_action_seconds', 'Backend calls: time taken (its _count: calls)', labels, [
    ...COMMAND_BUCKETS,
  ]);
  const failed = m.events('sentryban_action_failures_total', 'Backend calls that failed', labels);
  m.processMetrics();
  const server = await serveMetrics(m, at);
  if (typeof server === 'string') return server;
  return {
    metrics: m,
    server,
    timed: (jail, name, verb, s, ok) => {
      const l = { jail, backend: backendOf(name, jail), verb };
      seconds.observe(l, s);
      if (!ok) failed.inc(l);
    },
    watch: (w) => {
      watched = w;
    },
  };
};

import { statSync } from 'node:fs';
import type { MetricsAddress } from '../../core/metrics-address.js';
import { COMMAND_BUCKETS, Metrics, serveMetrics, type MetricsServer } from '../../core/metrics.js';
import type { JailCounters } from './manager.js';
import type { ActionTimer } from './repair.js';
import type { FleetCounters } from '../fleet/link.js';

// sentryban's series (docs/metrics.md). Loaded (with prom-client) only when sentryban.yaml has `metrics:`.
// The per-line counts are the manager's own integers, read at scrape time; only action calls, which run a command
// or a write, are observed as they end.
export type Watched = { counters(): JailCounters[]; dbfile: string };
export type SentrybanMetrics = {
  readonly metrics: Metrics;
  readonly server: MetricsServer;
  readonly timed: ActionTimer;
  watch(w: Watched): void;
  watchFleet(counters: () => FleetCounters): void;
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
  // The fleet (docs/fleet.md): its link's own integers, read at scrape time; no series without a `fleet:`.
  let fleet: (() => FleetCounters) | null = null;
  const ofFleet = (v: (c: FleetCounters) => number) => () => (fleet ? [[{}, v(fleet())] as const] : []);
  const fleetCounters: [string, string, (c: FleetCounters) => number][] = [
    ['published', 'Ban and unban events this host published to the fleet', (c) => c.published],
    ['received', "Fleet entries received (this host's own excluded)", (c) => c.received],
    ['applied', 'Received bans and unbans that changed this host', (c) => c.applied],
    ['refused', 'Received entries refused by their checks (audited)', (c) => c.refused],
    ['expired', 'Received bans already over on arrival (audited, not applied)', (c) => c.expired],
    ['duplicate', 'Received events already taken, or bans already in force', (c) => c.duplicate],
    ['resyncs', 'Re-syncs from the snapshot after falling behind the trim point', (c) => c.resyncs],
  ];
  for (const [name, help, v] of fleetCounters) m.counter(`sentryban_fleet_${name}_total`, help, [], ofFleet(v));
  m.gauge(
    'sentryban_fleet_outbox',
    'Events waiting to be published',
    [],
    ofFleet((c) => c.outbox),
  );
  m.gauge(
    'sentryban_fleet_lag_seconds',
    'Publish time to arrival of the last ban received',
    [],
    ofFleet((c) => c.lagMs / 1000),
  );
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
    watchFleet: (counters) => {
      fleet = counters;
    },
  };
};

import { basename } from 'node:path';
import type { MetricsAddress } from '../core/metrics-address.js';
import { COMMAND_BUCKETS, Metrics, serveMetrics, type MetricsServer } from '../core/metrics.js';
import type { ProbeCounts } from './counts.js';
import type { CommandRunner } from './run-command.js';

// portsentry's series (docs/metrics.md). Loaded (with prom-client) only when portsentry.conf has METRICS.
// The probe counts are the pipeline's own integers, read at scrape time; a KILL_* command is timed as it ends.
export type Watched = { counts: ProbeCounts; queuedBlocks: number };
export type PortsentryMetrics = {
  readonly server: MetricsServer;
  timed(run: CommandRunner): CommandRunner;
  watch(w: Watched): void;
};

export const startPortsentryMetrics = async (at: MetricsAddress): Promise<PortsentryMetrics | string> => {
  const m = new Metrics();
  let w: Watched | null = null;
  const one = (v: (c: ProbeCounts) => number) => () => (w ? [[{}, v(w.counts)] as const] : []);
  m.counter('portsentry_probes_total', 'Probes seen, by detection mode and port class', ['mode', 'port_class'], () =>
    w ? [...w.counts.probeSeries()].map(([mode, cls, n]) => [{ mode, port_class: cls }, n] as const) : [],
  );
  m.counter(
    'portsentry_ignored_total',
    'Probes not acted on: the ignore file, or an address of this host',
    [],
    one((c) => c.ignored),
  );
  m.counter(
    'portsentry_alerts_total',
    'Detection lines written (SCAN_TRIGGER reached)',
    [],
    one((c) => c.alerts),
  );
  m.counter(
    'portsentry_blocks_total',
    'Hosts blocked (every response ran)',
    [],
    one((c) => c.blocks),
  );
  m.counter(
    'portsentry_block_failures_total',
    'Blocks that failed (a response failed)',
    [],
    one((c) => c.blockFailures),
  );
  m.counter(
    'portsentry_already_blocked_total',
    'Alerts from a host already blocked',
    [],
    one((c) => c.alreadyBlocked),
  );
  m.gauge('portsentry_blocks_queued', 'Blocks waiting for BLOCK_RATE_MAX', [], () =>
    w ? [[{}, w.queuedBlocks] as const] : [],
  );
  const seconds = m.histogram(
    'portsentry_command_seconds',
    'KILL_* commands: time taken (its _count: runs)',
    ['command'],
    [...COMMAND_BUCKETS],
  );
  const failed = m.events('portsentry_command_failures_total', 'KILL_* commands not run or timed out', ['command']);
  m.processMetrics();
  const server = await serveMetrics(m, at);
  if (typeof server === 'string') return server;
  return {
    server,
    timed: (run) => async (argv) => {
      const t0 = performance.now();
      const r = await run(argv);
      const labels = { command: basename(argv[0] ?? '') };
      seconds.observe(labels, (performance.now() - t0) / 1000);
      if (r.kind !== 'ran') failed.inc(labels);
      return r;
    },
    watch: (x) => {
      w = x;
    },
  };
};

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsAddress } from './metrics-address.js';

// The opt-in Prometheus endpoint of both daemons: GET /metrics on one address, the text exposition of a registry
// of its own (never prom-client's global one). The hot paths pay nothing: the daemons keep plain integer counters
// they already need, and the `counter`/`gauge` series here read them at scrape time (prom-client `collect()`).
// Adding a metric is one line where the value lives, e.g.
//   metrics.counter('sentryban_x_total', 'What it counts', ['jail'], () => jails.map((j) => [{ jail: j.name }, j.x]));

export type Labels = Record<string, string>;
// The series of one metric at scrape time: label values and the value.
export type Sample = readonly [Labels, number];
export type Read = () => Iterable<Sample>;

export class Metrics {
  readonly registry = new Registry();

  // A counter whose values the code keeps itself (plain integers), read at scrape time.
  counter(name: string, help: string, labelNames: readonly string[], read: Read): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Counter) {
        this.reset(); // series that are gone (a jail removed by a reload) go with it
        for (const [labels, v] of read()) this.inc(labels, v);
      },
    });
  }
  // A value read at scrape time (bans in force, store size).
  gauge(name: string, help: string, labelNames: readonly string[], read: Read): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Gauge) {
        this.reset();
        for (const [labels, v] of read()) this.set(labels, v);
      },
    });
  }
  // A counter of rare events, incremented where they happen (an action failed): never per line or probe.
  events(name: string, help: string, labelNames: readonly string[]): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
  // A latency histogram, observed where a rare, slow thing ends (an action, a command): never per line or probe.
  histogram(name: string, help: string, labelNames: readonly string[], buckets: number[]): Histogram {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
  // The process's own series, under prom-client's default names, all read at scrape time. Not prom-client's
  // collectDefaultMetrics(): its GC histogram is a PerformanceObserver that runs JavaScript and a labelled observe()
  // on every garbage collection, which cost the daemon CPU on a burst of lines
  // (docs/metrics.md has the figures). The event-loop delay comes from Node's own histogram (sampled in C++).
  processMetrics(): void {
    const delay = monitorEventLoopDelay({ resolution: 20 });
    delay.enable();
    const started = Date.now() / 1000 - process.uptime();
    const mem = (): NodeJS.MemoryUsage => process.memoryUsage();
    this.gauge('process_resident_memory_bytes', 'Resident memory size in bytes', [], () => [[{}, mem().rss]]);
    this.gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes', [], () => [
      [{}, mem().heapUsed],
    ]);
    this.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds', [], () => [
      [{}, Math.round(started)],
    ]);
    this.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds', [], () => {
      const c = process.cpuUsage();
      return [[{}, (c.user + c.system) / 1e6]];
    });
    // prom-client's definition: how late a setImmediate scheduled at scrape time runs.
    new Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Lag of event loop in seconds (measured at scrape time)',
      registers: [this.registry],
      async collect(this: Gauge) {
        const t0 = process.hrtime.bigint();
        await new Promise((r) => setImmediate(r));
        this.set(Number(process.hrtime.bigint() - t0) / 1e9);
      },
    });
    const ns = (v: number): number => (Number.isFinite(v) ? v / 1e9 : 0);
    this.gauge('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the event loop delay', [], () => [
      [{}, ns(delay.percentile(50))],
    ]);
    this.gauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the event loop delay', [], () => [
      [{}, ns(delay.percentile(99))],
    ]);
    // Registered last, so read last at a scrape: the percentiles then cover the time since the previous scrape.
    this.gauge('nodejs_eventloop_lag_max_seconds', 'The maximum event loop delay', [], () => {
      const max = ns(delay.max);
      delay.reset();
      return [[{}, max]];
    });
  }
}

// Buckets for commands and firewall calls: 1 ms to 10 s.
export const COMMAND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export type MetricsServer = { readonly address: MetricsAddress; close(): Promise<void> };

const answer = (registry: Registry, req: IncomingMessage, res: ServerResponse): void => {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('only GET\n');
    return;
  }
  registry.metrics().then(
    (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
    (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
  );
};

// Listen on the address; a bind failure (address in use, not on this host) is a message, not a throw.
export const serveMetrics = (metrics: Metrics, at: MetricsAddress): Promise<MetricsServer | string> =>
  new Promise((resolve) => {
    const server = createServer((req, res) => answer(metrics.registry, req, res));
    server.keepAliveTimeout = 5000;
    const fail = (e: NodeJS.ErrnoException): void => resolve(`metrics ${at.text}: ${e.code ?? e.message}`);
    server.once('error', fail);
    server.listen({ host: at.host, port: at.port, exclusive: true }, () => {
      server.off('error', fail);
      const bound = server.address() as AddressInfo;
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve({
        address: { host: bound.address, port: bound.port, text: `${host}:${bound.port}` },
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
            server.closeAllConnections(); // an idle keep-alive scraper would hold the shutdown
          }),
      });
    });
  });

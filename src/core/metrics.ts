import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
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
  // prom-client's process metrics: process_resident_memory_bytes, nodejs_eventloop_lag_seconds (and its
  // percentiles), heap, GC, open file descriptors.
  processMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
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

import { describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { register } from 'prom-client';
import { Metrics, serveMetrics, type MetricsServer } from '../../src/core/metrics.js';
import { parseExposition, valueOf } from '../helpers/prom.js';
import { itReal } from '../helpers/real.js';

// The shared endpoint (src/core/metrics.ts): series read at scrape time from plain values, its own registry,
// GET /metrics only, and a close that frees the port even with a keep-alive scraper connected.
const real = itReal({ commands: ['python3'] });
const start = async (m: Metrics): Promise<MetricsServer> => {
  const s = await serveMetrics(m, { host: '127.0.0.1', port: 0, text: '' });
  if (typeof s === 'string') throw new Error(s);
  return s;
};

describe('core metrics', () => {
  real('reads the code’s own counters when scraped; a series that is gone goes from the page', async () => {
    const m = new Metrics();
    const jails = new Map([
      ['a', 3],
      ['b', 5],
    ]);
    m.counter('t_lines_total', 'lines', ['jail'], () => [...jails].map(([jail, n]) => [{ jail }, n] as const));
    m.gauge('t_in_force', 'now', [], () => [[{}, 7]]);
    const h = m.histogram('t_seconds', 'time', ['verb'], [0.1, 1]);
    h.observe({ verb: 'ban' }, 0.5);
    const s = await start(m);
    try {
      const url = `http://${s.address.text}/metrics`;
      let f = await parseExposition(await (await fetch(url)).text());
      expect(valueOf(f, 't_lines_total', { jail: 'a' })).toBe(3);
      expect(valueOf(f, 't_in_force')).toBe(7);
      expect(valueOf(f, 't_seconds_bucket', { verb: 'ban', le: '1' })).toBe(1);
      expect(valueOf(f, 't_seconds_bucket', { verb: 'ban', le: '0.1' })).toBe(0);
      jails.set('a', 4);
      jails.delete('b');
      f = await parseExposition(await (await fetch(url)).text());
      expect(valueOf(f, 't_lines_total', { jail: 'a' })).toBe(4);
      expect(valueOf(f, 't_lines_total', { jail: 'b' })).toBeUndefined();
      expect(register.getMetricsAsArray()).toEqual([]); // prom-client's global registry is never used
    } finally {
      await s.close();
    }
  });

  it('answers 404 off /metrics and 405 to anything but GET', async () => {
    const s = await start(new Metrics());
    try {
      const base = `http://${s.address.text}`;
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/metricsx`)).status).toBe(404);
      const del = await fetch(`${base}/metrics`, { method: 'DELETE' });
      expect([del.status, del.headers.get('allow')]).toEqual([405, 'GET']);
    } finally {
      await s.close();
    }
  });

  it('close() frees the port with an idle keep-alive connection open; a port in use is a message', async () => {
    const s = await start(new Metrics());
    const { port } = s.address;
    const agent = new (await import('node:http')).Agent({ keepAlive: true });
    await new Promise<void>((res, rej) => {
      request({ host: '127.0.0.1', port, path: '/metrics', agent }, (r) => {
        r.resume();
        r.on('end', res);
      })
        .on('error', rej)
        .end();
    });
    const busy = await serveMetrics(new Metrics(), { host: '127.0.0.1', port, text: `127.0.0.1:${port}` });
    expect(busy).toBe(`metrics 127.0.0.1:${port}: EADDRINUSE`);
    await s.close();
    agent.destroy();
    const again = await serveMetrics(new Metrics(), { host: '127.0.0.1', port, text: '' });
    expect(typeof again).not.toBe('string');
    if (typeof again !== 'string') await again.close();
  });
});

import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConf } from '../../src/portsentry/conf.js';
import { retrieveToken, splitChunks } from '../../src/portsentry/conf-scan.js';

// METRICS in portsentry.conf: ours only. 1.2 reads a key as the first non-comment line containing it with "=" or
// " " right after (conf-scan.ts does the same): no 1.2 key is found in a METRICS line, so 1.2 reads the file as
// if the line were not there (also checked against the real 1.2 binary: see docs/metrics.md).
const BUNDLED = fileURLToPath(new URL('../../config/portsentry.conf', import.meta.url));
const KEYS_1_2 = [
  'TCP_PORTS',
  'UDP_PORTS',
  'ADVANCED_PORTS_TCP',
  'ADVANCED_PORTS_UDP',
  'ADVANCED_EXCLUDE_TCP',
  'ADVANCED_EXCLUDE_UDP',
  'IGNORE_FILE',
  'HISTORY_FILE',
  'BLOCKED_FILE',
  'RESOLVE_HOST',
  'BLOCK_UDP',
  'BLOCK_TCP',
  'KILL_ROUTE',
  'KILL_HOSTS_DENY',
  'KILL_RUN_CMD',
  'KILL_RUN_CMD_FIRST',
  'PORT_BANNER',
  'SCAN_TRIGGER',
];

describe('portsentry.conf METRICS', () => {
  const base = readFileSync(BUNDLED, 'latin1');
  it('is read as the endpoint; every other key reads the same with it (first, last or absent)', () => {
    const withFirst = `METRICS="127.0.0.1:9102"\n${base}`;
    const withLast = `${base}METRICS = "[::1]:9102"\n`;
    const plain = parseConf(base, 'p.conf');
    expect(plain.conf.metrics).toBeNull();
    for (const text of [withFirst, withLast]) {
      const r = parseConf(text, 'p.conf');
      expect(r.errors).toEqual([]);
      expect(r.syslog).toEqual(plain.syslog);
      // Appended, nothing moves: the same values on the same lines.
      if (text === withLast) expect([{ ...r.conf, metrics: null }, r.warnings]).toEqual([plain.conf, plain.warnings]);
      for (const k of KEYS_1_2) {
        const a = retrieveToken(splitChunks(text), k);
        const b = retrieveToken(splitChunks(base), k);
        expect([k, a.kind, a.kind === 'value' ? a.value : null]).toEqual([
          k,
          b.kind,
          b.kind === 'value' ? b.value : null,
        ]);
      }
    }
    expect(parseConf(withFirst, 'p.conf').conf.metrics).toEqual({
      host: '127.0.0.1',
      port: 9102,
      text: '127.0.0.1:9102',
    });
    expect(parseConf(withLast, 'p.conf').conf.metrics?.text).toBe('[::1]:9102');
    expect(parseConf(`${base}METRICS=""\n`, 'p.conf').conf.metrics).toBeNull();
  });
  it('METRICS_<MODE> is read per mode; 1.2 keys read the same beside it', () => {
    const text = `${base}METRICS="127.0.0.1:9102"\nMETRICS_UDP="127.0.0.1:9103"\nMETRICS_ATCP = "[::1]:9104"\n`;
    const r = parseConf(text, 'p.conf');
    expect(r.errors).toEqual([]);
    expect(r.conf.metrics?.text).toBe('127.0.0.1:9102');
    expect(Object.fromEntries(Object.entries(r.conf.metricsByMode).map(([m, a]) => [m, a.text]))).toEqual({
      udp: '127.0.0.1:9103',
      atcp: '[::1]:9104',
    });
    for (const k of KEYS_1_2) expect(retrieveToken(splitChunks(text), k)).toEqual(retrieveToken(splitChunks(base), k));
    expect(parseConf(base, 'p.conf').conf.metricsByMode).toEqual({});
  });
  it('a bad value refuses the file with file:line', () => {
    const r = parseConf(
      `TCP_PORTS="1"\n\nMETRICS="0.0.0.0:9102"\nMETRICS_UDP="localhost:1"\n`,
      '/etc/portsentry/portsentry.conf',
    );
    expect(r.errors).toEqual([
      {
        file: '/etc/portsentry/portsentry.conf',
        line: 3,
        col: 0,
        path: 'METRICS',
        message: '0.0.0.0 listens on every interface; name one address (e.g. 127.0.0.1)',
      },
      {
        file: '/etc/portsentry/portsentry.conf',
        line: 4,
        col: 0,
        path: 'METRICS_UDP',
        message: '"localhost" is not an IP address (write 127.0.0.1:PORT; IPv6 as [::1]:PORT)',
      },
    ]);
  });
});

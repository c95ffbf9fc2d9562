import { describe, expect, it } from '@jest/globals';
import { parseMetricsAddress } from '../../src/core/metrics-address.js';

// The metrics endpoint's address (sentryban.yaml `metrics:`, portsentry.conf METRICS).
describe('parseMetricsAddress', () => {
  it('takes an IP literal and a port', () => {
    expect(parseMetricsAddress('127.0.0.1:9102')).toEqual({
      ok: true,
      value: { host: '127.0.0.1', port: 9102, text: '127.0.0.1:9102' },
    });
    expect(parseMetricsAddress(' [::1]:9100 ')).toEqual({
      ok: true,
      value: { host: '::1', port: 9100, text: '[::1]:9100' },
    });
    expect(parseMetricsAddress('192.0.2.10:9100')).toMatchObject({ ok: true, value: { host: '192.0.2.10' } });
    expect(parseMetricsAddress('[2001:db8::0:1]:9100')).toMatchObject({
      ok: true,
      value: { text: '[2001:db8::1]:9100' },
    });
  });
  it('refuses names, wildcards, bare ports and bad ports, saying what is expected', () => {
    const msg = (t: string): string => {
      const r = parseMetricsAddress(t);
      return r.ok ? 'accepted' : r.message;
    };
    expect(msg('localhost:9102')).toBe('"localhost" is not an IP address (write 127.0.0.1:PORT; IPv6 as [::1]:PORT)');
    expect(msg('0.0.0.0:9102')).toBe('0.0.0.0 listens on every interface; name one address (e.g. 127.0.0.1)');
    expect(msg('[::]:9102')).toBe(':: listens on every interface; name one address (e.g. 127.0.0.1)');
    expect(msg('9102')).toBe('expected ADDRESS:PORT (e.g. 127.0.0.1:9102 or [::1]:9102), got "9102"');
    expect(msg('::1:9102')).toMatch(/^expected ADDRESS:PORT/);
    expect(msg('127.0.0.1:0')).toBe('port 0 is outside 1-65535');
    expect(msg('127.0.0.1:65536')).toBe('port 65536 is outside 1-65535');
    expect(msg('127.0.0.1:')).toMatch(/^expected ADDRESS:PORT/);
    expect(msg('127.1:9102')).toBe('"127.1" is not an IP address (write 127.0.0.1:PORT; IPv6 as [::1]:PORT)');
  });
});

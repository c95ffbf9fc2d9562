import { describe, expect, it } from '@jest/globals';
import { parseSyslogAddress } from '../../src/core/syslog-remote.js';

// The remote syslog address, the same for SYSLOG_REMOTE (portsentry.conf) and logtarget (sentryban.yaml).
describe('parseSyslogAddress', () => {
  it.each([
    ['udp://127.0.0.1:514', 'udp://127.0.0.1:514'],
    ['udp://192.0.2.1', 'udp://192.0.2.1:514'],
    ['TCP://192.0.2.1:6514', 'tcp://192.0.2.1:6514'],
    ['tcp://[2001:db8::0:1]:10514', 'tcp://[2001:db8::1]:10514'],
    ['udp://[::ffff:192.0.2.9]', 'udp://192.0.2.9:514'],
    [' udp://192.0.2.1:514/ ', 'udp://192.0.2.1:514'],
  ])('%j is %j', (text, canonical) => {
    const r = parseSyslogAddress(text);
    expect(r.ok && r.value.text).toBe(canonical);
  });

  it.each([
    ['192.0.2.1', /expected udp:\/\/ADDRESS\[:PORT\] or tcp:\/\/ADDRESS\[:PORT\]/],
    ['syslog://192.0.2.1', /expected udp/],
    ['udp://loghost.example.org', /"loghost\.example\.org" is a host name: give its address/],
    ['udp://192.0.2', /"192\.0\.2" is not an IP address/],
    ['udp://0300.0.2.1', /is not an IP address/],
    ['udp://2001:db8::1', /expected udp/],
    ['udp://0.0.0.0', /0\.0\.0\.0 is not an address a syslog server can have/],
    ['udp://[::]:514', /:: is not an address/],
    ['udp://255.255.255.255', /is not an address/],
    ['udp://192.0.2.1:0', /port 0 is outside 1-65535/],
    ['udp://192.0.2.1:65536', /port 65536 is outside/],
    ['udp://192.0.2.1:514/path', /expected udp/],
    ['udp://[fe80::1%eth0]:514', /is not an IP address/],
  ])('%j is refused', (text, re) => {
    const r = parseSyslogAddress(text);
    expect(r.ok ? 'accepted' : r.message).toMatch(re);
  });
});

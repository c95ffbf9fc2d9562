import { describe, expect, it } from '@jest/globals';
import ipaddr from 'ipaddr.js';
import { corpusLines, DATE_MODES, generateCorpus, SERVICES } from '../../bench/lib/corpus.js';
import { parseAddr } from '../../src/core/addr.js';

const RANGES = ['10.0.0.0/8', '172.16.0.0/12', '100.64.0.0/10', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'];
const V6 = ipaddr.parseCIDR('2001:db8::/32');
const inRanges = (text: string): boolean => {
  const a = ipaddr.parse(text);
  if (a.kind() === 'ipv6') return a.match(V6);
  return RANGES.some((r) => a.match(ipaddr.parseCIDR(r)));
};

// Addresses as the services print them: after "from", "rhost=", "rip=", "client: ", inside "[...]" (postfix).
const ADDR = /(?:from |rhost=|rip=|client: |unknown\[|\.example\.org\[|SRC=|^)([0-9a-f.:]*[.:][0-9a-f.:]*[0-9a-f])\b/g;
const addressesOf = (lines: string[]): string[] =>
  lines.flatMap((l) => [...l.matchAll(ADDR)].map((m) => m[1] as string).filter((t) => parseAddr(t) !== null));

describe('bench corpus', () => {
  it('is a pure function of (service, n, seed, date mode)', () => {
    for (const s of SERVICES) {
      expect(generateCorpus(s, 2000, 3, 'iso')).toBe(generateCorpus(s, 2000, 3, 'iso'));
      expect(generateCorpus(s, 2000, 3, 'iso')).not.toBe(generateCorpus(s, 2000, 4, 'iso'));
    }
  });

  it('varies addresses: ~20% IPv6, thousands distinct, private and documentation ranges only', () => {
    for (const s of SERVICES) {
      const addrs = addressesOf([...corpusLines(s, 20_000, 1, 'native')]);
      expect(addrs.length).toBeGreaterThan(5000);
      const v6 = addrs.filter((a) => a.includes(':')).length / addrs.length;
      expect(v6).toBeGreaterThan(0.12);
      expect(v6).toBeLessThan(0.3);
      expect(new Set(addrs).size).toBeGreaterThan(1500);
      const outside = addrs.filter((a) => !inRanges(a));
      expect(outside).toEqual([]);
      // As the daemons print them: IPv6 already in RFC 5952 form.
      expect(addrs.filter((a) => parseAddr(a)?.text !== a)).toEqual([]);
    }
  });

  it('writes each date mode in its format', () => {
    const BSD = /^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d /;
    const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 /;
    const sshd = (mode: (typeof DATE_MODES)[number]): string[] => [...corpusLines('sshd', 1000, 1, mode)];
    expect(sshd('native').every((l) => BSD.test(l))).toBe(true);
    expect(sshd('bsd').every((l) => BSD.test(l))).toBe(true);
    expect(sshd('iso').every((l) => ISO.test(l))).toBe(true);
    expect(sshd('alternating').every((l, i) => (i % 2 ? ISO : BSD).test(l))).toBe(true);
    expect([...corpusLines('nginx-error', 100, 1)].every((l) => /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[/.test(l))).toBe(
      true,
    );
    expect([...corpusLines('nginx-access', 100, 1)].every((l) => /\[\d\d\/[A-Z][a-z]{2}\/\d{4}:/.test(l))).toBe(true);
  });

  it('has the message mix the stock filters are about', () => {
    const text = generateCorpus('sshd', 20_000, 1);
    for (const m of [
      'Failed password for invalid user',
      'Failed password for root',
      'Failed publickey for',
      'Invalid user',
      'Connection closed by invalid user',
      'Connection closed by authenticating user',
      'Disconnected from',
      'pam_unix(sshd:auth): authentication failure',
      'maximum authentication attempts exceeded',
      'banner exchange',
      'kex_exchange_identification',
      'Accepted publickey',
      'session opened for user',
      'Received disconnect',
      'CRON[',
      'sudo:',
      'systemd',
    ])
      expect(text).toContain(m);
    const users = new Set([...text.matchAll(/Invalid user (\S+) from/g)].map((m) => m[1]));
    expect(users.size).toBeGreaterThan(300);
    const pids = new Set([...text.matchAll(/sshd\[(\d+)\]/g)].map((m) => m[1]));
    expect(pids.size).toBeGreaterThan(2000);
    const nginx = generateCorpus('nginx-error', 5000, 1);
    for (const m of ['was not found in', 'password mismatch', 'no user/password was provided'])
      expect(nginx).toContain(m);
    const postfix = generateCorpus('postfix', 5000, 1);
    for (const m of [
      'NOQUEUE: reject: RCPT',
      'SASL LOGIN authentication failed',
      'lost connection after',
      'connect from',
    ])
      expect(postfix).toContain(m);
    const dovecot = generateCorpus('dovecot', 5000, 1);
    for (const m of ['auth failed', 'pam_unix(dovecot:auth): authentication failure', 'Login: user=', 'unknown user'])
      expect(dovecot).toContain(m);
  });
});

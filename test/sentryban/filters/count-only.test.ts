import { describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusLines, DATE_MODES, SERVICES } from '../../../bench/lib/corpus.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { hitId, Matcher, type MatchResult } from '../../../src/sentryban/filters/matcher.js';
import { itReal } from '../../helpers/real.js';

// `sentryban regex`'s counting mode (countOnly) leaves addresses unparsed until an id is shown: every line's hits
// must be the same hits, with the same ids once hitId() has made them, as the daemon's mode gives.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const itStock = itReal({ commands: ['fail2ban-regex'] });
const NOW = Date.UTC(2026, 11, 6, 23);

const both = (ref: string) => {
  const f = loadFilter(ref);
  if (!f.ok) throw new Error(JSON.stringify(f.errors));
  const opts = { now: () => NOW, timezone: { kind: 'fixed' as const, offsetMin: 0 }, checkAll: true };
  return [new Matcher(f.value, opts), new Matcher(f.value, { ...opts, countOnly: true })] as const;
};
const view = (r: MatchResult) => ({
  ignored: r.ignored,
  time: r.time,
  back: r.consumedBack ?? [],
  hits: r.hits.map((h) => ({ regex: h.regex, id: hitId(h), time: h.time, nofail: h.nofail })),
});
const same = (ref: string, lines: Iterable<string>): number => {
  const [full, counting] = both(ref);
  let hits = 0;
  for (const text of lines) {
    const a = view(full.match({ text, source: 't' }));
    const b = view(counting.match({ text, source: 't' }));
    expect(b).toEqual(a);
    hits += a.hits.length;
  }
  return hits;
};

// Every spelling an address can be captured in: canonical, upper case, uncompressed, IPv4-mapped, bracketed,
// not an address at all (kept as a raw id), a host name.
const SPELLINGS = [
  '203.0.113.5',
  '2001:DB8::1',
  '2001:db8:0:0:0:0:0:1',
  '::ffff:198.51.100.9',
  '::FFFF:198.51.100.9',
  '[2001:db8::7]',
  '192.030.0.6',
  '999.1.1.1',
  'host.example.org',
];

describe('countOnly matcher', () => {
  it('our sshd.yaml: the same hits and ids for every address spelling', () => {
    const lines = SPELLINGS.flatMap((a, i) => [
      `Dec  6 22:00:0${i} vm sshd[${100 + i}]: Failed password for root from ${a} port 22 ssh2`,
      `Dec  6 22:00:0${i} vm sshd[${100 + i}]: Invalid user x${i} from ${a} port 4000`,
    ]);
    expect(same(join(ROOT, 'filters', 'sshd.yaml'), lines)).toBeGreaterThan(SPELLINGS.length);
  });

  itStock('stock sshd (sessions, several failregexes a line) on every address spelling', () => {
    const lines = SPELLINGS.flatMap((a, i) => [
      `Dec  6 22:00:1${i} vm sshd[${200 + i}]: Invalid user bob from ${a} port 4000`,
      `Dec  6 22:00:1${i} vm sshd[${200 + i}]: Failed password for invalid user bob from ${a} port 4000 ssh2`,
      `Dec  6 22:00:1${i} vm sshd[${200 + i}]: Connection closed by invalid user bob ${a} port 4000 [preauth]`,
    ]);
    expect(same('/etc/fail2ban/filter.d/sshd.conf', lines)).toBeGreaterThan(SPELLINGS.length);
  });

  const CORPUS = [
    ['sshd', 'sshd'],
    ['nginx-error', 'nginx-http-auth'],
    ['nginx-access', 'nginx-botsearch'],
    ['postfix', 'postfix'],
    ['dovecot', 'dovecot'],
  ] as const;
  for (const [service, filter] of CORPUS)
    itStock(`stock ${filter} on 3,000 corpus lines of ${service}`, () => {
      expect(SERVICES).toContain(service);
      const modes = service === 'sshd' ? DATE_MODES : (['native'] as const);
      let hits = 0;
      for (const mode of modes)
        hits += same(`/etc/fail2ban/filter.d/${filter}.conf`, corpusLines(service, 3000, 5, mode));
      expect(hits).toBeGreaterThan(50);
    });
});

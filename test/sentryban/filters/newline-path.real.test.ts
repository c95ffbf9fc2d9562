import { describe, expect } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { itReal } from '../../helpers/real.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { Matcher, type MatchResult } from '../../../src/sentryban/filters/matcher.js';
import { LOGS } from './fail-json.js';
import { DateDetector } from '../../../src/sentryban/filters/date/detector.js';
import { contentTestOf, groupOf } from '../../../src/sentryban/filters/regex-groups.js';

// `sentryban regex` hands the matcher each line WITH its "\n", as a slice of one decoded chunk, so that the regex
// buffer is cut from it instead of copied (the fast path). The conformance tests match lines without it; this
// test holds the two paths to the same results, line by line, over every stock filter's sample log (the same
// logs the fail2ban-regex comparison uses) and a few crafted lines.
const FILTER_D = '/etc/fail2ban/filter.d';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NOW = Date.UTC(2026, 10, 25, 5);
const CRAFTED = [
  'Nov 25 04:05:19 vm sshd[4242]: Failed password for root from 198.51.100.7 port 22 ssh2',
  'Nov 25 04:05:19 vm sshd[4242]: Failed password for root from 198.51.100.7 port 22 ssh2 \t ',
  'no date sshd[1]: Invalid user x from 203.0.113.5 port 4000',
  'Nov 25 04:05:20 vm sshd[1]: Connection closed by authenticating user root 2001:db8::5 port 22 [preauth]',
  '',
  '\r',
  'x\r',
  'Nov 25 04:05:21 vm sshd[1]: error: PAM: Authentication failure for root from 192.0.2.9',
];

const comparable = (r: MatchResult): unknown => ({
  ...r,
  hits: r.hits.map((h) => ({ ...h })),
  failures: r.failures.map((f) => ({ ...f })),
});

const both = (filter: string, lines: readonly string[]): { plain: unknown[]; sliced: unknown[] } => {
  const f = loadFilter(filter);
  if (!f.ok) throw new Error(`${filter}: ${JSON.stringify(f.errors)}`);
  const opts = { checkAll: true, noDate: 'now' as const, now: () => NOW };
  const a = new Matcher(f.value, opts);
  const b = new Matcher(f.value, opts);
  const whole = `${lines.join('\n')}\n`;
  const plain: unknown[] = [];
  const sliced: unknown[] = [];
  let start = 0;
  for (const line of lines) {
    const end = start + line.length;
    plain.push(comparable(a.match({ text: line, source: 's' })));
    sliced.push(comparable(b.match({ text: whole.slice(start, end + 1), source: 's' })));
    start = end + 1;
  }
  return { plain, sliced };
};

describe('lines handed with their newline (sentryban regex) match as lines without it', () => {
  itReal({ commands: ['fail2ban-regex'] })(
    'on every stock filter sample log',
    () => {
      const names = readdirSync(FILTER_D)
        .filter((n) => n.endsWith('.conf'))
        .map((n) => n.slice(0, -5))
        .filter((n) => existsSync(join(LOGS, n)));
      expect(names.length).toBeGreaterThan(50);
      let lines = 0;
      let withHits = 0;
      for (const name of names) {
        const text = readFileSync(join(LOGS, name), 'utf8')
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith('#'))
          .map((l) => l.replace(/\r$/, ''));
        const { plain, sliced } = both(join(FILTER_D, `${name}.conf`), text);
        expect({ name, sliced }).toEqual({ name, sliced: plain });
        lines += text.length;
        withHits += plain.filter((r) => (r as MatchResult).hits.length > 0).length;
      }
      expect(withHits).toBeGreaterThan(500);
      console.log(`newline path: ${lines} lines of ${names.length} sample logs, ${withHits} with hits, identical`);
      expect(lines).toBeGreaterThan(900);
    },
    120_000,
  );

  itReal({ commands: ['fail2ban-regex'] })('on crafted lines, with the stock and our sshd filter', () => {
    for (const filter of [join(FILTER_D, 'sshd.conf'), join(ROOT, 'filters', 'sshd.yaml')]) {
      const { plain, sliced } = both(filter, CRAFTED);
      expect(sliced).toEqual(plain);
      expect(plain.some((r) => (r as MatchResult).failures.length > 0)).toBe(true);
    }
  });

  // The date detector places the last template's date by test() alone when the template allows it (spanTest);
  // the same detector with spanTest 0 everywhere always uses exec(): both must find the same dates.
  itReal({ commands: ['fail2ban-regex'] })('dates placed by test() are the dates exec() finds', () => {
    const names = readdirSync(FILTER_D)
      .filter((n) => n.endsWith('.conf'))
      .map((n) => n.slice(0, -5))
      .filter((n) => existsSync(join(LOGS, n)));
    const extra = [
      '[Nov 25 04:05:19] x',
      '  Nov 25 04:05:19 x',
      '-- Nov 25 04:05:19 x',
      '<11/25/26@04:05:19> x',
      'Nov-25-26 04:05:19 x',
      '@4000000068a1b2c30a1b2c3d x',
      'Nov 25 04:05:19.123 2026 x',
      'x Nov 25 04:05:19',
    ];
    let lines = 0;
    let placed = 0;
    for (const name of [...names, 'sshd']) {
      const f = loadFilter(join(FILTER_D, `${name}.conf`));
      if (!f.ok) throw new Error(name);
      const text = [
        ...readFileSync(join(LOGS, name), 'utf8')
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith('#')),
        ...extra,
      ];
      const fast = new DateDetector(f.value.dateTemplates, { kind: 'fixed', offsetMin: 0 });
      const plain = new DateDetector(
        f.value.dateTemplates.map((t) => ({ ...t, spanTest: 0 as const })),
        { kind: 'fixed', offsetMin: 0 },
      );
      const got = text.map((l) => fast.find(l, NOW));
      const want = text.map((l) => plain.find(l, NOW));
      expect({ name, got }).toEqual({ name, got: want });
      lines += text.length;
      placed += f.value.dateTemplates.some((t) => t.spanTest > 0) ? got.filter((d) => d !== null).length : 0;
    }
    expect(placed).toBeGreaterThan(500);
    console.log(`spanTest: ${lines} lines, dates identical`);
  });

  // Prefregexes ending in their content group are run by test() on a copy with that group as a lookahead (the
  // content is then the rest of the line): same lines accepted, same content, on every sample log's lines (whole,
  // and after their date) and a few crafted ones.
  itReal({ commands: ['fail2ban-regex'] })('prefregex content found by test() is the content exec() finds', () => {
    const names = readdirSync(FILTER_D)
      .filter((n) => n.endsWith('.conf'))
      .map((n) => n.slice(0, -5))
      .filter((n) => existsSync(join(LOGS, n)));
    let filters = 0;
    let accepted = 0;
    let rejected = 0;
    for (const name of names) {
      const f = loadFilter(join(FILTER_D, `${name}.conf`));
      if (!f.ok || !f.value.prefregex) continue;
      const pre = f.value.prefregex;
      const t = contentTestOf(pre);
      if (t === null) continue;
      filters++;
      const lines = readFileSync(join(LOGS, name), 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
      const bufs = [
        ...lines,
        ...lines.map((l) => l.replace(/^\S+ +\S+ +\S+ /, '')),
        'x',
        ' ',
        'sshd[1]: ',
        'error: x',
        '\r',
      ].map((l) => `${l}\n`);
      for (const b of bufs) {
        const m = pre.re.exec(b);
        t.lastIndex = 0;
        const ok = t.test(b);
        expect({ name, b, ok }).toEqual({ name, b, ok: m !== null });
        if (m) {
          accepted++;
          expect({ name, b, content: b.slice(t.lastIndex, -1) }).toEqual({
            name,
            b,
            content: groupOf(pre, m, 'content'),
          });
        } else rejected++;
      }
    }
    expect(filters).toBeGreaterThan(10);
    expect(accepted).toBeGreaterThan(200);
    expect(rejected).toBeGreaterThan(20);
    console.log(`prefregex test(): ${filters} filters, ${accepted} accepted, ${rejected} rejected, identical`);
  });
});

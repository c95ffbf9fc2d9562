import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS_SEED, generateCorpus, lineBytes, MIB, toJsonl } from '../../bench/soak/lib/hostile-corpus.js';
import { runDaemon, SENTINEL } from '../../bench/soak/lib/hostile-daemon.js';
import {
  canon,
  compile,
  corpusLog,
  fail2banVerdict,
  FIXTURE,
  filterRefs,
  innocentOf,
  lineText,
  loadFixture,
  runFilter,
} from '../../bench/soak/lib/hostile-lines.js';
import { parseAddr } from '../../src/core/addr.js';
import { itReal } from '../helpers/real.js';

// The hostile-lines case (bench/soak/hostile-lines.ts at full size, with times): the checked-in corpus through
// every filter in the daemon's matcher, fail2ban-regex's verdict on the stock filters, and the daemon once.
const es = loadFixture();
const texts = es.map(lineText);
const ours = filterRefs().filter((f) => f.ours);
const stock = filterRefs().filter((f) => !f.ours);
// What the stock filters themselves find in the corpus that is not the attacker's (fail2ban-regex finds the same):
// fail2ban's sshd takes the address out of "from 192.0.2.104.evil.example port N" (a reverse name, usedns no),
// dovecot's passwd/pam regex the address a user name "x,192.0.2.29): unknown user" carries, and "rip=<name>".
const STOCK_INNOCENT: Record<string, string[]> = {
  'fail2ban:sshd': ['#87 192.0.2.104'],
  'fail2ban:dovecot': ['#542 192.0.2.29', '#554 192.0.2.209', '#557 192.0.2.66'],
};
const shown = (fs: ReturnType<typeof innocentOf>): string[] => fs.map((f) => `#${f.n} ${f.found}`);

describe('hostile log lines', () => {
  it("the fixture is the seeded generator's output: 500+ lines, each labelled", () => {
    expect(readFileSync(FIXTURE, 'utf8')).toBe(toJsonl(generateCorpus(CORPUS_SEED)));
    expect(es.length).toBeGreaterThanOrEqual(500);
    expect(new Set(es.map((e) => e.kind.split(':')[1])).size).toBeGreaterThanOrEqual(20);
    expect(es.filter((e) => e.attacker !== null && parseAddr(e.attacker) === null)).toEqual([]);
  });

  it.each(ours.map((f) => [f.label, f] as const))('%s: no innocent address, no crash', (_label, f) => {
    const r = runFilter(f, compile(f), es, texts, 0);
    expect(r.crashes).toEqual([]);
    expect(shown(r.innocent)).toEqual([]);
    expect(r.found.size).toBeGreaterThan(20); // and it does find the attackers
  });

  describe('stock fail2ban filters, compared with fail2ban-regex', () => {
    let tmp = '';
    beforeAll(() => {
      tmp = mkdtempSync(join(tmpdir(), 'hostile-lines-'));
      writeFileSync(join(tmp, 'hostile.log'), corpusLog(es));
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    for (const f of stock) {
      const name = `${f.label}: no crash, and the same addresses as fail2ban-regex on every line`;
      itReal({ commands: ['fail2ban-regex'] })(
        name,
        async () => {
          const r = runFilter(f, compile(f), es, texts, 0);
          expect(r.crashes).toEqual([]);
          expect(shown(r.innocent)).toEqual(STOCK_INNOCENT[f.label] ?? []);
          const v = await fail2banVerdict(join(tmp, 'hostile.log'), f);
          const key = (xs: string[] | undefined): string => [...new Set((xs ?? []).map(canon))].sort().join(' ');
          const differ = es.filter((e) => key(r.found.get(e.n)) !== key(v.found.get(e.n))).map((e) => `#${e.n}`);
          expect(differ).toEqual([]);
        },
        60_000,
      );
    }
  });

  const daemonCase = 'the daemon follows the corpus: alive, no innocent ban by our filters, overlong lines skipped';
  itReal({ commands: ['fail2ban-regex'] })(
    daemonCase,
    async () => {
      const d = await runDaemon(es, 50_000);
      expect(d.alive).toBe(true);
      expect(d.exitCode).toBe(0);
      const attackers = new Set(es.flatMap((e) => (e.attacker ? [canon(e.attacker)] : [])));
      const innocent = d.bans
        .filter((b) => {
          const a = canon(b.target.replace(/\/(32|128)$/, ''));
          return !attackers.has(a) && a !== SENTINEL;
        })
        .map((b) => `${b.jail} ${b.target}`)
        .sort();
      // the stock dovecot filter's own (see STOCK_INNOCENT); none by our sshd and portsentry filters
      expect(innocent).toEqual(['dovecot 192.0.2.209/32', 'dovecot 192.0.2.29/32', 'dovecot 192.0.2.66/32']);
      expect(d.overlong).toBe(es.filter((e) => lineBytes(e).length > MIB).length);
    },
    60_000,
  );
});

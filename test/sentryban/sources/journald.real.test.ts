import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { systemClock } from '../../../src/core/clock.js';
import { JournalFollower, type JournalStart } from '../../../src/sentryban/sources/journald.js';
import type { LogLine } from '../../../src/sentryban/types.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { cron, JOURNAL_REMOTE, JournalLab, sshd } from './journal-lab.js';

// The journald source against a real journal file (systemd-journal-remote writes it, journalctl reads it):
// live entries, journalmatch, resuming after a cursor, a first start one findtime back, bad output survived.
const real = itReal({ commands: ['journalctl', JOURNAL_REMOTE] });
const MATCH = ['_SYSTEMD_UNIT=ssh.service + _COMM=sshd'];
let dir = '';
let cleanup = (): void => {};
let lab: JournalLab | null = null;
beforeAll(() => {
  ({ dir, cleanup } = makeTmpDir('sentryban-journal-'));
});
afterAll(async () => {
  await lab?.close();
  cleanup();
});

type Run = { f: JournalFollower; lines: LogLine[]; errors: string[] };
const follow = (start: JournalStart, command?: string[]): Run => {
  const run: Run = { lines: [], errors: [], f: null as unknown as JournalFollower };
  run.f = new JournalFollower({
    key: 'journal:test',
    options: { directory: dir },
    journalmatch: MATCH,
    start,
    clock: systemClock,
    onLines: (ls) => run.lines.push(...ls),
    onError: (m) => run.errors.push(m),
    ...(command ? { command } : {}),
  });
  run.f.start();
  return run;
};
// journalctl seeks to the end when it starts: append markers until one comes through, so nothing is lost to the race.
const warmUp = async (run: Run, l: JournalLab): Promise<void> => {
  let n = 0;
  await waitFor(
    () => {
      if (run.lines.some((x) => x.text.includes('marker'))) return true;
      l.append([sshd(`marker ${n++}`)]);
      return false;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: 'journalctl following' },
  );
  run.lines.length = 0;
};
const texts = (r: Run): string[] => r.lines.map((l) => l.text);

describe('journald source on a real journal', () => {
  real(
    'follows live entries through journalmatch, resumes after its cursor, reads back from a time',
    async () => {
      lab = new JournalLab(dir);
      const old = (Date.now() - 7_200_000) * 1000;
      const recent = (Date.now() - 300_000) * 1000;
      lab.append([sshd('old failure from 192.0.2.1')], () => old);
      lab.append([sshd('recent failure from 192.0.2.2')], () => recent);
      const a = follow({ tail: true });
      await warmUp(a, lab);
      lab.append([
        sshd('Failed password for root from 192.0.2.5 port 22 ssh2'),
        cron('(root) CMD (from 192.0.2.6)'),
        { _COMM: 'sshd', _PID: '43', MESSAGE: 'two\nlines from 192.0.2.7' },
      ]);
      await waitFor(() => a.lines.length >= 2, { what: 'live entries' });
      expect(texts(a)).toEqual([
        'lab sshd[42]: Failed password for root from 192.0.2.5 port 22 ssh2',
        'lab sshd[43]: two\\nlines from 192.0.2.7',
      ]);
      const l0 = a.lines[0]!;
      expect(l0.entryTime).toBeGreaterThan(Date.now() - 60_000);
      expect(l0.position).toMatchObject({ path: 'journal:test', inode: 0 });
      expect(l0.position!.offset).toBe(l0.entryTime! * 1000 + (l0.position!.offset % 1000));
      await a.f.stop();
      const cursor = a.f.cursor as string;
      expect(cursor).toBe(a.lines[1]!.position!.firstLineHash);

      // While stopped: three entries. A restart after the cursor gets exactly them, then live ones.
      lab.append([1, 2, 3].map((i) => sshd(`while stopped ${i} from 192.0.2.${10 + i}`)));
      const b = follow({ cursor });
      await waitFor(() => b.lines.length >= 3, { what: 'entries written while stopped' });
      lab.append([sshd('after restart from 192.0.2.20')]);
      await waitFor(() => b.lines.length >= 4, { what: 'live after restart' });
      expect(texts(b)).toEqual(
        [1, 2, 3]
          .map((i) => `lab sshd[42]: while stopped ${i} from 192.0.2.${10 + i}`)
          .concat(['lab sshd[42]: after restart from 192.0.2.20']),
      );
      await b.f.stop();
      expect(b.errors).toEqual([]);

      // First start (no cursor): one findtime back, as fail2ban; the two-hour-old entry is not read.
      const c = follow({ sinceMs: Date.now() - 600_000 });
      await waitFor(() => c.lines.some((l) => l.text.includes('after restart')), { what: 'read back' });
      await c.f.stop();
      expect(texts(c)[0]).toBe('lab sshd[42]: recent failure from 192.0.2.2');
      expect(texts(c).some((t) => t.includes('old failure'))).toBe(false);
    },
    60_000,
  );

  real(
    'survives output that is not JSON and a journalctl that ends (restarts after its cursor)',
    async () => {
      if (!lab) lab = new JournalLab(dir);
      // A wrapper prints garbage, then runs the real journalctl for 2 s; the follower restarts it after its cursor.
      const wrapper = ['sh', '-c', 'printf "{not json\\n[1,2]\\n"; exec timeout 2 journalctl "$@"', 'sh'];
      const d = follow({ tail: true }, wrapper);
      await warmUp(d, lab);
      lab.append([sshd('before the end from 192.0.2.30')]);
      await waitFor(() => d.errors.some((e) => e.startsWith('journalctl ended')), {
        timeoutMs: 15_000,
        what: 'journalctl ended',
      });
      lab.append([sshd('between runs from 192.0.2.31')]);
      await waitFor(() => texts(d).some((t) => t.includes('between runs')), {
        timeoutMs: 15_000,
        what: 'restarted after the cursor',
      });
      await d.f.stop();
      expect(texts(d).filter((t) => !t.includes('marker'))).toEqual([
        'lab sshd[42]: before the end from 192.0.2.30',
        'lab sshd[42]: between runs from 192.0.2.31',
      ]);
      expect(d.f.badLines).toBeGreaterThanOrEqual(4); // 2 per start
      expect(d.errors.filter((e) => e.startsWith('not JSON')).length).toBeGreaterThanOrEqual(2);
      expect(d.errors).toContain('not a JSON object: "[1,2]"');
    },
    60_000,
  );
});

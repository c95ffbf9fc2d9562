import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { cron, JOURNAL_REMOTE, JournalLab, sshd } from '../sources/journal-lab.js';
import { query, startDaemon, writeConfig, type Running } from './run-daemon.js';

// A journal jail (backend systemd[journalpath=...]) in the real daemon over a real journal file: the first start
// reads back one findtime, live entries ban, journalmatch keeps other units out, and a restart resumes after the
// stored cursor: entries written while stopped are counted once, nothing is counted twice.
const real = itReal({ commands: ['journalctl', JOURNAL_REMOTE] });
let dir = '';
let cleanup = (): void => {};
let lab: JournalLab | null = null;
let d: Running | null = null;
beforeAll(() => {
  ({ dir, cleanup } = makeTmpDir('sentryban-jjail-'));
});
afterAll(async () => {
  if (d && d.proc.exitCode === null) {
    process.kill(d.pid, 'SIGKILL');
    await d.proc;
  }
  await lab?.close();
  cleanup();
});

type Row = { kind: string; target: string; data: string | null };
const found = (target: string): Row[] =>
  query<Row>(dir, "SELECT kind, target, data FROM audit WHERE kind = 'found' AND target = ? ORDER BY id", target);
const fail = (ip: string, pid = '42') => sshd(`Failed password for root from ${ip} port 22 ssh2`, pid);

describe('journal jail in the daemon', () => {
  real(
    'reads back one findtime, bans live, keeps other units out, resumes after its cursor',
    async () => {
      const jdir = join(dir, 'journal');
      mkdirSync(jdir);
      lab = new JournalLab(jdir);
      const recentUs = (Date.now() - 300_000) * 1000;
      lab.append([fail('192.0.2.50')], () => (Date.now() - 7_200_000) * 1000); // older than findtime: not read
      lab.append([fail('192.0.2.50')], () => recentUs);
      writeConfig(dir, {
        ssh: `ssh:\n  backend: systemd[journalpath=${jdir}]\n  journalmatch: ['_SYSTEMD_UNIT=ssh.service']\n  failregex: 'Failed password for \\S+ from <HOST> port'\n  maxretry: 3\n  findtime: 1h\n  bantime: 1h\n  ignoreself: false\n  actions: [deny]\n`,
      });
      d = await startDaemon(dir);
      await waitFor(() => found('192.0.2.50').length === 1, { timeoutMs: 15_000, what: 'the entry one findtime back' });
      expect(JSON.parse(found('192.0.2.50')[0]!.data!).time).toBe(Math.floor(recentUs / 1000)); // the entry's own time
      lab.append([
        fail('192.0.2.50', '43'),
        { ...cron('Failed password for root from 192.0.2.60 port 22 ssh2') },
        fail('192.0.2.50', '44'),
      ]);
      await waitFor(() => query<Row>(dir, "SELECT target FROM audit WHERE kind = 'ban'").length === 1, {
        timeoutMs: 15_000,
        what: 'ban',
      });
      await waitFor(() => readFileSync(join(dir, 'state', 'hosts.deny'), 'utf8').includes('ALL: 192.0.2.50\n'), {
        what: 'hosts.deny rule',
      });
      process.kill(d.pid, 'SIGTERM');
      expect((await d.proc).exitCode).toBe(0);

      lab.append([1, 2, 3].map((i) => fail('192.0.2.70', String(100 + i))));
      d = await startDaemon(dir);
      await waitFor(() => query<Row>(dir, "SELECT target FROM audit WHERE kind = 'ban'").length === 2, {
        timeoutMs: 15_000,
        what: 'ban of the entries written while stopped',
      });
      lab.append([fail('192.0.2.80')]);
      await waitFor(() => found('192.0.2.80').length === 1, { timeoutMs: 15_000, what: 'live after restart' });
      expect(found('192.0.2.50')).toHaveLength(3);
      // A re-read would show as "ignored (already banned)" rows: none.
      expect(query<Row>(dir, "SELECT kind FROM audit WHERE target = '192.0.2.50' AND kind = 'ignored'")).toHaveLength(
        0,
      );
      expect(found('192.0.2.70')).toHaveLength(3);
      expect(found('192.0.2.60')).toHaveLength(0);
      expect(query<Row>(dir, "SELECT target FROM audit WHERE kind = 'ban' ORDER BY id").map((r) => r.target)).toEqual([
        '192.0.2.50/32',
        '192.0.2.70/32',
      ]);
      const pos = query<{ path: string; first_line_hash: string }>(
        dir,
        'SELECT path, first_line_hash FROM positions WHERE jail = ?',
        'ssh',
      );
      expect(pos).toEqual([{ path: 'journal:ssh', first_line_hash: expect.stringMatching(/^s=[0-9a-f]+;i=/) }]);
      process.kill(d.pid, 'SIGTERM');
      expect((await d.proc).exitCode).toBe(0);
    },
    90_000,
  );
});

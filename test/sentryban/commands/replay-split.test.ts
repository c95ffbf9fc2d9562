import { afterEach, describe, expect } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// `sentryban replay` of one file with its matching split between the two threads (replay-split.ts): whatever the
// split point, the output is byte for byte the one thread's. The corpus has failures that need the lines before
// them (the stock sshd filter's sessions, mlfid; the stock mongodb-auth filter's two-line failures, maxlines 10),
// an ignoreip and an ignorecommand jail, so that a split between two lines of one failure is covered.
const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'bin/sentryban');
// The stock filters come with fail2ban: without them this test is skipped (outside CI) or fails (in CI).
const itStock = itReal({ commands: ['fail2ban-regex'] });

const tmps: Array<() => void> = [];
afterEach(() => {
  for (const c of tmps.splice(0)) c();
});
const tmpDir = (): string => {
  const t = makeTmpDir('sentryban-split-');
  tmps.push(t.cleanup);
  return t.dir;
};

const JAILS = `ssh-stock:
  filter: /etc/fail2ban/filter.d/sshd.conf[mode=aggressive]
  logpath: /var/log/auth.log
  maxretry: 2
  findtime: 10m
  bantime: 120
  ignoreself: false
  ignoreip: 203.0.113.12
mongo:
  filter: /etc/fail2ban/filter.d/mongodb-auth.conf
  logpath: /var/log/mongodb.log
  maxretry: 2
  bantime: 60
  ignoreself: false
ssh-cmd:
  filter: sshd
  logpath: /var/log/auth.log
  maxretry: 2
  bantime: 60
  ignoreself: false
  ignorecommand: /usr/bin/test <ip> = 192.0.2.9
`;

// Sessions whose failure is on a later line than their address, interleaved.
const corpus = (): string[] => {
  const lines: string[] = [];
  const at = (s: number): string => new Date(Date.UTC(2026, 11, 6, 10, 0, s)).toISOString().replace('.000Z', '+00:00');
  for (let i = 0; i < 12; i++) {
    const t = 20 * i;
    lines.push(
      `${at(t)} web1 sshd[${300 + i}]: Connection from 203.0.113.${10 + (i % 3)} port ${5000 + i} on 10.0.0.1 port 22`,
      `${at(t + 1)} [conn${i}] Failed to authenticate bob@admin with mechanism MONGODB-CR: AuthenticationFailed`,
      `${at(t + 2)} web1 sshd[${300 + i}]: Disconnecting: Too many authentication failures for root [preauth]`,
      `${at(t + 3)} [conn${i}] end connection 198.51.100.${i % 4}:${53000 + i} (0 connections now open)`,
      `${at(t + 4)} web1 sshd[${400 + i}]: Failed password for root from 192.0.2.${9 - (i % 2)} port ${40000 + i} ssh2`,
    );
  }
  return lines;
};

const replay = async (args: string[], env: Record<string, string>) => {
  const r = await execa('node', [bin, 'replay', ...args], {
    reject: false,
    timeout: 60_000,
    env: { TZ: 'UTC', ...env },
    stdin: 'ignore',
  });
  return { code: r.exitCode, out: r.stdout, err: r.stderr };
};
const here = { SENTRYBAN_REPLAY_THREAD: '0' };
const splitAt = (byte: number, more: Record<string, string> = {}) => ({
  SENTRYBAN_REPLAY_THREAD: '1',
  SENTRYBAN_REPLAY_SPLIT: `@${byte}`,
  SENTRYBAN_REPLAY_DEBUG: '1',
  ...more,
});
// The debug lines on stderr (each thread's CPU time, where the split was) left out.
const shown = (r: { code: number | undefined; out: string; err: string }) => ({
  code: r.code,
  out: r.out,
  err: r.err
    .split('\n')
    .filter((l) => !/thread CPU|split at line/.test(l))
    .join('\n'),
});
const lineStarts = (lines: string[]): number[] => {
  const starts: number[] = [];
  let at = 0;
  for (const l of lines) {
    starts.push(at);
    at += Buffer.byteLength(l) + 1;
  }
  return starts;
};
// Runs at most `n` at once.
const inBatches = async <T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> => {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(fn))));
  return out;
};

const setUp = (lines: string[]): { config: string; log: string } => {
  const config = tmpDir();
  mkdirSync(join(config, 'jails'));
  writeFileSync(join(config, 'sentryban.yaml'), 'state: state\n');
  writeFileSync(join(config, 'jails', 'split.yaml'), JAILS);
  const log = join(config, 'split.log');
  writeFileSync(log, `${lines.join('\n')}\n`);
  return { config, log };
};

describe('sentryban replay: one file matched in two threads, split at any line', () => {
  itStock(
    'prints what one thread prints, the split between any two lines (text and JSON)',
    async () => {
      const lines = corpus();
      const { config, log } = setUp(lines);
      const text = ['--config', config, log];
      const json = ['--json', ...text];
      const [one, oneJson] = await Promise.all([replay(text, here), replay(json, here)]);
      // The corpus bans in every jail and ignores by ignoreip and ignorecommand.
      expect(one.code).toBe(0);
      for (const s of ['ssh-stock ban 203.0.113', 'mongo ban', 'ssh-cmd ban', '(ignoreip', '(ignorecommand)'])
        expect(one.out.replace(/\s+/g, ' ')).toContain(s);
      const starts = lineStarts(lines).slice(1);
      const runs = await inBatches(starts, 4, (at) => replay(text, splitAt(at)));
      const followed: number[] = [];
      runs.forEach((r, i) => {
        expect({ at: starts[i], ...shown(r) }).toEqual({ at: starts[i], ...shown(one) });
        const note = /split at line (\d+): (.*)/.exec(r.err);
        expect(note?.[1]).toBe(String(i + 2)); // the piece starts at the line the split is at
        if (note?.[2] === 'the piece follows') followed.push(i + 2);
      });
      // The warm-up rebuilds the state of the lines before the split (sessions, multi-line buffer): the piece is
      // taken at every split point.
      expect(followed).toHaveLength(starts.length);
      const some = [starts[3], starts[27], starts[50]] as number[];
      const jsonRuns = await inBatches(some, 3, (at) => replay(json, splitAt(at)));
      for (const r of jsonRuns) expect(shown(r)).toEqual(shown(oneJson));
    },
    180_000,
  );

  itStock(
    'without a warm-up the piece does not follow, and the matching thread matches on: the same output',
    async () => {
      const lines = corpus();
      const { config, log } = setUp(lines);
      const args = ['--config', config, log];
      const one = await replay(args, here);
      const starts = lineStarts(lines);
      // A split between a session's first line and its failure, and one between a two-line failure's lines.
      const points = [starts[1], starts[3], starts[33]] as number[];
      const runs = await inBatches(points, 3, (at) => replay(args, splitAt(at, { SENTRYBAN_REPLAY_WARMUP: '0' })));
      for (const r of runs) {
        expect(shown(r)).toEqual(shown(one));
        expect(r.err).toMatch(/split at line \d+: matched on by the matching thread/);
      }
    },
    60_000,
  );

  itStock(
    'names the right line of a line without date after the split (65)',
    async () => {
      const lines = corpus();
      lines.splice(50, 0, 'web1 sshd[9]: Failed password for root from 203.0.113.77 port 1 ssh2');
      const { config, log } = setUp(lines);
      const args = ['--config', config, log];
      const one = await replay(args, here);
      expect(one.code).toBe(65);
      expect(one.err).toContain(`${log}:51: no date in the line`);
      const starts = lineStarts(lines);
      const runs = await inBatches([starts[10], starts[49], starts[50]] as number[], 3, (at) =>
        replay(args, splitAt(at)),
      );
      for (const r of runs) expect(shown(r)).toEqual(shown(one));
    },
    60_000,
  );
});

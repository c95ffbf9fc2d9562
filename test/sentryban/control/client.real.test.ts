import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, startDaemon, writeConfig, type Running } from '../daemon/run-daemon.js';
import { fromTty, runOnPty, runPiped } from '../../helpers/pty.js';
import { itReal } from '../../helpers/real.js';
import { waitFor } from '../../helpers/wait.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// The real client (bin/sentryban on dist/) against the real daemon, through a pipe and on a pseudo-terminal:
// the exact text people and scripts get. Times are checked in two zones (TZ honoured).
const tmp = makeTmpDir('sb-client-');
const dir = tmp.dir;
let d: Running | null = null;
type BanJson = { jail: string; target: string; bannedAt: string; expiresAt: string | null };
let bans: BanJson[] = [];

const JAILS = {
  sshd: `sshd:\n  filter: sshd\n  logpath: [${dir}/auth.log, ${dir}/other.log]\n  bantime: 1w\n  actions: [deny]\n`,
  recidive: `recidive:\n  failregex: ['Ban <HOST>$']\n  logpath: ${dir}/other.log\n  bantime: -1\n  actions: [deny]\n`,
};
const sb = (...args: string[]): string[] => ['node', bin, ...args, '--config', dir];
const piped = (args: string[], tz = 'UTC') => runPiped(sb(...args), { TZ: tz, NO_COLOR: undefined });
// "2026-12-07T01:54:43.986Z" as the local time of a zone `offsetH` hours east of UTC (no DST in those used here).
const local = (iso: string, offsetH = 0): string =>
  new Date(Date.parse(iso) + offsetH * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
const ban = (jail: string, target: string): BanJson => {
  const b = bans.find((x) => x.jail === jail && x.target === target);
  if (!b) throw new Error(`no ban ${jail} ${target}`);
  return b;
};
const ESC = '\u001b';
const bold = (s: string): string => `${ESC}[1m${s}${ESC}[22m`;
const green = (s: string): string => `${ESC}[32m${s}${ESC}[39m`;

beforeAll(async () => {
  writeConfig(dir, JAILS);
  writeFileSync(join(dir, 'auth.log'), '');
  writeFileSync(join(dir, 'other.log'), '');
  d = await startDaemon(dir);
  for (const [jail, target] of [
    ['sshd', '192.0.2.1'],
    ['sshd', '2001:db8::1'],
    ['recidive', '198.51.100.0/24'],
  ] as const) {
    const r = await piped(['ban', jail, target]);
    expect(r.code).toBe(0);
  }
  bans = JSON.parse((await piped(['list', '--json'])).out);
  // The texts below say "in 6d 23h" for the 7-day bans: that is true once a full second has passed since they
  // were made (within that second the time left still rounds up to "7d"). Wait for that moment.
  const last = Math.max(...bans.map((b) => Date.parse(b.bannedAt)));
  await waitFor(() => Date.now() > last + 1100, { timeoutMs: 5000, intervalMs: 20, what: 'one second after the bans' });
}, 60_000);

afterAll(async () => {
  if (d && d.proc.exitCode === null) {
    d.proc.kill('SIGTERM');
    await d.proc;
  }
  tmp.cleanup();
});

const jailStatus = (): string =>
  'Status for the jail: sshd\n' +
  '|- Filter\n' +
  '|  |- Currently failed:\t0\n' +
  '|  |- Total failed:\t0\n' +
  `|  \`- File list:\t${dir}/auth.log ${dir}/other.log\n` +
  '`- Actions\n' +
  '   |- Currently banned:\t2\n' +
  '   |- Total banned:\t2\n' +
  '   `- Banned IP list:\t192.0.2.1 2001:db8::1\n' +
  '\n' +
  'Lines read:    0\n' +
  'Not applied:   0\n' +
  `Next expiry:   ${local(ban('sshd', '192.0.2.1').expiresAt ?? '')} (in 6d 23h)\n`;

const listRows = (tzH: number): string[][] => [
  ['JAIL', 'ADDRESS', 'BANNED', 'EXPIRES', 'LEFT', 'BANTIME', 'BANS', 'APPLIED'],
  ...[
    ['sshd', '192.0.2.1'],
    ['sshd', '2001:db8::1'],
  ].map(([j, t]) => {
    const b = ban(j as string, t as string);
    return [j as string, t as string, local(b.bannedAt, tzH), local(b.expiresAt ?? '', tzH), '6d 23h', '1w', '1'];
  }),
  ['recidive', '198.51.100.0/24', local(ban('recidive', '198.51.100.0/24').bannedAt, tzH), 'permanent', '-'],
];
// The table as written by hand: widths of this content, two spaces between columns, BANS right-aligned.
const listText = (tzH: number, paint = (s: string, _row: number) => s): string =>
  listRows(tzH)
    .map((r, row) => {
      const [jail, addr, at, end, left] = r as [string, string, string, string, string];
      const tail =
        row === 0
          ? `${paint('BANTIME', 0)}    ${paint('BANS', 0)}  ${paint('APPLIED', 0)}`
          : row === 3
            ? `permanent     1  ${paint('applied', row)}`
            : `1w            1  ${paint('applied', row)}`;
      const cell = (s: string, w: number): string => paint(s, row) + ' '.repeat(w - s.length);
      return row === 0
        ? `${cell('JAIL', 8)}  ${cell('ADDRESS', 15)}  ${cell('BANNED', 19)}  ` +
            `${cell('EXPIRES', 19)}  ${cell('LEFT', 6)}  ${tail}\n`
        : `${jail.padEnd(8)}  ${addr.padEnd(15)}  ${at}  ${end.padEnd(19)}  ${left.padEnd(6)}  ${tail}\n`;
    })
    .join('');

describe('sentryban client, daemon running', () => {
  it('status JAIL through a pipe: fail2ban-client 1.0.2 text (tabs included), then our counters', async () => {
    const r = await piped(['status', 'sshd']);
    expect(r).toEqual({ out: jailStatus(), err: '', code: 0 });
  });

  itReal({ commands: ['python3'] })('status JAIL on a terminal: the same text, never coloured', async () => {
    const r = await runOnPty(sb('status', 'sshd'), { TZ: 'UTC' });
    expect({ out: fromTty(r.out), code: r.code }).toEqual({ out: jailStatus(), code: 0 });
  });

  it('status: fail2ban\'s "Status" tree, then a table of every jail and the daemon\'s health', async () => {
    const r = await piped(['status']);
    const lines = r.out.split('\n');
    expect(lines.slice(0, 11).join('\n')).toBe(
      [
        'Status',
        '|- Number of jail:\t2',
        '`- Jail list:\trecidive, sshd',
        '',
        'JAIL      LINES  FAILED  COUNTING  BANNED  TOTAL BANNED  NOT APPLIED',
        'recidive      0       0         0       1             1            0',
        'sshd          0       0         0       2             2            0',
        '',
        'Actions:       2 in sync',
        `Store:         ok (${dir}/state/sentryban.sqlite3)`,
        `Next expiry:   ${local(ban('sshd', '192.0.2.1').expiresAt ?? '')} (in 6d 23h)`,
      ].join('\n'),
    );
    expect(lines[11]).toMatch(
      /^Memory: {8}\d+(\.\d)? MiB resident \(heap [\d.]+ of [\d.]+ MiB, external [\d.]+ MiB\)$/,
    );
    expect(lines.slice(12)).toEqual(['']);
    expect(r.code).toBe(0);
  });

  it('list through a pipe: aligned columns, local time in the zone TZ names, no escapes', async () => {
    expect(await piped(['list'])).toEqual({ out: listText(0), err: '', code: 0 });
    expect(await piped(['list'], 'Asia/Tokyo')).toEqual({ out: listText(9), err: '', code: 0 });
    expect(await piped(['list'], 'America/Caracas')).toEqual({ out: listText(-4), err: '', code: 0 });
  });

  itReal({ commands: ['python3'] })(
    'list on a terminal: coloured; NO_COLOR set to anything but "" turns it off',
    async () => {
      const paint = (s: string, row: number): string => (row === 0 ? bold(s) : s === 'applied' ? green(s) : s);
      const coloured = await runOnPty(sb('list'), { TZ: 'UTC' });
      expect({ out: fromTty(coloured.out), code: coloured.code }).toEqual({ out: listText(0, paint), code: 0 });
      const empty = await runOnPty(sb('list'), { TZ: 'UTC', NO_COLOR: '' });
      expect(fromTty(empty.out)).toBe(listText(0, paint));
      for (const v of ['1', 'yes', '0']) {
        const plain = await runOnPty(sb('list'), { TZ: 'UTC', NO_COLOR: v });
        expect(fromTty(plain.out)).toBe(listText(0));
      }
      const dumb = await runOnPty(sb('list'), { TZ: 'UTC', TERM: 'dumb' });
      expect(fromTty(dumb.out)).toBe(listText(0));
    },
  );

  it('--json keeps its shape, on a terminal too', async () => {
    const r = await piped(['list', '--json']);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    expect(rows.map((x) => Object.keys(x))).toEqual(
      Array(3).fill(['jail', 'target', 'bannedAt', 'expiresAt', 'bantime', 'banCount', 'applied', 'backends']),
    );
    expect(r.out.endsWith(']\n') && !r.out.includes('\n ')).toBe(true);
    const tty = await runOnPty(sb('list', '--json'), { TZ: 'UTC' });
    expect(fromTty(tty.out)).toBe(r.out);
  });

  it('audit: aligned columns in local time, a single address without its /32 or /128', async () => {
    const r = await piped(['audit'], 'Asia/Tokyo');
    const at = (j: string, t: string): string => local(ban(j, t).bannedAt, 9);
    const week = (j: string, t: string): string =>
      `manual ban; bantime 604800s; until ${ban(j, t).expiresAt ?? ''} (1w)`;
    expect(r.out).toBe(
      'TIME                 JAIL      KIND  TARGET           DETAIL\n' +
        `${at('sshd', '192.0.2.1')}  sshd      ban   192.0.2.1        ${week('sshd', '192.0.2.1')}\n` +
        `${at('sshd', '2001:db8::1')}  sshd      ban   2001:db8::1      ${week('sshd', '2001:db8::1')}\n` +
        `${at('recidive', '198.51.100.0/24')}  recidive  ban   198.51.100.0/24  ` +
        'manual ban; permanent; until permanent (permanent)\n',
    );
    expect(await piped(['audit', '--jail', 'nojail'])).toEqual({ out: 'no audit rows\n', err: '', code: 0 });
  });

  it('check, test, ban and unban: one line each', async () => {
    expect(await piped(['check'])).toEqual({
      out:
        'JAIL      ACTION              RESULT\n' +
        'recidive  hostsdeny:recidive  in sync\n' +
        'sshd      hostsdeny:sshd      in sync\n',
      err: '',
      code: 0,
    });
    const line = 'Dec  7 01:55:00 host sshd[123]: Failed password for root from 203.0.113.4 port 22 ssh2';
    const t = await piped(['test', 'sshd', line]);
    expect(t.out).toMatch(/^match: 203\.0\.113\.4 at \d{4}-12-07 01:55:00\na fresh sshd jail would decide: found\n$/);
    expect(await piped(['test', 'sshd', 'nothing to see'])).toEqual({
      out: 'no match: the filter of sshd does not match this line\n',
      err: '',
      code: 0,
    });
    const b = await piped(['ban', 'recidive', '203.0.113.9']);
    expect(b).toEqual({
      out: 'banned 203.0.113.9 in recidive permanently (bantime permanent, ban number 1)\n',
      err: '',
      code: 0,
    });
    expect(await piped(['unban', '203.0.113.9'])).toEqual({
      out: 'unbanned 203.0.113.9 (1 ban(s) lifted)\n',
      err: '',
      code: 0,
    });
    expect(await piped(['unban', '203.0.113.9', 'recidive'])).toEqual({
      out: '203.0.113.9 was not banned in recidive\n',
      err: '',
      code: 0,
    });
    expect(await piped(['status', 'nojail'])).toEqual({
      out: '',
      err: 'sentryban status: no jail "nojail"\n',
      code: 1,
    });
  });
});

// The same two jails in the real fail2ban 1.0.2 (fail2ban-server on a socket and config of this test, the same
// log files, the same bans by hand): fail2ban-client's text is the first part of ours, byte for byte.
describe('sentryban client beside fail2ban-client', () => {
  const f2b = join(dir, 'f2b');
  const fc = (...args: string[]) =>
    execa('fail2ban-client', ['-c', f2b, '-s', join(f2b, 'f2b.sock'), ...args], { reject: false, timeout: 20_000 });
  let server: ResultPromise | null = null;
  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await server;
    }
  });

  itReal({ commands: ['fail2ban-server', 'fail2ban-client'] })(
    'status and status JAIL start with exactly what fail2ban-client prints',
    async () => {
      mkdirSync(join(f2b, 'filter.d'), { recursive: true });
      mkdirSync(join(f2b, 'action.d'));
      for (const f of ['sshd.conf', 'common.conf'])
        copyFileSync(`/etc/fail2ban/filter.d/${f}`, join(f2b, 'filter.d', f));
      copyFileSync('/etc/fail2ban/action.d/dummy.conf', join(f2b, 'action.d', 'dummy.conf'));
      writeFileSync(
        join(f2b, 'fail2ban.conf'),
        `[Definition]\nloglevel = INFO\nlogtarget = ${f2b}/f2b.log\nsocket = ${f2b}/f2b.sock\n` +
          `pidfile = ${f2b}/f2b.pid\ndbfile = :memory:\nsyslogsocket = auto\nallowipv6 = auto\ndbpurgeage = 1d\n`,
      );
      writeFileSync(
        join(f2b, 'jail.conf'),
        '[DEFAULT]\nbackend = polling\naction = dummy\n' +
          `[sshd]\nenabled = true\nfilter = sshd\nlogpath = ${dir}/auth.log\n          ${dir}/other.log\n` +
          `[recidive]\nenabled = true\nfilter = sshd\nlogpath = ${dir}/other.log\n`,
      );
      server = execa(
        'fail2ban-server',
        ['-f', '-x', '-c', f2b, '-s', join(f2b, 'f2b.sock'), '-p', join(f2b, 'f2b.pid')],
        {
          reject: false,
          buffer: false,
          timeout: 120_000,
        },
      );
      await waitFor(async () => (await fc('ping')).stdout.includes('pong'), { timeoutMs: 30_000, what: 'fail2ban' });
      for (const ip of ['192.0.2.1', '2001:db8::1']) expect((await fc('set', 'sshd', 'banip', ip)).stdout).toBe('1');
      expect((await fc('set', 'recidive', 'banip', '198.51.100.0/24')).stdout).toBe('1');
      const theirs = async (...a: string[]) => `${(await fc(...a)).stdout}\n`;
      const ours = async (...a: string[]) => (await piped(a)).out.split('\n\n')[0] + '\n';
      expect(await ours('status', 'sshd')).toBe(await theirs('status', 'sshd'));
      expect(await ours('status')).toBe(await theirs('status'));
    },
    90_000,
  );
});

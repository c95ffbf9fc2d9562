import { schemaProblem } from '../../../src/sentryban/control/schema-check.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { makeTmpDir } from '../../helpers/tmp.js';

// `sentryban replay` end to end through the real binary (bin/sentryban on dist/; `npm run build` first).
const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'bin/sentryban');
const fixtures = join(repo, 'test/fixtures/replay');
const cases = join(repo, 'test/fixtures/jails');

const tmps: Array<() => void> = [];
afterEach(() => {
  for (const c of tmps.splice(0)) c();
});
const tmpDir = (): string => {
  const t = makeTmpDir('sentryban-replay-');
  tmps.push(t.cleanup);
  return t.dir;
};
// The fixture config in a temp folder (its state folder, `state`, is never to be created).
const fixtureConfig = (): string => {
  const dir = tmpDir();
  cpSync(join(fixtures, 'config'), dir, { recursive: true });
  return dir;
};
const replay = (args: string[], opts: { cwd?: string; input?: string | Buffer; env?: Record<string, string> } = {}) =>
  execa('node', [bin, 'replay', ...args], {
    cwd: opts.cwd ?? fixtures,
    reject: false,
    timeout: 60_000,
    env: { TZ: 'UTC', ...opts.env },
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
  });
const expectedText = (): string => readFileSync(join(fixtures, 'expected.txt'), 'utf8');

describe('sentryban replay: the timeline of two logs merged in time order', () => {
  it('prints the fixture timeline (increment, escalate, ignoreip, ignoreself, expiry in log time), nothing else', async () => {
    const config = fixtureConfig();
    const r = await replay(['--config', config, 'a.log', 'b.log']);
    expect({ code: r.exitCode, err: r.stderr }).toEqual({ code: 0, err: '' });
    expect(`${r.stdout}\n`).toBe(expectedText());
    // Nothing written to the live store: its state folder (store, socket, log) was not even created.
    expect(readdirSync(config).sort()).toEqual(['jails', 'sentryban.yaml']);
  });

  it('gives the same timeline whatever the order of the files on the command line (ties aside)', async () => {
    const r = await replay(['--config', fixtureConfig(), 'b.log', 'a.log']);
    expect(r.exitCode).toBe(0);
    const events = (s: string): string[] => s.split('\n').filter((l) => /^\d{4}-/.test(l));
    expect(events(r.stdout)).toEqual(events(expectedText()));
  });

  it('reads a .gz log (told by its first bytes) as the plain one', async () => {
    const dir = tmpDir();
    writeFileSync(join(dir, 'a.log.gz'), gzipSync(readFileSync(join(fixtures, 'a.log'))));
    cpSync(join(fixtures, 'b.log'), join(dir, 'b.log'));
    const r = await replay(['--config', fixtureConfig(), 'a.log.gz', 'b.log'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(`${r.stdout}\n`).toBe(expectedText().replaceAll('a.log:', 'a.log.gz:'));
  });

  it('reads stdin for -', async () => {
    const r = await replay(['--config', fixtureConfig(), '-', 'b.log'], {
      input: readFileSync(join(fixtures, 'a.log')),
    });
    expect(r.stderr).toBe('');
    expect(`${r.stdout}\n`).toBe(expectedText().replaceAll('a.log:', 'stdin:'));
  });

  it('prints the same as JSON lines: one object per event, then one summary per jail', async () => {
    const r = await replay(['--json', '--config', fixtureConfig(), 'a.log', 'b.log']);
    expect(r.exitCode).toBe(0);
    expect(`${r.stdout}\n`).toBe(readFileSync(join(fixtures, 'expected.jsonl'), 'utf8'));
    const objects = r.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // The contract: each line fits schemas/sentryban/replay.v1.json.
    for (const o of objects) expect(await schemaProblem('replay', o)).toBeNull();
    // Regular: every event has the same keys (a ban adds its bantime, until and count), then the summaries.
    const keys = ['type', 'time', 'jail', 'target', 'reason', 'lines'];
    for (const o of objects.filter((x) => x.type !== 'summary'))
      expect(Object.keys(o).sort()).toEqual(
        (o.type === 'ban' ? [...keys, 'bantime', 'until', 'banCount'] : keys).sort(),
      );
    expect(objects.filter((o) => o.type === 'summary').map((o) => o.jail)).toEqual(['sshd', 'sshd-slow']);
    // The text timeline has one entry per event.
    expect(objects.filter((o) => o.type !== 'summary').length).toBe(
      expectedText()
        .split('\n')
        .filter((l) => /^\d{4}-/.test(l)).length,
    );
  });

  it('keeps to --since/--until and --jail; bans due before --until are lifted', async () => {
    const r = await replay([
      '--config',
      fixtureConfig(),
      '--jail',
      'sshd',
      '--since',
      '2026-12-06T10:03:00Z',
      '--until',
      '2026-12-06T10:10:00Z',
      'a.log',
      'b.log',
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^\d{4}-/.test(l))).toEqual([
      '2026-12-06T10:04:20Z sshd ban 203.0.113.8/32 bantime 60s until 2026-12-06T10:05:20Z (ban #1)',
      '2026-12-06T10:05:20Z sshd unban 203.0.113.8/32 (expired)',
    ]);
    expect(r.stdout).toContain('sshd: 7 lines, 7 failures (7 counted, 0 ignored), 1 ban, 1 unban, 0 banned at the end');
    expect(r.stdout).not.toContain('sshd-slow');
  });
});

describe('sentryban replay: more of the jail logic, and the progress bar', () => {
  it('bantime.increment.overalljails counts the bans of the other jails', async () => {
    const dir = tmpDir();
    mkdirSync(join(dir, 'jails'));
    writeFileSync(join(dir, 'sentryban.yaml'), 'state: state\n');
    writeFileSync(
      join(dir, 'jails', 'two.yaml'),
      [
        'quick:',
        '  filter: sshd',
        '  logpath: /nonexistent/a.log',
        '  maxretry: 2',
        '  bantime: 60',
        'recidive:',
        '  filter: sshd',
        '  logpath: /nonexistent/a.log',
        '  maxretry: 3',
        '  bantime: 60',
        '  bantime.increment: true',
        '  bantime.overalljails: true',
        '',
      ].join('\n'),
    );
    const r = await replay(['--json', '--config', dir, 'a.log']);
    expect(r.exitCode).toBe(0);
    const bans = r.stdout
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((o) => o.type === 'ban')
      .map((o) => [o.jail, o.target, o.banCount]);
    // quick bans 203.0.113.7 at its 2nd failure; recidive, which saw that ban, counts it as the first offence.
    expect(bans.slice(0, 2)).toEqual([
      ['quick', '203.0.113.7/32', 1],
      ['recidive', '203.0.113.7/32', 2],
    ]);
  });

  it('shows a progress bar on stderr when it is a terminal (and only then: the other tests read an empty stderr)', async () => {
    // A pseudo-terminal from python3's pty module; the size limit lowered so that the fixture is "large".
    const r = await execa(
      'python3',
      [
        '-c',
        'import pty,sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)',
        'node',
        bin,
        'replay',
        '--config',
        fixtureConfig(),
        'a.log',
        'b.log',
      ],
      {
        cwd: fixtures,
        reject: false,
        timeout: 60_000,
        env: { TZ: 'UTC', SENTRYBAN_REPLAY_PROGRESS_MIN: '0' },
        stdin: 'ignore',
      },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/replay \[[^\]]*\] 100%/);
    expect(r.stdout).toContain('sshd ban 203.0.113.7/32');
  });
});

describe("sentryban replay decides as the daemon: the jail cases' expected decisions", () => {
  // The ignoreself case sets the host's addresses from its log (# self); replay takes this host's own (see the
  // fixture timeline's 127.0.0.1).
  const names = readdirSync(cases)
    .filter((c) => c !== 'ignoreself')
    .sort();
  type Row = Record<string, string | number>;
  const iso = (s: string | number): string => new Date(s).toISOString().replace('.000Z', 'Z');
  const SHOWN = /^(ignoreip|ignoreself|ignorecommand|bantime already over)/;

  for (const name of names) {
    it(name, async () => {
      const dir = tmpDir();
      mkdirSync(join(dir, 'jails'));
      writeFileSync(join(dir, 'sentryban.yaml'), 'state: state\n');
      const yaml = readFileSync(join(cases, name, 'jail.yaml'), 'utf8');
      writeFileSync(join(dir, 'jails', 'case.yaml'), `${yaml.trimEnd()}\n  logpath: /nonexistent/input.log\n`);
      const r = await replay(['--json', '--config', dir, join(cases, name, 'input.log')]);
      expect({ code: r.exitCode, err: r.stderr }).toEqual({ code: 0, err: '' });
      const got = r.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const rows = JSON.parse(readFileSync(join(cases, name, 'expected.json'), 'utf8')) as Row[];
      const want = rows.flatMap((x): Record<string, unknown>[] => {
        if (x.kind === 'ban')
          return [
            {
              type: 'ban',
              time: iso(x.at as string),
              target: x.target,
              bantime: x.bantime,
              banCount: x.banCount,
              until: x.until === 'permanent' ? null : iso(x.until as string),
              reason: x.reason,
            },
          ];
        if (x.kind === 'unban')
          return [{ type: 'unban', time: iso(x.at as string), target: x.target, reason: x.reason }];
        if (x.kind === 'ignored' && SHOWN.test(x.rule as string))
          return [{ type: 'ignored', time: iso(x.at as string), target: x.id, reason: x.rule }];
        return [];
      });
      const events = got
        .filter((o) => o.type !== 'summary')
        .map((o) => {
          const { type, time, target, reason } = o;
          return o.type === 'ban'
            ? { type, time, target, bantime: o.bantime, banCount: o.banCount, until: o.until, reason }
            : { type, time, target, reason };
        });
      expect(events).toEqual(want);
      const summary = got.find((o) => o.type === 'summary');
      expect(summary).toMatchObject({
        counted: rows.filter((x) => x.kind === 'found').length,
        ignored: rows.filter((x) => x.kind === 'ignored').length,
        bans: rows.filter((x) => x.kind === 'ban').length,
        unbans: rows.filter((x) => x.kind === 'unban').length,
      });
    });
  }
});

describe('sentryban replay: bad input gets one line and an exit code, never a stack', () => {
  const noStack = (s: string): void => expect(s).not.toMatch(/\n\s+at /);

  it('a LOG that cannot be read: 66', async () => {
    const r = await replay(['--config', fixtureConfig(), 'a.log', 'missing.log']);
    expect({ code: r.exitCode, out: r.stdout, err: r.stderr }).toEqual({
      code: 66,
      out: '',
      err: 'sentryban replay: cannot read missing.log: ENOENT',
    });
    const d = await replay(['--config', fixtureConfig(), 'config']);
    expect({ code: d.exitCode, err: d.stderr }).toEqual({
      code: 66,
      err: 'sentryban replay: cannot read config: EISDIR',
    });
  });

  it('a line with no date: 65, naming the file and line', async () => {
    const dir = tmpDir();
    const lines = readFileSync(join(fixtures, 'a.log'), 'utf8').split('\n');
    lines.splice(2, 0, 'sshd[9]: Failed password for root from 203.0.113.77 port 1 ssh2');
    writeFileSync(join(dir, 'undated.log'), lines.join('\n'));
    const r = await replay(['--config', fixtureConfig(), 'undated.log'], { cwd: dir });
    expect({ code: r.exitCode, err: r.stderr }).toEqual({
      code: 65,
      err: 'sentryban replay: undated.log:3: no date in the line: "sshd[9]: Failed password for root from 203.0.113.77 port 1 ssh2"',
    });
  });

  it('a configuration error: 78, as file:line:col', async () => {
    const config = fixtureConfig();
    const file = join(config, 'jails', 'sshd.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('maxretry: 3', 'maxretry: three'));
    const r = await replay(['--config', config, 'a.log']);
    expect(r.exitCode).toBe(78);
    expect(r.stdout).toBe('');
    const [first, last, ...more] = r.stderr.split('\n');
    expect(first).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: sshd\\.maxretry: .+three`));
    expect(last).toBe('sentryban replay: configuration refused (1 error)');
    expect(more).toEqual([]);
  });

  it('a damaged .gz: 74, no summary', async () => {
    const dir = tmpDir();
    const gz = gzipSync(readFileSync(join(fixtures, 'a.log')));
    writeFileSync(join(dir, 'a.log.gz'), gz.subarray(0, gz.length - 12));
    const r = await replay(['--config', fixtureConfig(), 'a.log.gz'], { cwd: dir });
    expect(r.exitCode).toBe(74);
    expect(r.stderr).toMatch(/^sentryban replay: reading failed: \S+/);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stdout).not.toContain('Summary');
  });

  it('usage errors: 64', async () => {
    const cfg = fixtureConfig();
    for (const [args, message] of [
      [['--config', cfg], 'no LOG given'],
      [['--config', cfg, '--frobnicate', 'a.log'], 'unknown option --frobnicate'],
      [['--config', cfg, '--since', 'yesterday', 'a.log'], '--since expects a date'],
      [['--config', cfg, '--jail', 'nope', 'a.log'], 'no enabled jail "nope"'],
      [['--config', cfg, '-', '-'], 'stdin (-) can be read once'],
    ] as const) {
      const r = await replay([...args]);
      expect(r.exitCode).toBe(64);
      expect(r.stderr.split('\n')[0]).toContain(`sentryban replay: ${message}`);
      noStack(r.stderr);
    }
  });

  it('writes nothing to an existing live store (the file is not opened)', async () => {
    const config = fixtureConfig();
    mkdirSync(join(config, 'state'));
    const db = join(config, 'state', 'sentryban.sqlite3');
    writeFileSync(db, 'not a database: opening it as one would fail');
    const r = await replay(['--config', config, 'a.log', 'b.log']);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(db, 'utf8')).toBe('not a database: opening it as one would fail');
    expect(readdirSync(join(config, 'state'))).toEqual(['sentryban.sqlite3']);
    expect(existsSync(join(config, 'state', 'sentryban.sock'))).toBe(false);
  });
});

describe('sentryban replay with its matching in a worker thread (the default for inputs of 16 MiB or more)', () => {
  const inThread = { SENTRYBAN_REPLAY_THREAD: '1' };
  const here = { SENTRYBAN_REPLAY_THREAD: '0' };

  it('prints byte for byte what it prints with one thread: timelines, JSON, windows, jail cases, errors', async () => {
    const dir = tmpDir();
    const gz = gzipSync(readFileSync(join(fixtures, 'a.log')));
    writeFileSync(join(dir, 'a.log.gz'), gz);
    writeFileSync(join(dir, 'damaged.log.gz'), gz.subarray(0, gz.length - 12));
    const lines = readFileSync(join(fixtures, 'a.log'), 'utf8').split('\n');
    lines.splice(2, 0, 'sshd[9]: Failed password for root from 203.0.113.77 port 1 ssh2');
    writeFileSync(join(dir, 'undated.log'), lines.join('\n'));
    const a = join(fixtures, 'a.log');
    const b = join(fixtures, 'b.log');
    const config = fixtureConfig();
    const broken = fixtureConfig();
    const file = join(broken, 'jails', 'sshd.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('maxretry: 3', 'maxretry: three'));
    const runs: string[][] = [
      ['--config', config, a, b],
      ['--config', config, b, a],
      ['--json', '--config', config, a, b],
      ['--config', config, join(dir, 'a.log.gz'), b],
      [
        '--config',
        config,
        '--jail',
        'sshd',
        '--since',
        '2026-12-06T10:03:00Z',
        '--until',
        '2026-12-06T10:10:00Z',
        a,
        b,
      ],
      ['--config', config, join(dir, 'undated.log'), b],
      ['--config', config, join(dir, 'damaged.log.gz')],
      ['--config', config, a, join(dir, 'missing.log')],
      ['--config', broken, a],
      ['--config', config, '--jail', 'nosuch', a],
    ];
    for (const name of readdirSync(cases).filter((c) => c !== 'ignoreself')) {
      const d = tmpDir();
      mkdirSync(join(d, 'jails'));
      writeFileSync(join(d, 'sentryban.yaml'), 'state: state\n');
      const yaml = readFileSync(join(cases, name, 'jail.yaml'), 'utf8');
      writeFileSync(join(d, 'jails', 'case.yaml'), `${yaml.trimEnd()}\n  logpath: /nonexistent/input.log\n`);
      runs.push(['--json', '--config', d, join(cases, name, 'input.log')]);
    }
    const codes: number[] = [];
    for (const args of runs) {
      const [one, two] = await Promise.all([replay(args, { env: here }), replay(args, { env: inThread })]);
      const shown = (r: typeof one) => ({ args, code: r.exitCode, out: r.stdout, err: r.stderr });
      expect(shown(two)).toEqual(shown(one));
      codes.push(one.exitCode ?? -1);
    }
    // The runs cover a full timeline, each error exit and every jail case.
    expect(codes.slice(0, 10)).toEqual([0, 0, 0, 0, 0, 65, 74, 66, 78, 64]);
    expect(codes.length).toBeGreaterThan(15);
  });

  it('does match in a second thread (each thread CPU time on stderr with SENTRYBAN_REPLAY_DEBUG)', async () => {
    const debug = { SENTRYBAN_REPLAY_DEBUG: '1' };
    const t = await replay(['--config', fixtureConfig(), 'a.log', 'b.log'], { env: { ...inThread, ...debug } });
    expect(t.stderr).toMatch(/matching thread CPU [\d.]+ s/);
    const h = await replay(['--config', fixtureConfig(), 'a.log', 'b.log'], { env: { ...here, ...debug } });
    expect(h.stderr).not.toMatch(/matching thread/);
    expect(h.stdout).toBe(t.stdout);
  });
});

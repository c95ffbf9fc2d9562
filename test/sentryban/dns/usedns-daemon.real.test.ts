import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { bin, query, writeConfig } from '../daemon/run-daemon.js';
import { privateResolverArgv } from './private-resolver.js';

// The real daemon in a private mount + network namespace whose /etc/hosts names attackers: usedns warn resolves
// (one failure per address, fail2ban's warning), raw counts the name but never bans, unset (= no) ignores names,
// and a name that does not resolve is logged and dropped. Audit rows keep the order of the lines.
let dir = '';
let cleanup = (): void => {};
let proc: ResultPromise | null = null;
let out = '';
const real = itReal({ root: true, commands: ['unshare', 'ip'] });
const jail = (name: string, extra: string): string =>
  `${name}:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 2\n  findtime: 1h\n  bantime: 1h\n  ignoreself: false\n  actions: [deny]\n${extra}`;

beforeAll(() => {
  ({ dir, cleanup } = makeTmpDir('sentryban-usedns-'));
  writeConfig(
    dir,
    { warn: jail('warn', '  usedns: warn\n'), raw: jail('raw', '  usedns: raw\n'), plain: jail('plain', '') },
    'dns:\n  timeout: 3s\n  lookups: 1\n  cache: 100\n',
  );
  writeFileSync(join(dir, 'app.log'), '');
});
afterAll(async () => {
  if (proc && proc.exitCode === null && proc.pid) {
    process.kill(proc.pid, 'SIGKILL');
    await proc;
  }
  cleanup();
});

type Row = { jail: string; target: string; kind: string };
describe('usedns in the daemon (real getaddrinfo, private /etc/hosts)', () => {
  real(
    'resolves, warns, drops and keeps order as the jail says',
    async () => {
      const argv = privateResolverArgv(dir, { hosts: { 'both.example': ['2001:db8::10', '192.0.2.10'] } }, [
        'node',
        bin,
        'daemon',
        '--foreground',
        '--config',
        dir,
      ]);
      proc = execa(argv[0] as string, argv.slice(1), {
        reject: false,
        buffer: false,
        timeout: 120_000,
        killSignal: 'SIGKILL',
      });
      proc.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
      });
      proc.stderr?.on('data', (c: Buffer) => {
        out += c.toString();
      });
      await waitFor(() => out.includes('sentryban: ready') || proc?.exitCode !== null, {
        timeoutMs: 20_000,
        what: 'daemon ready',
      });
      expect(out).toContain('sentryban: ready');
      for (const host of ['both.example', 'missing.example', 'both.example', 'missing.example', '203.0.113.9'])
        appendFileSync(join(dir, 'app.log'), `auth failure from ${host}\n`);
      await waitFor(
        () => query<Row>(dir, "SELECT jail FROM audit WHERE kind = 'found' AND target = '203.0.113.9'").length === 3,
        { timeoutMs: 20_000, what: 'last line counted in every jail' },
      );
      const rows = (j: string): string[] =>
        query<Row>(
          dir,
          "SELECT kind, target FROM audit WHERE jail = ? AND kind IN ('found', 'ban') ORDER BY id",
          j,
        ).map((r) => `${r.kind} ${r.target}`);
      expect(rows('warn')).toEqual([
        'found 192.0.2.10',
        'found 2001:db8::10',
        'found 192.0.2.10',
        'ban 192.0.2.10/32',
        'found 2001:db8::10',
        'ban 2001:db8::10/128',
        'found 203.0.113.9',
      ]);
      expect(rows('raw')).toEqual([
        'found both.example',
        'found missing.example',
        'found both.example',
        'found missing.example',
        'found 203.0.113.9',
      ]);
      expect(rows('plain')).toEqual(['found 203.0.113.9']);
      // Actions run after the commit: wait for the second rule.
      const deny = await waitFor(
        () => {
          const t = readFileSync(join(dir, 'state', 'hosts.deny'), 'utf8');
          return t.includes('2001:db8::10') ? t : '';
        },
        { what: 'v6 rule' },
      );
      expect(deny).toContain('ALL: 192.0.2.10\n');
      expect(deny).not.toMatch(/example/);
      expect(
        out.match(
          /fail2ban\.ipdns\s+\[\d+\]: WARNING Determined IP using DNS Lookup: both\.example = \{'192\.0\.2\.10', '2001:db8::10'\}/g,
        ),
      ).toHaveLength(2);
      // Looked up once (negative cache), so logged once although two lines named it.
      expect(out.match(/WARNING Unable to find a corresponding IP address for missing\.example: \S+/g)).toHaveLength(1);
      process.kill(proc.pid as number, 'SIGTERM');
      expect((await proc).exitCode).toBe(0);
    },
    60_000,
  );

  real(
    'sentryban regex --usedns yes resolves like fail2ban-regex; -r and the default keep names',
    async () => {
      const log = join(dir, 'regex.log');
      writeFileSync(
        log,
        'auth failure from both.example\nauth failure from missing.example\nauth failure from 203.0.113.9\n',
      );
      const filter = join(dir, 'f.yaml');
      writeFileSync(filter, "failregex:\n  - 'auth failure from <HOST>$'\n");
      const regex = async (...opts: string[]): Promise<Record<string, unknown>[]> => {
        const argv = privateResolverArgv(dir, { hosts: { 'both.example': ['192.0.2.10', '2001:db8::10'] } }, [
          'node',
          bin,
          'regex',
          '--json',
          ...opts,
          log,
          filter,
        ]);
        const r = await execa(argv[0] as string, argv.slice(1), { reject: false, timeout: 30_000 });
        expect(r.exitCode).toBe(0);
        return r.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      };
      const pick = (rs: Record<string, unknown>[]) => rs.map((o) => [o.matched, o.address, o.addresses ?? null]);
      expect(pick(await regex('--usedns', 'yes'))).toEqual([
        [true, '192.0.2.10', ['192.0.2.10', '2001:db8::10']],
        [false, null, null],
        [true, '203.0.113.9', null],
      ]);
      expect(pick(await regex('--usedns', 'yes', '-r'))).toEqual([
        [true, 'both.example', null],
        [true, 'missing.example', null],
        [true, '203.0.113.9', null],
      ]);
      expect(pick(await regex('--usedns', 'no'))).toEqual([
        [false, null, null],
        [false, null, null],
        [true, '203.0.113.9', null],
      ]);
    },
    60_000,
  );
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { makeTmpDir } from '../../helpers/tmp.js';

// The real bin/sentryban (npm test builds dist/ first).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'sentryban');
const tmp = makeTmpDir('sentryban-regex-');
afterAll(() => tmp.cleanup());
const run = (args: string[]) =>
  execa('node', [BIN, 'regex', ...args], { reject: false, cwd: ROOT, env: { TZ: 'UTC' } });

describe('sentryban regex', () => {
  it('prints one JSON object per line with address, time and groups', async () => {
    const r = await run([
      '--json',
      'Nov 25 04:05:19 vm sshd[7]: Failed password for invalid user admin from 2001:DB8::5 port 4000 ssh2',
      'filters/sshd.yaml',
    ]);
    expect(r.exitCode).toBe(0);
    const o = JSON.parse(r.stdout) as {
      line: number;
      matched: boolean;
      address: string;
      time: number;
      groups: Record<string, string>;
    };
    expect(o).toMatchObject({ line: 1, matched: true, address: '2001:db8::5', groups: { user: 'admin' } });
    expect(new Date(o.time * 1000).toISOString().slice(5, 19)).toBe('11-25T04:05:19');
  });

  it('reads lines longer than its 64 KiB reads, CRLF, and characters cut by a read, whole and in order', async () => {
    // Each line a failure from its own address; some 70-200 kB long, some ending in \r\n, some with multi-byte
    // characters; a last line without newline is not read (fail2ban-regex).
    const lines = Array.from({ length: 400 }, (_, i) => {
      const l = `Nov 25 04:05:19 vm sshd[${i}]: Failed password for root from 198.51.100.${i % 250} port ${1000 + i} ssh2`;
      return i % 9 === 0 ? `${l} ${'é中😀'.repeat(i * 20)}${'x'.repeat(i * 500)}` : i % 7 === 0 ? `${l}\r` : l;
    });
    const log = join(tmp.dir, 'long.log');
    writeFileSync(log, `${lines.join('\n')}\nNov 25 04:05:19 vm sshd[1]: Failed password for root from 192.0.2.1`);
    const r = await run(['--json', log, '/etc/fail2ban/filter.d/sshd.conf']);
    expect(r.exitCode).toBe(0);
    const out = r.stdout.split('\n').map((l) => JSON.parse(l) as { line: number; address: string | null });
    expect(out.map((o) => [o.line, o.address])).toEqual(lines.map((_, i) => [i + 1, `198.51.100.${i % 250}`]));
    const summary = await run(['--threads', '3', log, '/etc/fail2ban/filter.d/sshd.conf']);
    expect(summary.stdout).toMatch(/Lines: 400 lines, 0 ignored, 400 matched, 0 missed/);
  });

  it("prints fail2ban-regex's summary for a file, skipping comments and empty lines", async () => {
    const log = join(tmp.dir, 'auth.log');
    writeFileSync(
      log,
      '# comment\nNov 25 04:05:19 vm sshd[7]: Failed password for root from 192.0.2.7 port 4000 ssh2\n\nNov 25 04:05:20 vm CRON[1]: session opened\n',
    );
    const r = await run([log, '/etc/fail2ban/filter.d/sshd.conf']);
    expect(r.stdout).toContain('Lines: 2 lines, 0 ignored, 1 matched, 1 missed');
    expect(r.stdout).toContain('192.0.2.7');
  });

  it('takes a directory or a missing path as the log line, as fail2ban-regex; an unreadable file is an error (66)', async () => {
    for (const notAFile of [tmp.dir, join(tmp.dir, 'missing.log')]) {
      const r = await run([notAFile, 'sshd']);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('Lines: 1 lines, 0 ignored, 0 matched, 1 missed');
    }
    chmodSync(tmp.dir, 0o755);
    const locked = join(tmp.dir, 'locked.log');
    writeFileSync(locked, 'x\n', { mode: 0o000 });
    // As root the mode is no obstacle: drop to nobody for the read.
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const r = await execa(
      asNobody[0] ?? 'node',
      [...asNobody.slice(1), ...(asNobody.length ? ['node'] : []), BIN, 'regex', locked, 'sshd'],
      { reject: false, cwd: ROOT },
    );
    expect(r.exitCode).toBe(66);
    expect(r.stderr).toBe(`sentryban regex: cannot read ${locked}: EACCES`);
  });

  it('refuses a bad filter with file:line and exit code 78', async () => {
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'failregex:\n  - ^x (?P<ip4>\\d+$\n');
    const r = await run(['x', bad]);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/bad\.yaml:2: failregex: cannot translate/);
  });

  it('refuses a bad filter with --threads 2 too (its workers stopped), and a bad --threads', async () => {
    const bad = join(tmp.dir, 'bad2.yaml');
    writeFileSync(bad, 'failregex:\n  - ^x (?P<ip4>\\d+$\n');
    const log = join(tmp.dir, 'two.log');
    writeFileSync(
      log,
      'Nov 25 04:05:19 vm sshd[7]: Failed password for root from 192.0.2.7 port 4000 ssh2\n'.repeat(50),
    );
    const r = await run(['--threads', '2', log, bad]);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/bad2\.yaml:2: failregex: cannot translate/);
    const t = await run(['--threads', '0', log, 'filters/sshd.yaml']);
    expect(t.exitCode).toBe(64);
    expect(t.stderr).toContain('--threads expects 1 to 64');
    const ok = await run(['--threads', '2', log, 'filters/sshd.yaml']);
    expect(ok.stdout).toContain('Lines: 50 lines, 0 ignored, 50 matched, 0 missed');
  });
});

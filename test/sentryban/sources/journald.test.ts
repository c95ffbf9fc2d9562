import { describe, expect, it } from '@jest/globals';
import {
  formatJournalEntry,
  journalctlArgv,
  journalFollowArgv,
  parseJournalLine,
} from '../../../src/sentryban/sources/journald.js';
import { parseBackend } from '../../../src/sentryban/sources/journald-backend.js';

describe('journald source', () => {
  it('builds the line fail2ban builds and takes the entry time', () => {
    const l = formatJournalEntry(
      {
        _HOSTNAME: 'vm',
        SYSLOG_IDENTIFIER: 'sshd',
        _PID: '42',
        MESSAGE: 'Failed password for root from 192.0.2.1 port 22 ssh2\nx',
        __REALTIME_TIMESTAMP: '1795579519123456',
      },
      'journal:x',
    );
    expect(l?.line.text).toBe('vm sshd[42]: Failed password for root from 192.0.2.1 port 22 ssh2\\nx');
    expect(l?.timeMs).toBe(1795579519123);
  });
  it('decodes byte-array messages', () => {
    expect(formatJournalEntry({ _COMM: 'a', MESSAGE: [104, 105] }, 's')?.line.text).toBe(' a: hi');
  });
  it('passes journalmatch terms as journalctl arguments', () => {
    expect(journalctlArgv(['_SYSTEMD_UNIT=sshd.service + _COMM=sshd'])).toEqual([
      'journalctl',
      '-f',
      '-o',
      'json',
      '-n',
      '0',
      '_SYSTEMD_UNIT=sshd.service',
      '+',
      '_COMM=sshd',
    ]);
  });
  it("reads fail2ban's backend option and turns it into journalctl options", () => {
    const args = (t: string): string[] | string => {
      const r = parseBackend(t);
      return !r.ok
        ? r.message
        : r.value.kind === 'files'
          ? []
          : journalFollowArgv(r.value.options, [], { tail: true }).slice(4, -1);
    };
    expect(args('auto')).toEqual([]);
    expect(args('systemd')).toEqual(['--system', '--merge']); // fail2ban's default flags: SYSTEM (4)
    expect(args('systemd[journalpath=/var/log/remote]')).toEqual(['--directory=/var/log/remote']);
    expect(args('systemd[journalfiles="/j/a.journal /j/b.journal"]')).toEqual([
      '--file=/j/a.journal',
      '--file=/j/b.journal',
    ]);
    expect(args('systemd[journalflags=1]')).toEqual([]);
    expect(args('systemd[journalflags=13, namespace=web]')).toEqual(['--namespace=web', '--system', '--user']);
    expect(args('systemd[journalflags=2]')).toBe(
      'journalflags 2: only LOCAL_ONLY (1), SYSTEM (4) and CURRENT_USER (8) map to journalctl options',
    );
    expect(args('systemd[journalpth=/x]')).toMatch(/^unknown systemd backend option "journalpth"/);
    expect(args('systemd[journalpath=/x, journalfiles=/y]')).toMatch(/exclude each other/);
    expect(args('pyinotify[x=1]')).toBe('backend "pyinotify" takes no options');
    expect(args('inotify')).toMatch(/^unknown backend "inotify"/);
    expect(journalFollowArgv({ directory: '/d' }, ['_COMM=sshd + _COMM=x'], { cursor: 's=1;i=2' })).toEqual([
      'journalctl',
      '--follow',
      '--output=json',
      '--no-pager',
      '--directory=/d',
      '--after-cursor=s=1;i=2',
      '_COMM=sshd',
      '+',
      '_COMM=x',
    ]);
    expect(journalFollowArgv({ directory: '/d' }, [], { sinceMs: 1795579519999 })).toContain('--since=@1795579519');
  });
  it("parses journalctl's JSON lines without throwing on bad ones", () => {
    expect(
      parseJournalLine(
        '{"MESSAGE":"m","_COMM":"c","__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1795579519123456"}',
        'journal:j',
      ),
    ).toEqual({
      ok: true,
      line: {
        text: ' c: m',
        source: 'journal:j',
        at: 1795579519123,
        entryTime: 1795579519123,
        position: { path: 'journal:j', inode: 0, offset: 1795579519123456, firstLineHash: 's=1' },
      },
    });
    expect(parseJournalLine('{"_COMM":"c"}', 'j')).toEqual({ ok: true, line: null });
    expect(parseJournalLine('{"MESSAGE', 'j')).toEqual({ ok: false, error: 'not JSON: "{\\"MESSAGE"' });
    expect(parseJournalLine('null', 'j')).toEqual({ ok: false, error: 'not a JSON object: "null"' });
  });
});

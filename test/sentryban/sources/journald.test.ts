import { describe, expect, it } from '@jest/globals';
import { formatJournalEntry, journalctlArgv } from '../../../src/sentryban/sources/journald.js';

describe('journald source', () => {
  it('builds the line fail2ban builds and takes the entry time', () => {
    const l = formatJournalEntry({ _HOSTNAME: 'vm', SYSLOG_IDENTIFIER: 'sshd', _PID: '42', MESSAGE: 'Failed password for root from 192.0.2.1 port 22 ssh2\nx', __REALTIME_TIMESTAMP: '1795579519123456' }, 'journal:x');
    expect(l?.line.text).toBe('vm sshd[42]: Failed password for root from 192.0.2.1 port 22 ssh2\\nx');
    expect(l?.timeMs).toBe(1795579519123);
  });
  it('decodes byte-array messages', () => {
    expect(formatJournalEntry({ _COMM: 'a', MESSAGE: [104, 105] }, 's')?.line.text).toBe(' a: hi');
  });
  it('passes journalmatch terms as journalctl arguments', () => {
    expect(journalctlArgv(['_SYSTEMD_UNIT=sshd.service + _COMM=sshd'])).toEqual(['journalctl', '-f', '-o', 'json', '-n', '0', '_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd']);
  });
});

import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatJailStatus, formatDaemonStatus } from '../../../src/sentryban/control/layout-status.js';
import { isColourWanted, paintFor } from '../../../src/sentryban/control/layout-style.js';
import { formatTable } from '../../../src/sentryban/control/layout-table.js';
import { formatLeft, formatLocal } from '../../../src/sentryban/control/layout-time.js';
import { visible } from '../../../src/sentryban/control/layout.js';
import type { BanView } from '../../../src/sentryban/control/layout-views.js';

// The pure layouts. fail2ban-client 1.0.2's text was captured from the real one (fail2ban-server on a temp
// socket, jails sshd and recidive, bans set by hand): test/fixtures/client/.
const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/client/${name}`, import.meta.url)), 'utf8');
const plain = paintFor(false);
const counters = { jail: 'sshd', lines: 7, failures: 0, counting: 0, notApplied: 0 };
const files = { kind: 'files' as const, paths: ['/tmp/f2b-client/auth.log', '/tmp/f2b-client/other.log'] };
const banOf = (target: string): BanView => ({
  jail: 'sshd',
  target,
  bannedAt: '2026-12-07T01:52:03.000Z',
  expiresAt: '2026-12-07T02:02:03.000Z',
  bantime: '10m',
  banCount: 1,
  applied: 'applied',
  backends: {},
});
const fail2banPart = (text: string): string => `${text.split('\n\n')[0]}\n`;

describe('status as fail2ban-client 1.0.2 prints it', () => {
  it('status JAIL, no bans: the captured text, the empty "Banned IP list:" with its TAB', () => {
    const j = { ...counters, banned: 0, bansTotal: 0, bans: [] };
    expect(fail2banPart(formatJailStatus(j, files, 0, plain))).toBe(
      fixture('fail2ban-client-1.0.2-status-sshd-empty.txt'),
    );
  });
  it('status JAIL with an IPv4, an IPv6 and a network banned', () => {
    const bans = ['192.0.2.1', '2001:db8::1', '198.51.100.0/24'].map(banOf);
    const j = { ...counters, banned: 3, bansTotal: 3, bans };
    const now = Date.parse('2026-12-07T01:53:00.000Z');
    const text = formatJailStatus(j, files, now, plain);
    expect(fail2banPart(text)).toBe(fixture('fail2ban-client-1.0.2-status-sshd.txt'));
    expect(text.slice(fail2banPart(text).length)).toBe(
      '\nLines read:    7\nNot applied:   0\n' +
        `Next expiry:   ${formatLocal(Date.parse(banOf('x').expiresAt ?? ''))} (in 9m 3s)\n`,
    );
  });
  it('status JAIL of a journal jail, or from a daemon that does not say where the jail reads', () => {
    const j = { ...counters, banned: 0, bansTotal: 0, bans: [] };
    const journal = { kind: 'journal' as const, matches: ['_SYSTEMD_UNIT=sshd.service + _COMM=sshd'] };
    expect(formatJailStatus(j, journal, 0, plain)).toContain(
      '|  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service + _COMM=sshd\n`- Actions\n',
    );
    expect(formatJailStatus(j, null, 0, plain)).toContain(
      '|  `- File list:\t(unknown: this daemon does not answer `get`)\n',
    );
  });
  it('status: jail names sorted, joined by ", "', () => {
    const jail = (name: string) => ({ ...counters, jail: name, banned: 0, bansTotal: 0 });
    const s = {
      jails: [jail('sshd'), jail('recidive')],
      actions: [],
      store: {
        path: '/s',
        state: 'ok',
        since: null,
        queued: 0,
        dropped: { rows: 0, bans: 0, unbans: 0 },
        lastError: null,
        nextProbeAt: null,
      },
      nextExpiry: null,
      memory: { rssMiB: 1, heapUsedMiB: 1, heapTotalMiB: 1, externalMiB: 1 },
    };
    expect(fail2banPart(formatDaemonStatus(s, 0, plain))).toBe(fixture('fail2ban-client-1.0.2-status.txt'));
  });
});

describe('times, columns, colour', () => {
  it('what is left of a ban: the two largest units', () => {
    const cases: [number, string][] = [
      [0, 'due'],
      [-5, 'due'],
      [1, '1s'],
      [9_000, '9s'],
      [60_000, '1m'],
      [3_492_000, '58m 12s'],
      [3_600_000, '1h'],
      [3_720_000, '1h 2m'],
      [604_800_000 - 1000, '6d 23h'],
      [90 * 86_400_000, '90d'],
    ];
    expect(cases.map(([ms]) => formatLeft(ms))).toEqual(cases.map(([, t]) => t));
  });
  it('columns: padded before colour, numbers to the right, the last column never padded', () => {
    const rows = [
      ['a', { text: '7', right: true }, 'x'],
      ['bbb', { text: '123', right: true, tone: 'bad' as const }, 'yy'],
    ];
    expect(formatTable(['K', 'N', 'V'], rows, plain)).toBe('K      N  V\na      7  x\nbbb  123  yy\n');
    expect(formatTable(['K', 'N', 'V'], rows, paintFor(true))).toBe(
      '\u001b[1mK\u001b[22m      \u001b[1mN\u001b[22m  \u001b[1mV\u001b[22m\n' +
        'a      7  x\nbbb  \u001b[31m123\u001b[39m  yy\n',
    );
  });
  it('colour: a terminal, NO_COLOR unset or empty, TERM not dumb', () => {
    const tty = { isTTY: true };
    expect(isColourWanted(tty, {})).toBe(true);
    expect(isColourWanted(tty, { NO_COLOR: '' })).toBe(true);
    expect(isColourWanted(tty, { NO_COLOR: '1' })).toBe(false);
    expect(isColourWanted(tty, { TERM: 'dumb' })).toBe(false);
    expect(isColourWanted({ isTTY: false }, {})).toBe(false);
    expect(isColourWanted({}, {})).toBe(false);
  });
  it('text from logs cannot drive the terminal', () => {
    expect(visible('ok\u001b]0;title\u0007 tab\there\nnext\u009b')).toBe('ok\\x1b]0;title\\x07 tab\\there\\nnext\\x9b');
  });
});

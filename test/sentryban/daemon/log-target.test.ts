import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { openSyslog } from '../../../src/core/syslog.js';
import { loadConfig } from '../../../src/sentryban/config/load.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import { Collector } from '../../portsentry/side.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

// Where log lines go (fail2ban's logtarget), the periodic check interval, and the syslog copy itself: a real
// datagram socket stands in for /dev/log (syslogsocket), so no system syslog is involved.
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});
const dirWith = (main: string): string => {
  const t = makeTmpDir('sentryban-log-');
  tmps.push(t.cleanup);
  writeFileSync(join(t.dir, 'sentryban.yaml'), main);
  mkdirSync(join(t.dir, 'jails'));
  return t.dir;
};
const mainOf = async (main: string) => {
  const r = await loadConfig(dirWith(main));
  if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
  return r.value.main;
};

describe('logtarget, sysloglevel, checkinterval in sentryban.yaml', () => {
  it('defaults: the state folder log file plus syslog from WARNING up; checks every 5 minutes', async () => {
    const m = await mainOf('state: st\n');
    expect(m.log).toEqual({
      files: [join(m.stateDir, 'sentryban.log')],
      stderr: false,
      stdout: false,
      syslog: true,
      syslogLevel: 'WARNING',
      syslogSocket: '/dev/log',
      remote: [],
    });
    expect(m.checkIntervalSec).toBe(300);
  });
  it('a list of targets in fail2ban words; logfile: none keeps syslog only; 0 disables the check', async () => {
    const m = await mainOf(
      'state: st\nlogtarget: [a.log, /tmp/x/b.log, SYSLOG, stderr]\nsysloglevel: notice\nsyslogsocket: /run/x.sock\ncheckinterval: 0\n',
    );
    expect(m.log).toEqual({
      files: [join(m.stateDir, 'a.log'), '/tmp/x/b.log'],
      stderr: true,
      stdout: false,
      syslog: true,
      syslogLevel: 'NOTICE',
      syslogSocket: '/run/x.sock',
      remote: [],
    });
    expect(m.checkIntervalSec).toBe(0);
    expect(await mainOf('logtarget: STDOUT\ncheckinterval: 2m\n')).toMatchObject({
      log: { files: [], stdout: true, syslog: false },
      checkIntervalSec: 120,
    });
    expect((await mainOf('logfile: none\n')).log).toMatchObject({ files: [], syslog: true });
  });
  it('refuses a bad level, a bad interval, and logfile with logtarget, with file:line', async () => {
    const dir = dirWith('logfile: a.log\nlogtarget: SYSLOG\nsysloglevel: loud\ncheckinterval: often\n');
    const r = await loadConfig(dir);
    expect(r.ok).toBe(false);
    const msgs = r.ok ? [] : r.errors.map((e) => formatDiagnostic(e).replace(`${dir}/`, ''));
    expect(msgs).toEqual([
      expect.stringMatching(/^sentryban\.yaml:2:.*logtarget.*give either logfile or logtarget, not both/),
      expect.stringMatching(
        /^sentryban\.yaml:3:.*sysloglevel.*expected one of ERROR, WARNING, NOTICE, INFO, got "LOUD"/,
      ),
      expect.stringMatching(/^sentryban\.yaml:4:.*checkinterval.*expected a duration/),
    ]);
  });
  it('a remote syslog server is a logtarget (udp:// or tcp://, an address, port 514 unless given)', async () => {
    const m = await mainOf('logtarget: [SYSLOG, udp://192.0.2.7, "tcp://[2001:db8::7]:6514"]\n');
    expect(m.log.remote.map((a) => a.text)).toEqual(['udp://192.0.2.7:514', 'tcp://[2001:db8::7]:6514']);
    expect(m.log.files).toEqual([]);
    const dir = dirWith('logtarget:\n  - SYSLOG\n  - udp://logs.example.org:514\n');
    const r = await loadConfig(dir);
    const msgs = r.ok ? [] : r.errors.map((e) => formatDiagnostic(e).replace(`${dir}/`, ''));
    expect(msgs).toEqual([
      expect.stringMatching(/^sentryban\.yaml:3:\d+: logtarget: "logs\.example\.org" is a host name: give its address/),
    ]);
  });
});

describe('DecisionLog copies lines to syslog from the chosen level up', () => {
  it('sends ERROR and WARNING (default level) with their severities, the file keeps every line', async () => {
    const t = makeTmpDir('sentryban-syslog-');
    tmps.push(t.cleanup);
    const c = new Collector(join(t.dir, 'log.sock'));
    try {
      const sink = openSyslog({ path: c.path, tag: 'sentryban' });
      const file = join(t.dir, 'sub', 'sentryban.log');
      const log = new DecisionLog(null, false, new ManualClock(Date.UTC(2026, 10, 25)), {
        files: [file],
        syslog: { sink, level: 'WARNING' },
      });
      log.line('actions', 'NOTICE', '[app] Ban 192.0.2.5');
      log.line('actions', 'ERROR', '[app] fw ban failed (attempt 1; next retry in 1s at x): nft: exit 1');
      log.line('actions', 'WARNING', '[app] fw check (periodic); repaired: restored 192.0.2.5');
      log.line('filter', 'INFO', '[app] Found 192.0.2.5');
      await waitFor(() => c.raw.length >= 2, { timeoutMs: 5000, what: 'two datagrams' });
      await c.settle(200, 2000);
      log.close();
      const got = c.raw.map((r) => r.replace(/^(<\d+>)[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d sentryban\[\d+\]: /, '$1'));
      expect(got).toEqual([
        '<27>ERROR   [app] fw ban failed (attempt 1; next retry in 1s at x): nft: exit 1', // daemon.err
        '<28>WARNING [app] fw check (periodic); repaired: restored 192.0.2.5', // daemon.warning
      ]);
      expect(existsSync(file)).toBe(true);
      expect(
        readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.replace(/^.*?\]: /, '')),
      ).toEqual([
        'NOTICE  [app] Ban 192.0.2.5',
        'ERROR   [app] fw ban failed (attempt 1; next retry in 1s at x): nft: exit 1',
        'WARNING [app] fw check (periodic); repaired: restored 192.0.2.5',
        'INFO    [app] Found 192.0.2.5',
      ]);
    } finally {
      c.close();
    }
  });
  it('at NOTICE, Ban and Unban decisions go to syslog too', async () => {
    const t = makeTmpDir('sentryban-syslog-');
    tmps.push(t.cleanup);
    const c = new Collector(join(t.dir, 'log.sock'));
    try {
      const sink = openSyslog({ path: c.path, tag: 'sentryban' });
      const log = new DecisionLog(null, false, new ManualClock(0), { syslog: { sink, level: 'NOTICE' } });
      log.decision({ kind: 'restored', jail: 'app', target: '192.0.2.5/32' });
      log.line('filter', 'INFO', '[app] Found 192.0.2.5');
      await waitFor(() => c.raw.length >= 1, { timeoutMs: 5000, what: 'a datagram' });
      await c.settle(200, 2000);
      log.close();
      expect(c.raw.map((r) => r.replace(/^(<\d+>).*?sentryban\[\d+\]: /, '$1'))).toEqual([
        '<29>NOTICE  [app] Restore Ban 192.0.2.5',
      ]);
    } finally {
      c.close();
    }
  });
});

import { afterAll, describe, expect } from '@jest/globals';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itReal } from '../../helpers/real.js';
import { freeSyslogPort, startRsyslog } from '../../helpers/rsyslog.js';
import { localParts, remoteParts } from '../../helpers/syslog-lines.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { Collector } from '../../portsentry/side.js';
import { startDaemon, writeConfig } from './run-daemon.js';

// A remote syslog logtarget end to end: the real daemon (bin/sentryban), its local syslog a socket of this test
// (syslogsocket), bans a host; every line it sent to local syslog reaches a real rsyslogd of the test's own on
// loopback with the same priority, tag[pid] and text.
const real = itReal({ commands: ['rsyslogd'] });
const { dir, cleanup } = makeTmpDir('sb-remote-');
afterAll(() => cleanup());

describe('sentryban logtarget udp://', () => {
  real(
    'the Ban line (and every other syslog line) reaches rsyslog as it reaches local syslog',
    async () => {
      const port = await freeSyslogPort();
      const srv = await startRsyslog(dir, port);
      const col = new Collector(join(dir, 'log.sock'));
      const jail = `app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n  actions: [deny]\n`;
      writeConfig(
        dir,
        { app: jail },
        `logtarget: [sentryban.log, SYSLOG, "udp://127.0.0.1:${port}"]\nsysloglevel: NOTICE\nsyslogsocket: ${col.path}\n`,
      );
      writeFileSync(join(dir, 'app.log'), '');
      const d = await startDaemon(dir);
      try {
        appendFileSync(join(dir, 'app.log'), `${new Date().toISOString()} auth failure from 192.0.2.5\n`);
        await waitFor(() => srv.lines().some((l) => l.endsWith('NOTICE  [app] Ban 192.0.2.5')), {
          what: 'the Ban line at rsyslog',
        });
        process.kill(d.pid, 'SIGTERM');
        await d.proc;
        await col.settle();
      } finally {
        if (d.proc.exitCode === null) process.kill(d.pid, 'SIGKILL');
        await d.proc;
        col.close();
        await srv.stop();
      }
      const local = col.raw.map(localParts);
      const remote = srv.lines().map(remoteParts);
      expect(local).not.toContain(null);
      expect(remote).toEqual(local);
      expect(remote).toContainEqual({ pri: 29, tag: `sentryban[${d.pid}]`, message: 'NOTICE  [app] Ban 192.0.2.5' });
    },
    60_000,
  );
});

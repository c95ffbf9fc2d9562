import { afterAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { itReal } from '../helpers/real.js';
import { freeSyslogPort, startRsyslog } from '../helpers/rsyslog.js';
import { localParts, remoteParts } from '../helpers/syslog-lines.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { BIN, Collector } from './side.js';

// SYSLOG_REMOTE end to end: the real daemon (bin/portsentry -tcp, its /dev/log a socket of this test in a private
// mount namespace) probed on loopback; every line it writes locally reaches a real rsyslogd of the test's own on
// loopback with the same priority, tag[pid] and message, from "starting" to the shutdown lines.
const real = itReal({ root: true, commands: ['rsyslogd', 'unshare'] });
const { dir, cleanup } = makeTmpDir('ps-remote-');
afterAll(() => cleanup());

const freeTcpPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

describe('portsentry SYSLOG_REMOTE', () => {
  real(
    'every local syslog line also reaches rsyslog: same priority, tag[pid] and text, the attackalert included',
    async () => {
      const sysPort = await freeSyslogPort();
      const srv = await startRsyslog(dir, sysPort);
      const trap = await freeTcpPort();
      const col = new Collector(join(dir, 'log.sock'));
      writeFileSync(join(dir, 'ignore'), '');
      const conf = join(dir, 'portsentry.conf');
      writeFileSync(
        conf,
        `TCP_PORTS="${trap}"\nBLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\n` +
          `IGNORE_FILE="${dir}/ignore"\nSCAN_TRIGGER="0"\nBLOCK_TCP="0"\nSYSLOG_REMOTE="udp://127.0.0.1:${sysPort}"\n`,
      );
      const argv = [process.execPath, BIN, '-tcp', '--foreground', '--config', conf, '--hosts-deny', `${dir}/deny`];
      const wrap = ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/log && exec "$@"'];
      const daemon = execa('unshare', [...wrap, col.path, ...argv], { reject: false, timeout: 60_000 });
      try {
        await waitFor(() => col.raw.some((r) => r.includes('now active and listening')), {
          timeoutMs: 20_000,
          what: 'the daemon active',
        });
        await new Promise<void>((resolve) => {
          const s = createConnection({ port: trap, host: '127.0.0.1' });
          s.once('connect', () => s.destroy());
          s.once('close', () => resolve());
          s.once('error', () => resolve());
        });
        const alert = `attackalert: Connect from host: 127.0.0.1/127.0.0.1 to TCP port: ${trap}`;
        await waitFor(() => srv.lines().some((l) => l.endsWith(alert)), { what: 'the attackalert at rsyslog' });
        process.kill(daemon.pid ?? 0, 'SIGTERM');
        await daemon;
        await waitFor(() => srv.lines().some((l) => l.endsWith('adminalert: PortSentry is shutting down')), {
          what: 'the shutdown lines',
        });
        await col.settle();
      } finally {
        if (daemon.exitCode === null) process.kill(daemon.pid ?? 0, 'SIGKILL');
        await daemon;
        col.close();
        await srv.stop();
      }
      const local = col.raw.map(localParts);
      const remote = srv.lines().map(remoteParts);
      expect(local).not.toContain(null);
      expect(remote).not.toContain(null);
      // The -tcp alert may leave from C (local) and from the pipeline (remote): the same lines, order aside.
      const key = (p: unknown): string => JSON.stringify(p);
      expect(remote.map(key).sort()).toEqual(local.map(key).sort());
      expect(remote).toContainEqual({
        pri: 29,
        tag: `portsentry[${daemon.pid}]`,
        message: `attackalert: Connect from host: 127.0.0.1/127.0.0.1 to TCP port: ${trap}`,
      });
      expect(remote[0]?.message).toMatch(/^adminalert: PortSentry .* is starting\.$/);
    },
    90_000,
  );
});

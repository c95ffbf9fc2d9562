import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { waitFor } from './wait.js';

// A real rsyslogd of our own on loopback (UDP and TCP on one port), writing what it receives to a file in `dir`:
// "facility severity rawmsg" per line. Nothing of the system's syslog is touched; stop() ends it by its pid.
export type Rsyslog = {
  port: number;
  // The received lines so far.
  lines(): string[];
  stop(): Promise<void>;
};

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const t = createServer();
    t.once('error', () => resolve(false));
    t.listen(port, '127.0.0.1', () => {
      const u = createSocket('udp4');
      u.once('error', () => {
        u.close();
        t.close(() => resolve(false));
      });
      u.bind(port, '127.0.0.1', () => {
        u.close();
        t.close(() => resolve(true));
      });
    });
  });

// A port free for both TCP and UDP on 127.0.0.1 (the kernel picks the TCP one).
export const freeSyslogPort = async (): Promise<number> => {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    if (await portFree(port)) return port;
  }
  throw new Error('no port free for both TCP and UDP');
};

export const startRsyslog = async (dir: string, port: number, name = 'rsyslog'): Promise<Rsyslog> => {
  const out = join(dir, `${name}.out`);
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}")`,
      'module(load="imudp")',
      `input(type="imudp" port="${port}" address="127.0.0.1")`,
      'module(load="imtcp")',
      `input(type="imtcp" port="${port}" address="127.0.0.1")`,
      'template(name="seen" type="string" string="%syslogfacility-text% %syslogseverity-text% %rawmsg%\\n")',
      `*.* action(type="omfile" file="${out}" template="seen")`,
      '',
    ].join('\n'),
  );
  const child: ResultPromise = execa('rsyslogd', ['-n', '-f', conf, '-i', join(dir, `${name}.pid`)], {
    reject: false,
    timeout: 300_000,
  });
  const lines = (): string[] => (existsSync(out) ? readFileSync(out, 'latin1').split('\n').slice(0, -1) : []);
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    await child;
  };
  // Listening once a TCP connection is taken.
  try {
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const s = createConnection({ port, host: '127.0.0.1' });
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        }),
      { timeoutMs: 10000, intervalMs: 50, what: 'rsyslogd listening' },
    );
  } catch (e) {
    await stop();
    throw new Error(`${String(e)}; rsyslogd said: ${(await child).stderr?.toString() ?? ''}`, { cause: e });
  }
  return { port, lines, stop };
};

// `npm start` (bin/start.js) as a normal user: both modes on the bundled unprivileged config, lines on stdout
// and syslog, state in $XDG_STATE_HOME, a local probe logged but not acted on, Ctrl-C ends it cleanly.
import { afterAll, describe, expect } from '@jest/globals';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab } from '../helpers/netns.js';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { Collector } from './side.js';

const START = fileURLToPath(new URL('../../bin/start.js', import.meta.url));
const real = itReal({ root: true, commands: ['nc', 'unshare', 'setpriv'] });
const { dir, cleanup } = makeTmpDir('ps-start-');
chmodSync(dir, 0o777);
afterAll(() => cleanup());

describe('npm start', () => {
  real('runs -tcp and -udp unprivileged, logs a local probe to stdout and syslog, stops on SIGINT', async () => {
    const lab = await createLab();
    const c = new Collector(join(dir, 'log.sock'));
    try {
      const child = lab.run(lab.victim, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/log && exec "$@"', c.path,
        'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env', `HOME=${dir}`, `XDG_STATE_HOME=${dir}/state`, process.execPath, START],
      { reject: false, timeout: 60000 });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
      await waitFor(() => (out.match(/now active and listening/g) ?? []).length === 2, { timeoutMs: 20000, what: 'both modes active' });
      await lab.run(lab.victim, ['nc', '-z', '-w', '2', '127.0.0.1', '31337'], { reject: false });
      await lab.run(lab.victim, ['nc', '-u', '-q', '0', '-w', '1', '127.0.0.1', '31337'], { reject: false, input: 'x' });
      await waitFor(() => out.includes('to UDP port: 31337') && out.includes('to TCP port: 31337'), { timeoutMs: 10000, what: 'both probes' });
      const pid = c.datagrams.find((d) => d.message.includes('now active'))?.pid ?? 0;
      process.kill(pid, 'SIGINT');
      const r = await child;
      expect(r.exitCode).toBe(0);
      expect(out).toContain('attackalert: Connect from host: 127.0.0.1/127.0.0.1 to TCP port: 31337\nattackalert: Host: 127.0.0.1 is an address of this host. Not blocking.\n');
      expect(c.datagrams.map((d) => d.message)).toContain('attackalert: Connect from host: 127.0.0.1/127.0.0.1 to UDP port: 31337');
      expect(existsSync(join(dir, 'state', 'sentrytools', 'portsentry.blocked.tcp'))).toBe(true);
      expect(readFileSync(join(dir, 'state', 'sentrytools', 'portsentry.conf'), 'utf8')).toContain(`HISTORY_FILE="${dir}/state/sentrytools/portsentry.history"`);
      expect(out.match(/PortSentry is shutting down/g)).toHaveLength(4);
    } finally {
      c.close();
      await lab.destroy();
    }
  }, 60000);
});

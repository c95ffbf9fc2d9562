// `npm start` (bin/start.js) as a normal user: both modes on the bundled unprivileged config, lines on stdout
// and syslog, all state in $SENTRYTOOLS_STATE, a local probe logged but not acted on, a probe from another host
// turned into a sentryban ban (hosts.deny in the state folder), Ctrl-C ends both daemons cleanly.
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
  real(
    'runs both daemons unprivileged: a local probe logged to stdout and syslog, a remote probe banned, SIGINT stops both',
    async () => {
      const lab = await createLab();
      const c = new Collector(join(dir, 'log.sock'));
      let child: ReturnType<typeof lab.run> | undefined;
      try {
        child = lab.run(
          lab.victim,
          [
            'unshare',
            '-m',
            '--propagation',
            'private',
            'sh',
            '-c',
            'mount --bind "$0" /dev/log && exec "$@"',
            c.path,
            'setpriv',
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            'env',
            `HOME=${dir}`,
            `SENTRYTOOLS_STATE=${dir}/state`,
            process.execPath,
            START,
          ],
          { reject: false, timeout: 60000 },
        );
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
        });
        await waitFor(() => (out.match(/now active and listening/g) ?? []).length === 2, {
          timeoutMs: 20000,
          what: 'both modes active',
        });
        await lab.run(lab.victim, ['nc', '-z', '-w', '2', '127.0.0.1', '31337'], { reject: false });
        await lab.run(lab.victim, ['nc', '-u', '-q', '0', '-w', '1', '127.0.0.1', '31337'], {
          reject: false,
          input: 'x',
        });
        await waitFor(() => out.includes('to UDP port: 31337') && out.includes('to TCP port: 31337'), {
          timeoutMs: 10000,
          what: 'both probes',
        });
        // A probe from another host: the listener records it, sentryban's portsentry jail bans it.
        await lab.run(lab.attacker, ['nc', '-z', '-w', '2', lab.victimV4, '31337'], { reject: false });
        const deny = join(dir, 'state', 'sentryban', 'hosts.deny');
        await waitFor(() => existsSync(deny) && readFileSync(deny, 'utf8').includes(lab.attackerV4), {
          timeoutMs: 15000,
          what: 'the attacker banned in hosts.deny',
        });
        expect(readFileSync(join(dir, 'state', 'sentryban', 'sentryban.log'), 'utf8')).toContain(
          `NOTICE  [portsentry] Ban ${lab.attackerV4}`,
        );
        const pid = c.datagrams.find((d) => d.message.includes('now active'))?.pid ?? 0;
        process.kill(pid, 'SIGINT');
        const r = await child;
        expect(r.exitCode).toBe(0);
        expect(out).toContain(
          'attackalert: Connect from host: 127.0.0.1/127.0.0.1 to TCP port: 31337\nattackalert: Host: 127.0.0.1 is an address of this host. Not blocking.\n',
        );
        expect(c.datagrams.map((d) => d.message)).toContain(
          'attackalert: Connect from host: 127.0.0.1/127.0.0.1 to UDP port: 31337',
        );
        expect(existsSync(join(dir, 'state', 'portsentry', 'portsentry.blocked.tcp'))).toBe(true);
        expect(readFileSync(join(dir, 'state', 'portsentry', 'portsentry.conf'), 'utf8')).toContain(
          `HISTORY_FILE="${dir}/state/portsentry/portsentry.history"`,
        );
        expect(out.match(/PortSentry is shutting down/g)).toHaveLength(4);
      } finally {
        // The exec chain keeps one pid: on a failure, end the quick start we started before its namespace goes.
        if (child && child.exitCode === null) {
          child.kill('SIGKILL');
          await child.catch(() => {});
        }
        c.close();
        await lab.destroy();
      }
    },
    60000,
  );
});

import { afterAll, beforeAll } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { createLab, type Lab } from '../../helpers/netns.js';
import { missing } from '../../helpers/real.js';
import { waitFor } from '../../helpers/wait.js';
import { execaRunner, type Runner } from '../../../src/sentryban/actions/runner.js';

// A lab for firewall backends: the victim runs a TCP server on port 2222 (v4 and v6); the attacker has a second
// source address per family, so one source can be banned while the other must still get through.
export const PORT = 2222;
export type FwLab = {
  lab: Lab;
  runner: Runner; // runs argv inside the victim namespace
  banned: { v4: string; v6: string };
  other: { v4: string; v6: string };
  third: { v4: string; v6: string }; // outside banned.x/31 and banned.x/127
  canConnect(src: string): Promise<boolean>;
  victim(argv: string[]): Promise<string>;
  close(): Promise<void>;
};

export const openFwLab = async (): Promise<FwLab> => {
  const lab = await createLab();
  let server: ResultPromise | undefined;
  try {
    await lab.addAttackerAddrs(['192.0.2.3', '2001:db8::3', '192.0.2.4', '2001:db8::4']);
    const js = `require('net').createServer((s) => { s.on('error', () => {}); s.end('hi'); }).listen(${PORT}, '::')`;
    server = execa('ip', ['netns', 'exec', lab.victim, process.execPath, '-e', js], { reject: false, timeout: 600000 });
    const dst = (src: string) => (src.includes(':') ? lab.victimV6 : lab.victimV4);
    const canConnect = async (src: string): Promise<boolean> => {
      const r = await lab.run(lab.attacker, ['nc', '-z', '-w', '1', '-s', src, dst(src), String(PORT)], {
        reject: false,
        timeout: 10000,
      });
      return r.exitCode === 0;
    };
    await waitFor(() => canConnect(lab.attackerV4), { timeoutMs: 10000, what: 'lab server' });
    await waitFor(() => canConnect(lab.attackerV6), { timeoutMs: 10000, what: 'lab server v6' });
    const s = server;
    return {
      lab,
      runner: execaRunner({ prefix: ['ip', 'netns', 'exec', lab.victim], timeoutMs: 60000 }),
      banned: { v4: lab.attackerV4, v6: lab.attackerV6 },
      other: { v4: '192.0.2.3', v6: '2001:db8::3' },
      third: { v4: '192.0.2.4', v6: '2001:db8::4' },
      canConnect,
      victim: async (argv) => (await lab.run(lab.victim, argv, { timeout: 30000 })).stdout as string,
      async close() {
        if (s.pid) {
          try {
            process.kill(s.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await s.catch(() => {});
        await lab.destroy();
      },
    };
  } catch (e) {
    if (server?.pid) {
      try {
        process.kill(server.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await lab.destroy();
    throw e;
  }
};

// A runner inside the victim namespace that cannot find any tool (PATH emptied): a "missing tool".
export const missingToolRunner = (lab: Lab): Runner =>
  execaRunner({ prefix: ['ip', 'netns', 'exec', lab.victim, 'env', 'PATH=/nonexistent'], timeoutMs: 10000 });

export const hasNetns = async (): Promise<boolean> =>
  (await execa('ip', ['netns', 'list'], { reject: false })).exitCode === 0;

// One lab for a describe block: opened before its tests when root and these commands are there (else its itReal
// cases fail in CI or skip with the reason outside), closed after them. The getter is for the tests' bodies.
export const useFwLab = (commands: string[]): (() => FwLab) => {
  let fw: FwLab | undefined;
  beforeAll(async () => {
    if (!missing({ root: true, commands })) fw = await openFwLab();
  }, 60000);
  afterAll(async () => {
    await fw?.close();
  }, 60000);
  return () => fw!;
};

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../../test/helpers/netns.js';
import { withSystemFiles } from '../../test/helpers/system-file.js';
import { makeTmpDir } from '../../test/helpers/tmp.js';
import { waitFor } from '../../test/helpers/wait.js';
import { BIN, pidsIn, startReal, writeConf, type Daemon } from '../../test/portsentry/stealth/lab-daemon.js';

// Shared by the stealth benches: one fresh lab and one daemon (ours or 1.2) per measurement, torn down always.
export type Side = 'ours' | '1.2';
export type Session = { lab: Lab; dir: string; daemon: Daemon; pid: () => Promise<number | null> };

const CONF = '/etc/portsentry/portsentry.conf';

// Set env on ours only: put in process.env just while startOurs spawns (synchronously, before its first await).
const spawnWith = <T>(env: Record<string, string>, start: () => Promise<T>): Promise<T> => {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return start();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
};

// Ours in the foreground without --stdout: 1.2 writes no copy of its lines to a pipe, so ours must not either (each
// line would wake the bench process on the shared cores). Both log to the machine's syslog. Ready when its raw
// socket is open (/proc/PID/net/raw lists the sockets of the daemon's namespace; "active" is logged right after).
const startQuiet = async (lab: Lab, mode: string, conf: string, hostsDeny: string): Promise<Daemon> => {
  const proc = lab.run(
    lab.victim,
    ['node', BIN, `-${mode}`, '--foreground', '--config', conf, '--hosts-deny', hostsDeny],
    { reject: false, timeout: 600000 },
  );
  const proto = mode.endsWith('tcp') ? ':0006 ' : ':0011 ';
  const open = (): boolean => {
    try {
      return readFileSync(`/proc/${proc.pid}/net/raw`, 'latin1')
        .split('\n')
        .slice(1)
        .some((l) => l.includes(proto));
    } catch {
      return false;
    }
  };
  await waitFor(() => open() || proc.exitCode !== null, {
    timeoutMs: 30000,
    what: `ours -${mode} to open its raw socket`,
  });
  if (!open()) throw new Error(`ours -${mode} did not start: ${String((await proc).stderr)}`);
  await new Promise((r) => setTimeout(r, 50));
  return {
    pids: () => (proc.pid ? [proc.pid] : []),
    stop: async () => {
      if (proc.pid) {
        try {
          process.kill(proc.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      const t = setTimeout(() => {
        if (proc.pid) {
          try {
            process.kill(proc.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }, 5000);
      await proc;
      clearTimeout(t);
    },
  };
};

export const withDaemon = async <T>(
  side: Side,
  mode: string,
  keys: Record<string, string>,
  fn: (s: Session) => Promise<T>,
  oursEnv: Record<string, string> = {},
): Promise<T> => {
  const run = async (): Promise<T> => {
    const tmp = makeTmpDir(`stealth-bench-${side === 'ours' ? 'ours' : 'real'}-`);
    let lab: Lab | null = null;
    let daemon: Daemon | null = null;
    try {
      lab = await createLab();
      const conf = side === '1.2' ? CONF : join(tmp.dir, 'portsentry.conf');
      writeConf(conf, tmp.dir, keys);
      const l0 = lab;
      daemon =
        side === '1.2'
          ? await startReal(lab, lab.victim, mode)
          : await spawnWith(oursEnv, () => startQuiet(l0, mode, conf, join(tmp.dir, 'hosts.deny')));
      const d = daemon;
      const l = lab;
      // The long-lived process: ours is the foreground pid; 1.2 is the detached child (the last pid listed).
      const pid = async (): Promise<number | null> => {
        if (side === 'ours') return d.pids()[0] ?? null;
        const all = await pidsIn(l.victim);
        return (
          all.find((p) => {
            try {
              return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'portsentry';
            } catch {
              return false;
            }
          }) ?? null
        );
      };
      return await fn({ lab, dir: tmp.dir, daemon, pid });
    } finally {
      if (daemon) await daemon.stop();
      await lab?.destroy();
      tmp.cleanup();
    }
  };
  return side === '1.2' ? withSystemFiles([CONF, '/etc/hosts.deny'], run) : run();
};

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

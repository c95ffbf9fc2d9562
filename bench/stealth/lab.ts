import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../../test/helpers/netns.js';
import { withSystemFiles } from '../../test/helpers/system-file.js';
import { makeTmpDir } from '../../test/helpers/tmp.js';
import { pidsIn, startOurs, startReal, writeConf, type Daemon } from '../../test/portsentry/stealth/lab-daemon.js';

// Shared by the stealth benches: one fresh lab and one daemon (ours or 1.2) per measurement, torn down always.
export type Side = 'ours' | '1.2';
export type Session = { lab: Lab; dir: string; daemon: Daemon; pid: () => Promise<number | null> };

const CONF = '/etc/portsentry/portsentry.conf';

// Set env on ours only: put in process.env just while startOurs spawns (synchronously, before its first await).
const spawnWith = <T>(env: Record<string, string>, start: () => Promise<T>): Promise<T> => {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try { return start(); } finally {
    for (const [k, v] of saved) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
};

export const withDaemon = async <T>(side: Side, mode: string, keys: Record<string, string>, fn: (s: Session) => Promise<T>,
  oursEnv: Record<string, string> = {}): Promise<T> => {
  const run = async (): Promise<T> => {
    const tmp = makeTmpDir(`stealth-bench-${side === 'ours' ? 'ours' : 'real'}-`);
    let lab: Lab | null = null;
    let daemon: Daemon | null = null;
    try {
      lab = await createLab();
      const conf = side === '1.2' ? CONF : join(tmp.dir, 'portsentry.conf');
      writeConf(conf, tmp.dir, keys);
      const l0 = lab;
      daemon = side === '1.2' ? await startReal(lab, lab.victim, mode)
        : await spawnWith(oursEnv, () => startOurs(l0, l0.victim, mode, conf, join(tmp.dir, 'hosts.deny')));
      const d = daemon;
      const l = lab;
      // The long-lived process: ours is the foreground pid; 1.2 is the detached child (the last pid listed).
      const pid = async (): Promise<number | null> => {
        if (side === 'ours') return d.pids()[0] ?? null;
        const all = await pidsIn(l.victim);
        return all.find((p) => { try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'portsentry'; } catch { return false; } }) ?? null;
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

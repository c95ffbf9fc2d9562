import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The real daemon (bin/sentryban on dist/) inside a namespace, for the crash-storm case; from the sources (jest)
// or from dist-bench/ alike, bin/ is found by walking up.
export type Daemon = { proc: ResultPromise; pid: number; output: () => string };

const repoRoot = (): string => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'bin', 'sentryban'))) {
    const up = dirname(d);
    if (up === d) throw new Error('bin/sentryban not found above this file');
    d = up;
  }
  return d;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// kill -9 at once, wherever the daemon is (loading, restoring the bans, reading the backlog).
export const kill9 = async (d: Daemon): Promise<void> => {
  process.kill(d.pid, 'SIGKILL');
  await d.proc;
};

// Starts the daemon and kill -9 it `ms` later, ready or not (a crash during the start itself).
export const startAndKill = async (ns: string, dir: string, ms: number): Promise<void> => {
  const d = spawnDaemon(ns, dir);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && d.proc.exitCode === null) await sleep(2);
  if (d.proc.exitCode !== null) throw new Error(`daemon exited (${String(d.proc.exitCode)}):\n${d.output()}`);
  await kill9(d);
};

// Resolves once it printed "sentryban: ready" (bans restored, followers started); kills it if it does not.
export const startDaemon = async (ns: string, dir: string): Promise<Daemon> => {
  const d = spawnDaemon(ns, dir);
  const deadline = Date.now() + 60_000;
  while (!d.output().includes('sentryban: ready')) {
    if (d.proc.exitCode !== null || Date.now() > deadline) {
      if (d.proc.exitCode === null) await kill9(d);
      await d.proc;
      throw new Error(`daemon did not start:\n${d.output()}`);
    }
    await sleep(5);
  }
  return d;
};

const spawnDaemon = (ns: string, dir: string): Daemon => {
  const bin = join(repoRoot(), 'bin', 'sentryban');
  const argv = ['netns', 'exec', ns, 'node', bin, 'daemon', '--foreground', '--config', dir];
  const proc = execa('ip', argv, { reject: false, buffer: false, timeout: 3_600_000, killSignal: 'SIGKILL' });
  let out = '';
  const keep = (c: Buffer): void => {
    out = (out + c.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, pid: proc.pid ?? -1, output: () => out };
};

// Polls `probe` until true; fails at the deadline or when the daemon exits on its own.
export const until = async (
  what: string,
  d: Daemon | null,
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 5,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    const out = d ? `; daemon output:\n${d.output()}` : '';
    if (d && d.proc.exitCode !== null) throw new Error(`daemon exited (${String(d.proc.exitCode)}): ${what}${out}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${out}`);
    await sleep(everyMs);
  }
};

import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { waitFor } from '../../helpers/wait.js';

// The real daemon as a subprocess (bin/sentryban on dist/), and a config folder written for a test.
export const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const bin = join(repo, 'bin/sentryban');

export type Running = { proc: ResultPromise; pid: number; output: () => string };

export const writeConfig = (dir: string, jails: Record<string, string>, main = ''): void => {
  mkdirSync(join(dir, 'jails'), { recursive: true });
  // Test daemons log to their state folder only, never to the machine's syslog, unless a test says otherwise.
  const log = /^logtarget:/m.test(main) ? '' : 'logtarget: sentryban.log\n';
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    `state: state\n${log}actions:\n  deny:\n    backend: hostsdeny\n    file: hosts.deny\n${main}`,
  );
  for (const [name, text] of Object.entries(jails)) writeFileSync(join(dir, 'jails', `${name}.yaml`), text);
};

// prefix runs the daemon through another command (e.g. `ip netns exec NS`, a private /dev/log wrapper).
export const startDaemon = async (
  dir: string,
  opts: { prefix?: string[]; timeoutMs?: number } = {},
): Promise<Running> => {
  const [cmd, ...args] = [...(opts.prefix ?? []), 'node', bin, 'daemon', '--foreground', '--config', dir];
  const proc = execa(cmd, args, {
    reject: false,
    buffer: false,
    timeout: opts.timeoutMs ?? 300_000,
    killSignal: 'SIGKILL',
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  try {
    await waitFor(() => out.includes('sentryban: ready') || proc.exitCode !== null, {
      timeoutMs: 20_000,
      what: 'daemon ready',
    });
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}; its output so far:\n${out}`, { cause: e });
  }
  if (!out.includes('sentryban: ready')) {
    proc.kill('SIGKILL');
    throw new Error(`daemon did not start:\n${out}`);
  }
  return { proc, pid: proc.pid ?? -1, output: () => out };
};

export const kill9 = async (r: Running): Promise<void> => {
  process.kill(r.pid, 'SIGKILL');
  await r.proc;
};

// Reads the store the way an operator would, read-only, while the daemon runs (WAL allows it).
export const query = <T>(dir: string, sql: string, ...args: unknown[]): T[] => {
  const db = new Database(join(dir, 'state', 'sentryban.sqlite3'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
};

// The `ALL: ...` lines of the hosts.deny action that writeConfig sets up (state/hosts.deny).
export const denyLines = (dir: string): string[] => {
  const f = join(dir, 'state', 'hosts.deny');
  return existsSync(f)
    ? readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('ALL: '))
    : [];
};

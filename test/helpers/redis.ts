import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

// A redis-server of the test's own on loopback (Debian's redis-server), state in the test's folder, ended by
// its pid. `aof`: every write fsynced to an append-only file, so that a restart loses nothing.
export type RedisServer = {
  port: number;
  pid: () => number;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  output: () => string;
};

export const startRedis = async (dir: string, opts: { aof?: boolean; port?: number } = {}): Promise<RedisServer> => {
  const port = opts.port ?? (await freePort());
  let proc: ChildProcess | null = null;
  let out = '';
  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', opts.aof ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no');
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let ready = false;
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) ready = true;
    });
    p.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    try {
      await waitFor(() => ready || p.exitCode !== null, { timeoutMs: 10_000, what: 'redis-server ready' });
    } catch (e) {
      p.kill('SIGKILL');
      throw e;
    }
    if (!ready) throw new Error(`redis-server did not start:\n${out}`);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((res) => p.once('exit', () => res()));
    p.kill('SIGTERM');
    await gone;
  };
  await start();
  return { port, pid: () => proc?.pid ?? -1, stop, start, output: () => out };
};

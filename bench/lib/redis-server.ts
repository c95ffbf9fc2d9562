import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './measure.js';

// A redis-server of a test's or bench's own (Debian's redis-server), state in its own folder, ended by its pid.
// `aof`: every write fsynced to an append-only file, so that a restart loses nothing it acknowledged. `prefix`
// runs it through another command (`ip netns exec NS`, which execs it: the pid is redis-server's).
export type RedisServer = {
  port: number;
  pid: () => number;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  output: () => string;
};
// `user`: an ACL user (with this password) instead of the default user, which is turned off; then protected mode
// (which refuses non-loopback peers while the default user has no password) is off too.
export type RedisOptions = {
  aof?: boolean;
  port?: number;
  bind?: readonly string[];
  prefix?: readonly string[];
  user?: { name: string; password: string };
  tls?: { cert: string; key: string }; // the port speaks TLS only (clients need not show a certificate)
};

export const startRedis = async (dir: string, opts: RedisOptions = {}): Promise<RedisServer> => {
  const port = opts.port ?? (await freePort());
  let proc: ChildProcess | null = null;
  let out = '';
  const start = async (): Promise<void> => {
    const ports = opts.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key]
      : ['--port', String(port)];
    if (opts.tls) ports.push('--tls-auth-clients', 'no');
    const args = [...ports, '--bind', ...(opts.bind ?? ['127.0.0.1']), '--dir', dir, '--save', ''];
    args.push('--appendonly', opts.aof ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no');
    if (opts.user) {
      args.push('--protected-mode', 'no', '--user', 'default', 'off');
      args.push('--user', opts.user.name, 'on', `>${opts.user.password}`, '~*', '&*', '+@all');
    }
    const [cmd, ...rest] = [...(opts.prefix ?? []), 'redis-server', ...args];
    const p = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    const ready = new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), 10_000);
      p.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          res(true);
        }
      });
      p.once('exit', () => {
        clearTimeout(timer);
        res(false);
      });
    });
    p.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    if (!(await ready)) {
      p.kill('SIGKILL');
      throw new Error(`redis-server did not start:\n${out}`);
    }
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

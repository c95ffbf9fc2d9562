import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { nativeSpawn, type NativeSpawn } from './fast-spawn.js';

// How a KILL_* command ended, in 1.2's terms: it ran (whatever its exit code, as system() reported), it could
// not be executed, or it hung and was killed.
export type CommandOutcome =
  { kind: 'ran'; exitCode: number } | { kind: 'exec-fail'; reason: string } | { kind: 'timeout' };
export type CommandRunner = (argv: readonly string[]) => Promise<CommandOutcome>;
export type Starter = 'native' | 'node';

export const DEFAULT_COMMAND_TIMEOUT_MS = 30000;

// argv only, never a shell; stdio on /dev/null; killed (SIGKILL) after timeoutMs.
// The KILL_* commands sit between a probe and the block, and PortSentry 1.2 must not be faster. Measured, /bin/true,
// median of 40, one ~90 MB process: child_process.spawn 1.39-1.43 ms (it fork()s the whole daemon), a pre-started
// perl fork helper 1.04-1.13 ms, the native posix_spawn starter 0.60-0.87 ms. So: native when built, else spawn.
export const makeCommandRunner = (timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS, starter?: Starter): CommandRunner => {
  const use = starter ?? (nativeSpawn ? 'native' : 'node');
  if (use === 'node') return (argv) => runWithNode(argv, timeoutMs);
  if (!nativeSpawn) throw new Error('native command starter not built (npm ci builds it)');
  const addon = nativeSpawn;
  return (argv) => runWithNative(addon, argv, timeoutMs);
};

const signalName = (n: number): string =>
  Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;

const errnoName = (n: number): string => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

const runWithNative = (addon: NativeSpawn, argv: readonly string[], timeoutMs: number): Promise<CommandOutcome> =>
  new Promise((resolve) => {
    if (argv.length === 0 || !argv[0]) {
      resolve({ kind: 'exec-fail', reason: 'empty command' });
      return;
    }
    // A C string ends at NUL: refuse rather than run a cut argument (child_process.spawn refuses it too).
    if (argv.some((a) => a.includes('\0'))) {
      resolve({ kind: 'exec-fail', reason: 'NUL byte in the command' });
      return;
    }
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    // The child stays unreaped (a zombie at worst) until onExit runs, so its pid cannot be reused under the kill.
    const pid = addon.spawn([...argv], (code, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) resolve({ kind: 'timeout' });
      else if (signal === 0 && code >= 0) resolve({ kind: 'ran', exitCode: code });
      else resolve({ kind: 'exec-fail', reason: `killed by ${signalName(signal)}` });
    });
    if (pid < 0) {
      resolve({ kind: 'exec-fail', reason: `${errnoName(-pid)}: cannot execute ${argv[0]}` });
      return;
    }
    timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* it ended meanwhile: onExit reports it */
      }
    }, timeoutMs);
  });

const runWithNode = (argv: readonly string[], timeoutMs: number): Promise<CommandOutcome> =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (!file) {
      resolve({ kind: 'exec-fail', reason: 'empty command' });
      return;
    }
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (o: CommandOutcome): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(o);
    };
    let child: ChildProcess;
    try {
      child = spawn(file, args, { stdio: 'ignore', shell: false });
    } catch (e) {
      settle({ kind: 'exec-fail', reason: String((e as Error).message ?? e) });
      return;
    }
    timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => {
      // A spawn failure (ENOENT, EACCES) is reported here, with no 'exit'; a failed kill is not an outcome.
      if (child.pid === undefined) settle({ kind: 'exec-fail', reason: `${e.code ?? 'error'}: ${e.message}` });
    });
    child.once('exit', (code, signal) => {
      if (timedOut) settle({ kind: 'timeout' });
      else if (code !== null) settle({ kind: 'ran', exitCode: code });
      else settle({ kind: 'exec-fail', reason: `killed by ${signal ?? 'a signal'}` });
    });
  });

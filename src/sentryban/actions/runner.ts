import type { ActionFailed, ActionOutcome } from '../types.js';

// How backends run external commands: an argv array (never a shell), optional stdin, a timeout. Input given as
// pieces (sync or async) is written as they are produced (a large batch is built while the tool reads it); a piece
// that cannot be produced (a throw) fails the run and closes stdin early.
export type RunResult = { exitCode: number | null; stdout: string; stderr: string; timedOut: boolean };
export type Piece = string | Uint8Array;
export type RunOptions = { input?: string | Iterable<Piece> | AsyncIterable<Piece>; timeoutMs?: number };
export type Runner = ((argv: readonly string[], opts?: RunOptions) => Promise<RunResult>) & {
  // Where the runner can keep a tool running (a real one can; a test's wrapper function cannot): see Resident.
  readonly resident?: Resident;
};

// A tool started once and fed commands on stdin (`nft -i`), for backends whose every ban would otherwise pay a
// process start. `key` names the runner's target (its namespace prefix): runners with one key share a process.
export type Resident = {
  readonly key: string;
  readonly timeoutMs: number;
  start(argv: readonly string[], env: Readonly<Record<string, string>>): Promise<ResidentProcess>;
};

// A resident tool's process: stdin in, stderr out (its stdout is discarded), its end once.
export type ResidentProcess = {
  readonly pid: number | undefined;
  write(text: string): void;
  end(): void;
  kill(): void;
  onStderr(f: (text: string) => void): void;
  // Once: the exit code (null when killed or never started) and why, in words.
  onEnd(f: (exitCode: number | null, why: string) => void): void;
};

export const DEFAULT_TIMEOUT_MS = 30000;

// Runs through execa. `prefix` (e.g. ['ip', 'netns', 'exec', ns]) lets tests and benches aim at a namespace.
export const execaRunner = (opts: { prefix?: readonly string[]; timeoutMs?: number } = {}): Runner => {
  const prefix = opts.prefix ?? [];
  const run = async (argv: readonly string[], o: RunOptions = {}): Promise<RunResult> => {
    const full = [...prefix, ...argv];
    const [cmd, ...args] = full;
    if (!cmd) return { exitCode: null, stdout: '', stderr: 'empty argv', timedOut: false };
    // Loaded on the first command: execa is ~130 modules (3-4 MiB of an idle daemon that runs no command).
    const { execa } = await import('execa');
    const r = await execa(cmd, args, {
      reject: false,
      timeout: o.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      stripFinalNewline: false,
      maxBuffer: 1024 * 1024 * 1024,
      ...(o.input === undefined
        ? { stdin: 'ignore' as const }
        : typeof o.input === 'string'
          ? { input: o.input }
          : { stdin: o.input }),
    });
    // Failed with exit 0: the child ran but our input could not be written whole.
    const unwritten = r.failed && r.exitCode === 0;
    const exitCode = typeof r.exitCode === 'number' && !unwritten ? r.exitCode : null;
    const why = String(r.shortMessage ?? r.message ?? '');
    const stderr = unwritten ? why : String(r.stderr ?? '') || (exitCode === null ? why : '');
    return { exitCode, stdout: String(r.stdout ?? ''), stderr, timedOut: Boolean(r.timedOut) };
  };
  const resident: Resident = {
    key: JSON.stringify(prefix),
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    start: async (argv, env) => startResident([...prefix, ...argv], env),
  };
  return Object.assign(run, { resident });
};

// The process never holds the daemon open: it is unreferenced (the caller's timeout timer keeps the daemon alive
// while it waits for a reply), and it ends when the daemon does (its stdin closes; execa's cleanup kills it).
const startResident = async (
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<ResidentProcess> => {
  const [cmd, ...args] = argv;
  const { execa } = await import('execa');
  const p = execa(cmd ?? '', args, {
    reject: false,
    buffer: false,
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'pipe',
    env,
    cleanup: true,
  });
  p.unref();
  p.stdin?.on('error', () => undefined); // EPIPE when it has ended: the end is reported by onEnd
  (p.stdin as { unref?: () => void } | null)?.unref?.();
  (p.stderr as { unref?: () => void } | null)?.unref?.();
  p.stderr?.setEncoding('utf8');
  return {
    pid: p.pid,
    write: (text) => void p.stdin?.write(text),
    end: () => void p.stdin?.end(),
    kill: () => void p.kill('SIGKILL'),
    onStderr: (f) => void p.stderr?.on('data', (d: string) => f(d)),
    onEnd: (f) =>
      void p.then((r) =>
        f(
          typeof r.exitCode === 'number' ? r.exitCode : null,
          r.signal ? `killed by ${r.signal}` : String(r.shortMessage ?? `exited ${String(r.exitCode)}`),
        ),
      ),
  };
};

export const OK: ActionOutcome = { ok: true };

export const failed = (
  backend: string,
  argv: readonly string[],
  exitCode: number | null,
  stderr: string,
): ActionOutcome => ({
  ok: false,
  failure: { kind: 'ActionFailed', backend, argv: [...argv], exitCode, stderr: stderr.slice(0, 4000) },
});

// A run turned into an outcome: exit 0 is success, anything else (including a timeout or a missing tool) fails.
export const outcomeOf = (backend: string, argv: readonly string[], r: RunResult): ActionOutcome => {
  if (r.exitCode === 0 && !r.timedOut) return OK;
  const why = r.timedOut ? `timed out; ${r.stderr}` : r.stderr;
  return failed(backend, argv, r.exitCode, why.trim());
};

export const runChecked = async (
  run: Runner,
  backend: string,
  argv: readonly string[],
  opts?: RunOptions,
): Promise<{ outcome: ActionOutcome; result: RunResult }> => {
  const result = await run(argv, opts);
  return { outcome: outcomeOf(backend, argv, result), result };
};

export const isFailure = (o: ActionOutcome): o is { ok: false; failure: ActionFailed } => !o.ok;

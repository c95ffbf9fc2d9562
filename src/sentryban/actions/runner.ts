import type { ActionFailed, ActionOutcome } from '../types.js';

// How backends run external commands: an argv array (never a shell), optional stdin, a timeout. Input given as
// pieces (sync or async) is written as they are produced (a large batch is built while the tool reads it); a piece
// that cannot be produced (a throw) fails the run and closes stdin early.
export type RunResult = { exitCode: number | null; stdout: string; stderr: string; timedOut: boolean };
export type Piece = string | Uint8Array;
export type RunOptions = { input?: string | Iterable<Piece> | AsyncIterable<Piece>; timeoutMs?: number };
export type Runner = (argv: readonly string[], opts?: RunOptions) => Promise<RunResult>;

export const DEFAULT_TIMEOUT_MS = 30000;

// Runs through execa. `prefix` (e.g. ['ip', 'netns', 'exec', ns]) lets tests and benches aim at a namespace.
export const execaRunner = (opts: { prefix?: readonly string[]; timeoutMs?: number } = {}): Runner => {
  const prefix = opts.prefix ?? [];
  return async (argv, o = {}) => {
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

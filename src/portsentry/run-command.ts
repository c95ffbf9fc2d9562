import { execa } from 'execa';

// How a KILL_* command ended, in 1.2's terms: it ran (whatever its exit code, as system() reported), it could
// not be executed, or it hung and was killed.
export type CommandOutcome = { kind: 'ran'; exitCode: number } | { kind: 'exec-fail'; reason: string } | { kind: 'timeout' };
export type CommandRunner = (argv: readonly string[]) => Promise<CommandOutcome>;

export const DEFAULT_COMMAND_TIMEOUT_MS = 30000;

// argv only, never a shell; stdio detached from the daemon's.
export const makeCommandRunner = (timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): CommandRunner => async (argv) => {
  const [file, ...args] = argv;
  if (!file) return { kind: 'exec-fail', reason: 'empty command' };
  const r = await execa(file, args, { timeout: timeoutMs, reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', killSignal: 'SIGKILL' });
  if (r.timedOut) return { kind: 'timeout' };
  if (r.exitCode === undefined) return { kind: 'exec-fail', reason: r.shortMessage ?? 'could not run' };
  return { kind: 'ran', exitCode: r.exitCode };
};

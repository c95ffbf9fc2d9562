import { execa } from 'execa';

// A command on a pseudo-terminal (python3's pty module: an argv, no shell), or through a pipe, as people and
// scripts run it. On the terminal stdout and stderr arrive together, lines end in \r\n (the tty's onlcr).
export type Ran = { out: string; err: string; code: number };

const PTY_RUN = 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))';

export const runOnPty = async (argv: string[], env: Record<string, string | undefined> = {}): Promise<Ran> => {
  const r = await execa('python3', ['-c', PTY_RUN, ...argv], {
    env: { ...env, TERM: env.TERM ?? 'xterm' },
    extendEnv: true,
    input: '',
    reject: false,
    timeout: 30_000,
    stripFinalNewline: false,
  });
  return { out: r.stdout, err: r.stderr, code: r.exitCode ?? -1 };
};

export const runPiped = async (argv: string[], env: Record<string, string | undefined> = {}): Promise<Ran> => {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = await execa(cmd, args, { env, extendEnv: true, reject: false, timeout: 30_000, stripFinalNewline: false });
  return { out: r.stdout, err: r.stderr, code: r.exitCode ?? -1 };
};

// What a terminal shows as the program wrote it: \r\n back to \n.
export const fromTty = (s: string): string => s.replace(/\r\n/g, '\n');

// A reader of our stdout that went away (`sentryban regex big.log sshd | head`, a daemon's --stdout piped into a
// pager that quit): without a handler Node turns EPIPE into an uncaught exception and a stack trace.
// - 'exit' (one-shot commands): end quietly with 141 (128 + SIGPIPE, what the shell shows for a C tool killed by
//   SIGPIPE); another stdout error is reported in one line and ends with 74 (EX_IOERR).
// - 'drop' (daemons): stop copying lines to stdout and go on; they still reach syslog and the log files.
export const EXIT_BROKEN_PIPE = 141;
const EX_IOERR = 74;

let broken = false;

// Whether stdout is still worth writing to (false once it failed).
export const stdoutOpen = (): boolean => !broken;

export const handleBrokenStdout = (mode: 'exit' | 'drop'): void => {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    broken = true;
    if (mode === 'drop') return;
    if (e.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
    process.stderr.write(`sentrytools: cannot write to stdout: ${e.message}\n`);
    process.exit(EX_IOERR);
  });
};

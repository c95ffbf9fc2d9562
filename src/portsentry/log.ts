import { stdoutOpen } from '../core/stdout.js';
import { FACILITY, openSyslog, SEVERITY } from '../core/syslog.js';

// The listener's one log sink: syslog daemon.notice "portsentry[PID]" through /dev/log, as 1.2's Log() (message
// cut to 1023 bytes), and optionally each line on stdout. echo: the stdout half only, for a line that reached
// syslog another way (the -tcp alert sent from C); idle: no syslog line waiting in the queue; onQueued: called
// when a line had to wait in that queue (syslog's own queue full).
export type Logger = {
  log: (line: string) => void;
  echo: (line: string) => void;
  idle: () => boolean;
  onQueued: (fn: (() => void) | null) => void;
  close: () => Promise<void>;
  syslogAvailable: boolean;
  syslogPath: string;
};

export const SYSLOG_TAG = 'portsentry';
export const SYSLOG_PRI = FACILITY.daemon * 8 + SEVERITY.notice;

// 1.2 cuts a message to this many bytes.
export const MAX_MESSAGE = 1023;

// Ours: where lines were dropped because syslog did not read them (its queue in this process is bounded).
export const droppedLines = (n: number): string =>
  `adminalert: ${n} log lines dropped here: syslog was not reading them fast enough.`;

export const openLogger = (opts: { stdout: boolean; syslogPath?: string }): Logger => {
  const syslogPath = opts.syslogPath ?? '/dev/log';
  const sink = openSyslog({
    tag: SYSLOG_TAG,
    path: syslogPath,
    facility: FACILITY.daemon,
    severity: SEVERITY.notice,
    droppedNote: droppedLines,
  });
  const echo = (line: string): void => {
    if (opts.stdout && stdoutOpen()) process.stdout.write(`${line.replace(/\n$/, '')}\n`);
  };
  let queued: (() => void) | null = null;
  return {
    syslogAvailable: sink.available,
    syslogPath,
    echo,
    idle: () => sink.idle(),
    onQueued: (fn) => {
      queued = fn;
    },
    log(line) {
      // latin1 is one byte per character: the length test needs no Buffer on the alert path.
      sink.log(
        line.length > MAX_MESSAGE ? Buffer.from(line, 'latin1').subarray(0, MAX_MESSAGE).toString('latin1') : line,
      );
      if (queued && !sink.idle()) queued();
      echo(line);
    },
    // Give queued datagrams a moment to leave before the process exits.
    close: () =>
      new Promise((r) =>
        setTimeout(() => {
          sink.close();
          r();
        }, 30),
      ),
  };
};

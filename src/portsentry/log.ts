import { stdoutOpen } from '../core/stdout.js';
import { FACILITY, openSyslog, SEVERITY } from '../core/syslog.js';
import { openRemoteSyslog, type RemoteSyslog, type SyslogAddress } from '../core/syslog-remote.js';
import { remoteSyslogTrouble } from './lines.js';

// The listener's one log sink: syslog daemon.notice "portsentry[PID]" through /dev/log, as 1.2's Log() (message
// cut to 1023 bytes), optionally each line on stdout, and with SYSLOG_REMOTE the same message to a remote server.
// echo: the halves a line that reached /dev/log another way (the -tcp alert sent from C) still needs: stdout and
// the remote server; idle: no syslog line waiting in the queue; onQueued: called when a line had to wait in that
// queue (syslog's own queue full). remote: set once the config is read; lines logged before it (the starting and
// config lines) are sent then, with their own time.
export type Logger = {
  log: (line: string) => void;
  echo: (line: string) => void;
  remote: (address: SyslogAddress | null) => void;
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
// Lines kept for the remote server until the config says whether there is one.
const EARLY_LINES = 64;

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
  const stdout = (line: string): void => {
    if (opts.stdout && stdoutOpen()) process.stdout.write(`${line.replace(/\n$/, '')}\n`);
  };
  let remote: RemoteSyslog | null = null;
  let early: { message: string; at: Date }[] | null = [];
  // latin1 is one byte per character: the length test needs no Buffer on the alert path.
  const cut = (line: string): string =>
    line.length > MAX_MESSAGE ? Buffer.from(line, 'latin1').subarray(0, MAX_MESSAGE).toString('latin1') : line;
  const toRemote = (message: string): void => {
    if (remote) remote.log(message);
    else if (early && early.length < EARLY_LINES) early.push({ message, at: new Date() });
  };
  const echo = (line: string): void => {
    toRemote(cut(line));
    stdout(line);
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
      const message = cut(line);
      sink.log(message);
      if (queued && !sink.idle()) queued();
      toRemote(message);
      stdout(line);
    },
    remote(address) {
      const kept = early ?? [];
      early = null;
      if (!address || remote) return;
      // Said on this host only: the server is the one not answering.
      const trouble = (text: string): void => {
        const line = remoteSyslogTrouble(text);
        sink.log(line);
        stdout(line);
      };
      const r = openRemoteSyslog({
        address,
        tag: SYSLOG_TAG,
        facility: FACILITY.daemon,
        severity: SEVERITY.notice,
        onTrouble: trouble,
      });
      for (const e of kept) r.log(e.message, SEVERITY.notice, e.at);
      remote = r;
    },
    // Give queued datagrams a moment to leave before the process exits.
    close: async () => {
      await Promise.all([
        new Promise<void>((r) =>
          setTimeout(() => {
            sink.close();
            r();
          }, 30),
        ),
        remote?.close(),
      ]);
    },
  };
};

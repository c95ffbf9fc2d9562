import { openSyslog } from '../core/syslog.js';

// The listener's one log sink: syslog daemon.notice "portsentry[PID]" through /dev/log, as 1.2's Log() (message
// cut to 1023 bytes), and optionally each line on stdout.
export type Logger = { log: (line: string) => void; close: () => Promise<void>; syslogAvailable: boolean };

const MAX_MESSAGE = 1023;

export const openLogger = (opts: { stdout: boolean; syslogPath?: string }): Logger => {
  const sink = openSyslog({ tag: 'portsentry', ...(opts.syslogPath ? { path: opts.syslogPath } : {}) });
  return {
    syslogAvailable: sink.available,
    log(line) {
      // latin1 is one byte per character: the length test needs no Buffer on the alert path.
      sink.log(line.length > MAX_MESSAGE ? Buffer.from(line, 'latin1').subarray(0, MAX_MESSAGE).toString('latin1') : line);
      if (opts.stdout) process.stdout.write(`${line.replace(/\n$/, '')}\n`);
    },
    // Give queued datagrams a moment to leave before the process exits.
    close: () => new Promise((r) => setTimeout(() => { sink.close(); r(); }, 30)),
  };
};

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

// unix-dgram is a CommonJS native addon: load it lazily, in the main thread only.
const require = createRequire(import.meta.url);

export const FACILITY = { kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, authpriv: 10, local0: 16 } as const;
export const SEVERITY = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

export interface SyslogSink {
  log(message: string, severity?: number): void;
  close(): void;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// glibc's syslog(3) header: "<PRI>Mmm dd hh:mm:ss tag[pid]: " with the day padded by a space.
export const formatSyslogDatagram = (pri: number, at: Date, tag: string, pid: number, message: string): string => {
  const dd = String(at.getDate()).padStart(2, ' ');
  const t = [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return `<${pri}>${MONTHS[at.getMonth()]} ${dd} ${t} ${tag}[${pid}]: ${message}`;
};

export type SyslogOptions = { path?: string; tag: string; facility?: number; severity?: number; pid?: () => number };

// Local syslog through /dev/log (a datagram socket), as openlog(tag, LOG_PID, facility) would.
// When there is no syslog socket, messages are dropped and `available` is false: the caller decides to warn.
export const openSyslog = (opts: SyslogOptions): SyslogSink & { available: boolean } => {
  const path = opts.path ?? '/dev/log';
  const facility = opts.facility ?? FACILITY.daemon;
  const defaultSeverity = opts.severity ?? SEVERITY.notice;
  const pid = opts.pid ?? (() => process.pid);
  if (!existsSync(path)) return { available: false, log: () => {}, close: () => {} };
  const unix = require('unix-dgram') as {
    createSocket(type: string): {
      on(ev: string, fn: (...a: unknown[]) => void): void;
      send(buf: Buffer, off: number, len: number, path: string, cb?: (err?: unknown) => void): void;
      close(): void;
    };
  };
  const sock = unix.createSocket('unix_dgram');
  sock.on('error', () => {});
  return {
    available: true,
    log(message: string, severity = defaultSeverity) {
      const buf = Buffer.from(formatSyslogDatagram(facility * 8 + severity, new Date(), opts.tag, pid(), message));
      try { sock.send(buf, 0, buf.length, path, () => {}); } catch { /* syslog down: never stop the daemon */ }
    },
    close() { try { sock.close(); } catch { /* already closed */ } },
  };
};

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

// unix-dgram is a CommonJS native addon: load it lazily, in the main thread only.
const require = createRequire(import.meta.url);

export const FACILITY = { kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, authpriv: 10, local0: 16 } as const;
export const SEVERITY = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

export interface SyslogSink {
  log(message: string, severity?: number): void;
  close(): void;
  // Nothing queued: every line logged so far has been handed to the syslog socket.
  idle(): boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// What follows the time stamp in every syslog line we send, local or remote: "tag[pid]: message".
export const formatSyslogBody = (tag: string, pid: number, message: string): string => `${tag}[${pid}]: ${message}`;

// glibc's syslog(3) header: "<PRI>Mmm dd hh:mm:ss tag[pid]: " with the day padded by a space.
export const formatSyslogDatagram = (pri: number, at: Date, tag: string, pid: number, message: string): string => {
  const dd = String(at.getDate()).padStart(2, ' ');
  const t = [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return `<${pri}>${MONTHS[at.getMonth()]} ${dd} ${t} ${formatSyslogBody(tag, pid, message)}`;
};

const MAX_PENDING = 10000;

export type SyslogOptions = {
  path?: string;
  tag: string;
  facility?: number;
  severity?: number;
  pid?: () => number;
  // Lines kept while the socket is congested (default 10,000), and the text that stands where lines past that
  // bound were dropped (default: a generic one).
  maxPending?: number;
  droppedNote?: (n: number) => string;
};

// Lines dropped in a row while the queue was full: one note in the queue at the place they would have been, its
// count growing until the queue takes a line again.
type Dropped = { dropped: number };
const defaultNote = (n: number): string => `syslog: ${n} messages dropped: the syslog socket was not reading`;

// Local syslog through /dev/log (a datagram socket), as openlog(tag, LOG_PID, facility) would.
// When there is no syslog socket, messages are dropped and `available` is false: the caller decides to warn.
export const openSyslog = (opts: SyslogOptions): SyslogSink & { available: boolean } => {
  const path = opts.path ?? '/dev/log';
  const facility = opts.facility ?? FACILITY.daemon;
  const defaultSeverity = opts.severity ?? SEVERITY.notice;
  const pid = opts.pid ?? (() => process.pid);
  if (!existsSync(path)) return { available: false, log: () => {}, close: () => {}, idle: () => true };
  const unix = require('unix-dgram') as {
    createSocket(type: string): {
      on(ev: string, fn: (...a: unknown[]) => void): void;
      send(buf: Buffer, cb: (err?: unknown) => void): void;
      connect(path: string): void;
      connected?: boolean;
      close(): void;
    };
  };
  const sock = unix.createSocket('unix_dgram');
  sock.on('error', () => {});
  // /dev/log queues only net.unix.max_dgram_qlen (10) datagrams. glibc's syslog() connects and then blocks; we
  // connect too (only a connected socket reports when the receiver has room again), queue (bounded) and resend
  // in order on 'writable', so a burst of lines is not lost. A refused send (syslogd restarted) reconnects once.
  const maxPending = opts.maxPending ?? MAX_PENDING;
  const note = opts.droppedNote ?? defaultNote;
  const pending: (Buffer | Dropped)[] = [];
  let open: Dropped | null = null;
  const bytesOf = (e: Buffer | Dropped): Buffer => {
    if (Buffer.isBuffer(e)) return e;
    if (open === e) open = null;
    const text = note(e.dropped);
    return Buffer.from(formatSyslogDatagram(facility * 8 + defaultSeverity, new Date(), opts.tag, pid(), text));
  };
  let congested = false;
  const connect = (): void => {
    try {
      sock.connect(path);
    } catch {
      /* syslogd not there: lines are dropped */
    }
  };
  connect();
  const sendOne = (buf: Buffer): 'sent' | 'congested' | 'failed' => {
    let outcome: 'sent' | 'congested' | 'failed' = 'sent';
    try {
      sock.send(buf, (err?: unknown) => {
        const code = (err as { code?: unknown } | undefined)?.code;
        if (code === 1) outcome = 'congested';
        else if (err) outcome = 'failed';
      });
    } catch {
      outcome = 'failed';
    }
    return outcome;
  };
  const flush = (): void => {
    while (pending.length > 0 && !congested) {
      const buf = bytesOf(pending[0] as Buffer | Dropped);
      pending[0] = buf;
      let r = sendOne(buf);
      if (r === 'failed') {
        connect();
        r = sendOne(buf);
      }
      if (r === 'congested') {
        congested = true;
        break;
      }
      pending.shift();
    }
  };
  let closing = false;
  const closeNow = (): void => {
    try {
      sock.close();
    } catch {
      /* already closed */
    }
  };
  sock.on('writable', () => {
    congested = false;
    flush();
    if (closing && pending.length === 0) closeNow();
  });
  return {
    available: true,
    idle: () => pending.length === 0,
    log(message: string, severity = defaultSeverity) {
      // Never silently: past the bound, the lines dropped are counted in one note where they would have been.
      if (pending.length >= maxPending) {
        if (!open) {
          open = { dropped: 0 };
          pending.push(open);
        }
        open.dropped++;
        return;
      }
      open = null;
      pending.push(Buffer.from(formatSyslogDatagram(facility * 8 + severity, new Date(), opts.tag, pid(), message)));
      flush();
    },
    // Lines still queued get up to a second to leave.
    close() {
      closing = true;
      if (pending.length === 0) {
        closeNow();
        return;
      }
      setTimeout(closeNow, 1000);
    },
  };
};

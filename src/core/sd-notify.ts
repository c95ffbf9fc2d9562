import { createRequire } from 'node:module';
import { getSystemErrorName } from 'node:util';

// systemd's notification protocol (sd_notify(3)) for `Type=notify`: one datagram of `KEY=value` lines sent to the
// AF_UNIX socket named by $NOTIFY_SOCKET. Node has no datagram unix sockets; unix-dgram (already the syslog
// sink's) sends it. systemd as PID 1 gives a socket path (/run/systemd/notify); an abstract name ("@...") cannot
// be reached through unix-dgram, which is said once on stderr (the unit then times out rather than lie).
// Without $NOTIFY_SOCKET (not under systemd, or Type=simple) every call is a no-op.
// Each notification opens a socket, sends one datagram (a synchronous sendto) and closes it: nothing is held
// between them, so no open handle keeps the process alive on any exit path.
export type Notifier = { notify(state: Record<string, string | number>): void };

const require = createRequire(import.meta.url);
type Dgram = {
  on(ev: string, fn: (...a: unknown[]) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: unknown) => void): void;
  close(): void;
};

// unix-dgram's errors carry a negative errno ("send -2"): said by name (ENOENT), as Node's own errors.
const describe = (e: unknown): string => {
  const { code, syscall } = e as { code?: unknown; syscall?: unknown };
  if (typeof code === 'number' && code < 0) return `${String(syscall)}: ${getSystemErrorName(code)}`;
  return e instanceof Error ? e.message : String(e);
};

const NONE: Notifier = { notify: () => {} };

// The datagram: one KEY=value per line (the values are ours: no newline inside).
export const formatNotify = (state: Record<string, string | number>): string =>
  Object.entries(state)
    .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
    .join('\n');

// Reads and unsets $NOTIFY_SOCKET (sd_notify's unset_environment): the commands the daemon runs must not
// take the socket for theirs.
export const openNotifier = (warn: (m: string) => void, env: NodeJS.ProcessEnv = process.env): Notifier => {
  const path = env.NOTIFY_SOCKET;
  delete env.NOTIFY_SOCKET;
  if (!path) return NONE;
  if (!path.startsWith('/')) {
    warn(`NOTIFY_SOCKET=${path}: only a socket path is supported (no abstract or vsock address); not notifying`);
    return NONE;
  }
  const unix = require('unix-dgram') as { createSocket(type: string): Dgram };
  return {
    notify(state) {
      const buf = Buffer.from(formatNotify(state));
      const sock = unix.createSocket('unix_dgram');
      const fault = (e: unknown): void => warn(`NOTIFY_SOCKET ${path}: ${describe(e)}`);
      sock.on('error', fault);
      try {
        sock.send(buf, 0, buf.length, path, (e) => {
          if (e) fault(e);
        });
      } finally {
        sock.close();
      }
    },
  };
};

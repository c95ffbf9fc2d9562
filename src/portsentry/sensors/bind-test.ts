import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { nativeBindTest } from './bindtest-addon.js';
import type { BindTest } from './smart-verify.js';
import type { WatchProto } from './watch-ports.js';

// True when a daemon holds the port now: binding the wildcard address of that family fails. This is 1.2's
// bind test (INADDR_ANY), extended to IPv6 (:: with IPV6_V6ONLY, so a v4-only daemon does not hide v6 probes).
// EADDRINUSE and EACCES mean "held"; any other failure, like 1.2's failed socket(), means "free".
const HELD = new Set([constants.errno.EADDRINUSE, constants.errno.EACCES]);

// The native test (native/bindtest.c): synchronous, no SO_REUSEADDR, no listen(), as 1.2 binds. null when the
// addon is not built.
export const isPortInUseNative: ((proto: WatchProto, family: 4 | 6, port: number) => boolean) | null = nativeBindTest
  ? (proto, family, port) => HELD.has(nativeBindTest!(proto === 'udp', family, port))
  : null;

// The fallback through Node: asynchronous, a loop turn or two. TCP goes through listen() because Node cannot
// bind a TCP socket without listening, and libuv sets SO_REUSEADDR on it, so a port held only by TIME_WAIT or
// other non-listening sockets reads "free" here and "held" natively (and in 1.2); a listener reads "held" in both.
export const isPortInUseNode = (proto: WatchProto, family: 4 | 6, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const host = family === 4 ? '0.0.0.0' : '::';
    if (proto === 'tcp') {
      const srv = createServer();
      srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
      srv.listen({ port, host, exclusive: true, ipv6Only: family === 6, backlog: 1 }, () =>
        srv.close(() => resolve(false)),
      );
      return;
    }
    const sock = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      sock.close();
      resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES');
    });
    sock.bind({ port, address: host, exclusive: true }, () => sock.close(() => resolve(false)));
  });

export const isPortInUse: BindTest = isPortInUseNative ?? isPortInUseNode;

// The start-up bind test over many ports, a few at a time (1.2 does them one by one; the answer is the same).
export const findPortsInUse = async (
  proto: WatchProto,
  ports: Iterable<number>,
  parallel = 32,
  test: BindTest = isPortInUse,
): Promise<Set<number>> => {
  const todo = [...new Set(ports)];
  const used = new Set<number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const port = todo[next++] as number;
      if (await test(proto, 4, port)) used.add(port);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
  return used;
};

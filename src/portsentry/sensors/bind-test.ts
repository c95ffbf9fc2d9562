import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { WatchProto } from './watch-ports.js';

// True when a daemon holds the port now: binding the wildcard address of that family fails. This is 1.2's
// bind test (INADDR_ANY), extended to IPv6 (:: with IPV6_V6ONLY, so a v4-only daemon does not hide v6 probes).
// TCP goes through listen() because Node cannot bind a TCP socket without listening; the socket is closed at once.
export const isPortInUse = (proto: WatchProto, family: 4 | 6, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const host = family === 4 ? '0.0.0.0' : '::';
    if (proto === 'tcp') {
      const srv = createServer();
      srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
      srv.listen({ port, host, exclusive: true, ipv6Only: family === 6, backlog: 1 }, () => srv.close(() => resolve(false)));
      return;
    }
    const sock = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
    sock.once('error', (e: NodeJS.ErrnoException) => { sock.close(); resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'); });
    sock.bind({ port, address: host, exclusive: true }, () => sock.close(() => resolve(false)));
  });

// The start-up bind test over many ports, a few at a time (1.2 does them one by one; the answer is the same).
export const findPortsInUse = async (proto: WatchProto, ports: Iterable<number>, parallel = 32): Promise<Set<number>> => {
  const todo = [...new Set(ports)];
  const used = new Set<number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const port = todo[next++] as number;
      if (await isPortInUse(proto, 4, port)) used.add(port);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
  return used;
};

import { createServer, type Server, type Socket } from 'node:net';
import { Serial } from '../../core/serial.js';
import { parseAddr, type Addr } from '../../core/addr.js';
import { recoverPeer } from './peer-name.js';
import type { OnTrapConn, TrapPorts } from './tcp-trap.js';

const listen = (server: Server, port: number, host: string): Promise<NodeJS.ErrnoException | null> =>
  new Promise((resolve) => {
    const onError = (e: NodeJS.ErrnoException): void => resolve(e);
    server.once('error', onError);
    server.listen({ port, host, backlog: 5, ipv6Only: false, exclusive: true }, () => {
      server.off('error', onError);
      resolve(null);
    });
  });

// Dual-stack first (IPv4 arrives as IPv4-mapped and is unwrapped); plain IPv4 when the host has no IPv6.
const bindTcp = async (port: number): Promise<Server | null> => {
  for (const host of ['::', '0.0.0.0']) {
    const server = createServer({ pauseOnConnect: true });
    const err = await listen(server, port, host);
    if (!err) return server;
    server.close();
    if (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL') return null;
  }
  return null;
};

// The fallback trap ports when the addon is not built: Node's net.Server (libuv sets SO_REUSEADDR on it).
// Connections are handed on in accept order, even when one needs the slow peer lookup (a reset connection:
// peer-name.ts); while no lookup is pending, a connection goes straight on.
export const nodeTrapPorts = (): TrapPorts => {
  const servers: Server[] = [];
  const order = new Serial();
  const hand = (onConn: OnTrapConn, sock: Socket, src: Addr | null): void => {
    let done = false;
    onConn({
      src,
      finish(banner) {
        if (done) return;
        done = true;
        if (!src) {
          sock.destroy();
          return;
        }
        if (banner) sock.end(banner);
        else sock.end();
        setTimeout(() => sock.destroy(), 2000).unref();
      },
    });
  };
  return {
    async bind(port: number, onConn: OnTrapConn) {
      const server = await bindTcp(port);
      if (!server) return false;
      server.on('connection', (sock: Socket) => {
        sock.on('error', () => {});
        const direct = parseAddr(sock.remoteAddress ?? '');
        // The lookup starts now; its connection is handed on in its turn.
        const lookup = direct ? null : recoverPeer(sock);
        void order.run(() => (lookup ? lookup.then((p) => hand(onConn, sock, p)) : hand(onConn, sock, direct)));
      });
      server.on('error', () => {});
      servers.push(server);
      return true;
    },
    async close() {
      await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
};

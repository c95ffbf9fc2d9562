import { createServer, type Server, type Socket } from 'node:net';
import { parseAddr, type Addr } from '../../core/addr.js';
import * as L from '../lines.js';
import { recoverPeer } from './peer-name.js';
import { isBindablePort, modePorts } from './ports.js';
import type { Sensor, SensorFactory } from './types.js';

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

// -tcp: bind each TCP_PORTS port and treat every completed connection as a probe.
export const tcpSensor: SensorFactory = (conf, ctx): Sensor => {
  const servers: Server[] = [];
  // Connections are handed on in accept order, even when one needs the slow peer lookup; while no lookup is
  // pending, a connection goes straight to the pipeline.
  let order: Promise<void> = Promise.resolve();
  let pending = 0;
  const hand = (port: number, sock: Socket, src: Addr | null): void => {
    if (!src) { ctx.log(L.acceptFailed(port)); sock.destroy(); return; }
    let closed = false;
    const close = (banner?: string | null): void => {
      if (closed) return;
      closed = true;
      // After the alert line and the command's start, which the pipeline runs synchronously up to here: the
      // stream machinery of end() is not on the alert path (the peer sees the same banner and FIN).
      setImmediate(() => { if (banner) sock.end(banner); else sock.end(); });
      setTimeout(() => sock.destroy(), 2000).unref();
    };
    ctx.submit({ proto: 'tcp', mode: 'tcp', src, dstPort: port, at: ctx.clock.now() },
      { onAlarm: (banner) => close(banner), onDone: () => close() });
  };
  const onConnection = (port: number) => (sock: Socket): void => {
    sock.on('error', () => {});
    const direct = parseAddr(sock.remoteAddress ?? '');
    if (direct && pending === 0) { hand(port, sock, direct); return; }
    pending++;
    const peer: Promise<Addr | null> = direct ? Promise.resolve(direct) : recoverPeer(sock);
    order = order.then(async () => { hand(port, sock, await peer); pending--; });
  };
  return {
    async start() {
      const ports = modePorts(conf, 'tcp', ctx.log);
      if (!ports) return false;
      for (const port of ports) {
        ctx.log(L.listening('TCP', port));
        const server = isBindablePort(port) ? await bindTcp(port) : null;
        if (!server) { ctx.log(L.cannotBind('TCP', port)); continue; }
        server.on('connection', onConnection(port));
        server.on('error', () => {});
        servers.push(server);
      }
      if (servers.length === 0) { ctx.log(L.cannotBindAny('TCP')); return false; }
      return true;
    },
    async stop() {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
};

import { createSocket, type Socket } from 'node:dgram';
import { parseAddr } from '../../core/addr.js';
import * as L from '../lines.js';
import { isBindablePort, modePorts } from './ports.js';
import type { Sensor, SensorFactory } from './types.js';

const bindOne = (type: 'udp6' | 'udp4', port: number): Promise<Socket | null> =>
  new Promise((resolve) => {
    const sock = createSocket({ type, ipv6Only: false, reuseAddr: false });
    sock.once('error', () => {
      sock.close();
      resolve(null);
    });
    sock.bind({ port, address: type === 'udp6' ? '::' : '0.0.0.0', exclusive: true }, () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
  });

const bindUdp = async (port: number): Promise<Socket | null> => (await bindOne('udp6', port)) ?? bindOne('udp4', port);

// -udp: bind each UDP_PORTS port; any datagram is a probe.
export const udpSensor: SensorFactory = (conf, ctx): Sensor => {
  const socks: Socket[] = [];
  return {
    async start() {
      const ports = modePorts(conf, 'udp', ctx.log);
      if (!ports) return false;
      for (const port of ports) {
        ctx.log(L.listening('UDP', port));
        const sock = isBindablePort(port) ? await bindUdp(port) : null;
        if (!sock) {
          ctx.log(L.cannotBind('UDP', port));
          continue;
        }
        sock.on('error', () => ctx.log(L.udpRecvFailed(port)));
        sock.on('message', (_msg, rinfo) => {
          const src = parseAddr(rinfo.address);
          if (!src) return;
          ctx.submit(
            { proto: 'udp', mode: 'udp', src, dstPort: port, at: ctx.clock.now() },
            {
              onAlarm: (banner) => {
                if (banner) sock.send(banner, rinfo.port, rinfo.address, () => {});
              },
            },
          );
        });
        socks.push(sock);
      }
      if (socks.length === 0) {
        ctx.log(L.cannotBindAny('UDP'));
        return false;
      }
      return true;
    },
    async stop() {
      await Promise.all(
        socks.map(
          (s) =>
            new Promise<void>((r) => {
              try {
                s.close(() => r());
              } catch {
                r();
              }
            }),
        ),
      );
    },
  };
};

import { describe, expect } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { findPortsInUse, isPortInUse } from '../../../src/portsentry/sensors/bind-test.js';
import { itReal } from '../../helpers/real.js';

// Real sockets on this host's wildcard addresses, on ports the kernel picks: no traffic leaves loopback.
describe('bind test (smart-verify and the start-up scan)', () => {
  itReal({})('sees a TCP listener and a UDP socket, and their ports free again once closed', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen({ port: 0, host: '0.0.0.0' }, r));
    const tcpPort = (srv.address() as AddressInfo).port;
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind({ port: 0, address: '0.0.0.0' }, r));
    const udpPort = udp.address().port;
    try {
      expect(await isPortInUse('tcp', 4, tcpPort)).toBe(true);
      expect(await isPortInUse('udp', 4, udpPort)).toBe(true);
      expect(await findPortsInUse('tcp', [tcpPort, tcpPort])).toEqual(new Set([tcpPort]));
      // A v4-only listener does not hold the IPv6 port.
      expect(await isPortInUse('tcp', 6, tcpPort)).toBe(false);
    } finally {
      await new Promise((r) => srv.close(r));
      await new Promise<void>((r) => udp.close(() => r()));
    }
    expect(await isPortInUse('tcp', 4, tcpPort)).toBe(false);
    expect(await isPortInUse('udp', 4, udpPort)).toBe(false);
  });
});

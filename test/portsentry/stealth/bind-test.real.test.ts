import { describe, expect } from '@jest/globals';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { nativeBindTestStatus } from '../../../src/portsentry/sensors/bindtest-addon.js';
import {
  findPortsInUse,
  isPortInUse,
  isPortInUseNative,
  isPortInUseNode,
} from '../../../src/portsentry/sensors/bind-test.js';
import type { BindTest } from '../../../src/portsentry/sensors/smart-verify.js';
import { itReal } from '../../helpers/real.js';

// Real sockets on this host's wildcard addresses, on ports the kernel picks: no traffic leaves loopback.
const isCi = process.env.CI === 'true';
const tcpOn = async (host: string, ipv6Only = false): Promise<Server> => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen({ port: 0, host, ipv6Only }, r));
  return srv;
};
const udpOn = async (type: 'udp4' | 'udp6', address: string): Promise<Socket> => {
  const sock = createSocket({ type, ipv6Only: type === 'udp6' });
  await new Promise<void>((r) => sock.bind({ port: 0, address }, r));
  return sock;
};
const closeTcp = (s: Server) => new Promise((r) => s.close(r));
const closeUdp = (s: Socket) => new Promise<void>((r) => s.close(() => r()));

// Both paths: the native synchronous test (when built) and Node's asynchronous fallback.
const paths: [string, BindTest | null][] = [
  ['native', isPortInUseNative],
  ['node', isPortInUseNode],
];

describe('bind test (smart-verify and the start-up scan)', () => {
  itReal({})('the native bind test is built and in use (fails in CI when not built)', () => {
    if (!isCi && !isPortInUseNative) {
      console.log(`native bind test absent: ${nativeBindTestStatus}`);
      return;
    }
    expect(isPortInUseNative).not.toBeNull();
    expect(isPortInUse).toBe(isPortInUseNative);
  });

  for (const [name, test] of paths) {
    describe(`${name} path`, () => {
      itReal({})(
        'sees a TCP listener and a UDP socket, v4 and v6, and their ports free again once closed',
        async () => {
          if (!test) {
            console.log(`native bind test absent: ${nativeBindTestStatus}`);
            return;
          }
          const t4 = await tcpOn('0.0.0.0');
          const t6 = await tcpOn('::', true);
          const u4 = await udpOn('udp4', '0.0.0.0');
          const u6 = await udpOn('udp6', '::');
          const [p4, p6] = [(t4.address() as AddressInfo).port, (t6.address() as AddressInfo).port];
          const [q4, q6] = [u4.address().port, u6.address().port];
          try {
            expect(await test('tcp', 4, p4)).toBe(true);
            expect(await test('tcp', 6, p6)).toBe(true);
            expect(await test('udp', 4, q4)).toBe(true);
            expect(await test('udp', 6, q6)).toBe(true);
            // Family-only sockets hold only their own family's port (the v6 test binds with IPV6_V6ONLY).
            expect(await test('tcp', 6, p4)).toBe(false);
            expect(await test('udp', 6, q4)).toBe(false);
            // The protocol matters: a TCP listener does not hold the UDP port of the same number.
            expect(await test('udp', 4, p4)).toBe(false);
            expect(await findPortsInUse('tcp', [p4, p4, p6], 32, test)).toEqual(new Set([p4]));
          } finally {
            await Promise.all([closeTcp(t4), closeTcp(t6), closeUdp(u4), closeUdp(u6)]);
          }
          expect(await test('tcp', 4, p4)).toBe(false);
          expect(await test('tcp', 6, p6)).toBe(false);
          expect(await test('udp', 4, q4)).toBe(false);
          expect(await test('udp', 6, q6)).toBe(false);
        },
      );

      itReal({})('a dual-stack listener on :: holds the port in both families', async () => {
        if (!test) {
          console.log(`native bind test absent: ${nativeBindTestStatus}`);
          return;
        }
        const srv = await tcpOn('::', false);
        const port = (srv.address() as AddressInfo).port;
        try {
          expect(await test('tcp', 4, port)).toBe(true);
          expect(await test('tcp', 6, port)).toBe(true);
        } finally {
          await closeTcp(srv);
        }
      });
    });
  }

  itReal({})('the native and the Node paths agree on listeners and free ports', async () => {
    if (!isPortInUseNative) {
      console.log(`native bind test absent: ${nativeBindTestStatus}`);
      return;
    }
    const held = await Promise.all([tcpOn('0.0.0.0'), tcpOn('::', true), tcpOn('0.0.0.0')]);
    const ports = held.map((s) => (s.address() as AddressInfo).port);
    await closeTcp(held.pop() as Server); // now free
    try {
      for (const family of [4, 6] as const) {
        for (const port of ports) {
          expect([family, port, isPortInUseNative('tcp', family, port)]).toEqual([
            family,
            port,
            await isPortInUseNode('tcp', family, port),
          ]);
        }
      }
    } finally {
      await Promise.all(held.map(closeTcp));
    }
  });

  itReal({})('the native test refuses an out-of-range port instead of truncating it', () => {
    const native = isPortInUseNative;
    if (!native) {
      console.log(`native bind test absent: ${nativeBindTestStatus}`);
      return;
    }
    expect(() => native('tcp', 4, 70000)).toThrow(/port: 0..65535/);
  });
});

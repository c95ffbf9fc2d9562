import { describe, expect, it } from '@jest/globals';
import { parseRouteV4, parseRouteV6 } from '../../src/portsentry/gateways.js';

// Texts as the kernel prints them (captured in a namespace with `ip route add default via 192.0.2.254` and
// `ip -6 route add default via 2001:db8::fffe`).
const V4 = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
stvx\t00000000\tFE0200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
stvx\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
stvx\t00643300\t010200C0\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;
const V6 = `20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 stvx
00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db800000000000000000000fffe 00000400 00000001 00000000 00000003 stvx
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo
`;

describe('default gateways from the routing tables', () => {
  it("IPv4: only the default route's gateway, not other routes' next hops", () => {
    expect(parseRouteV4(V4).map(String)).toEqual(['192.0.2.254']);
  });
  it("IPv6: the default route's next hop; the unreachable default on lo has none", () => {
    expect(parseRouteV6(V6).map(String)).toEqual(['2001:db8::fffe']);
  });
  it('no default route, or garbage: none', () => {
    expect(parseRouteV4('Iface\tDestination\n')).toEqual([]);
    expect(parseRouteV6('x y z\n')).toEqual([]);
  });
});

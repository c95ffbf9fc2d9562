import ipaddr from 'ipaddr.js';
import { Addr, parseAddr } from '../../core/addr.js';
import type { NativeTrap } from './trap-addon.js';
import type { OnTrapConn, TrapConn, TrapPorts } from './tcp-trap.js';

// IPv4 comes from C as a number: the address is built from its octets, no text to parse on the alert path.
const fromV4 = (n: number): Addr =>
  Addr.fromIp(new ipaddr.IPv4([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));

// The native trap ports (native/trapaccept.c): accept() in C on Node's loop, the peer straight from accept (a
// connection reset right after the handshake keeps its address), the banner sent and the socket closed in C.
export const nativeTrapPorts = (trap: NativeTrap): TrapPorts => {
  const ids: number[] = [];
  return {
    async bind(port: number, onConn: OnTrapConn) {
      const id = trap.listen(port, (connId, family, v4, v6, alerted) => {
        const src = family === 4 ? fromV4(v4) : family === 6 ? parseAddr(v6) : null;
        let done = connId === 0;
        const conn: TrapConn = {
          src,
          alerted,
          finish(banner) {
            if (done) return;
            done = true;
            trap.finish(connId, banner);
          },
        };
        onConn(conn);
      });
      if (id <= 0) return false;
      ids.push(id);
      return true;
    },
    async close() {
      for (const id of ids.splice(0)) trap.close(id);
    },
  };
};

import type { Addr } from '../../core/addr.js';

// One accepted connection on a -tcp trap port: its peer (null: accept failed or no usable peer), whether its
// attackalert line already left from C (native traps, when armed), and the answer, called once: the banner (if
// any) is sent and the connection closed. Connections reach onConn in accept order.
export type TrapConn = { src: Addr | null; alerted?: boolean; finish(banner: string | null): void };
export type OnTrapConn = (conn: TrapConn) => void;

// The trap ports of one sensor: bind() one port (false: it could not be bound, 1.2's "could not bind"), close()
// every listener and every connection not yet finished.
export interface TrapPorts {
  bind(port: number, onConn: OnTrapConn): Promise<boolean>;
  close(): Promise<void>;
}

export type TrapKind = 'native' | 'node';

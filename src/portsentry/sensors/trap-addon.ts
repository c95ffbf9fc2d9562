import { loadAddon } from '../../core/addon.js';
import { ALERT_TABLE_VERSION } from '../alert-table.js';

// The loader of trap.node (native/trap.h): the -tcp trap ports (native/trapaccept.c) and the attackalert line
// sent from C at accept time (native/trapalert.c).
// Trap ports: listen() binds :: dual-stack (0.0.0.0 without IPv6), backlog 5, SO_REUSEADDR as net.Server, and
// polls on Node's loop; it returns the trap id (> 0) or -errno. onConn gets each accepted peer (id 0: accept
// failed); finish(id, banner) sends the banner and closes, once; close(id) closes the listener and every
// connection not yet finished; pending() counts those. The peer: family 4 with the address as a number (host
// order), family 6 with its text, family 0 when unknown; alerted: its attackalert line left from C.
export type NativeTrap = {
  listen(
    port: number,
    onConn: (id: number, family: 0 | 4 | 6, v4: number, v6: string, alerted: boolean) => void,
  ): number;
  finish(id: number, banner: string | null): boolean;
  close(id: number): boolean;
  pending(): number;
  alert: NativeAlert;
};

// The alert line from C, one per process (one daemon, one pipeline), shared by its trap ports. It does what the
// table (src/portsentry/alert-table.ts) says and nothing else: open(path) connects to the syslog socket, table()
// takes a table (null: none; throws on one it cannot read), ready(flag) arms it (true only with both), stats()
// counts peers alerted and handed to JS while armed, preview() is the datagram the table makes for a peer during
// an epoch second (null: handed to JS), for tests.
export type NativeAlert = {
  tableVersion: number;
  open(path: string): boolean;
  table(bytes: Uint8Array | null): void;
  ready(flag: boolean): boolean;
  stats(): { sent: number; handed: number };
  preview(bytes: Uint8Array, port: number, second: number): string | null;
};

const loaded = loadAddon<NativeTrap>('trap');
// null: the -tcp sensor keeps Node's net.Server.
export const nativeTrap: NativeTrap | null = typeof loaded.addon?.listen === 'function' ? loaded.addon : null;
// null: every line comes from the pipeline (also when the addon reads another version of the table).
export const nativeAlert: NativeAlert | null =
  nativeTrap?.alert?.tableVersion === ALERT_TABLE_VERSION ? nativeTrap.alert : null;
export const nativeTrapStatus: string = loaded.why;

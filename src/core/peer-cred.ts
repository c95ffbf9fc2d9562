import type { Socket } from 'node:net';
import { loadAddon } from './addon.js';

// Who is at the other end of a connected unix socket: SO_PEERCRED (pid, uid, gid at connect(), recorded by the
// kernel) through its native addon, peercred.node (native/peercred.c, native/peercred.h; this is its loader).
export type PeerCred = { pid: number; uid: number; gid: number };

type Addon = { peerCred?: (fd: number) => [number, number, number] | number };
const load = (): { fn: Addon['peerCred'] | null; why: string } => {
  const { addon, why } = loadAddon<Addon>('peercred');
  if (!addon) return { fn: null, why };
  if (typeof addon.peerCred !== 'function') return { fn: null, why: 'peercred.node has no peerCred' };
  return { fn: addon.peerCred, why };
};
const loaded = load();

// Why peer credentials cannot be read here ('loaded' when they can).
export const peerCredStatus: string = loaded.why;

// The peer of a connected socket; a string says why it is unknown (no addon, no fd, getsockopt failed).
export const peerCredOf = (sock: Socket): PeerCred | string => {
  if (!loaded.fn) return loaded.why;
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return 'no file descriptor';
  const r = loaded.fn(fd);
  if (typeof r === 'number') return `SO_PEERCRED failed (errno ${-r})`;
  return { pid: r[0], uid: r[1], gid: r[2] };
};

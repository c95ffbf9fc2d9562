import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

// Who is at the other end of a connected unix socket: SO_PEERCRED (pid, uid, gid at connect(), recorded by the
// kernel) through the native addon (native/peercred.c, built with native/fastspawn.c at `npm ci`).
export type PeerCred = { pid: number; uid: number; gid: number };

// Same path from src/core (tests) and dist/core (the daemons): both sit two levels under the root.
const ADDON = fileURLToPath(new URL('../../build/Release/fastspawn.node', import.meta.url));

type Addon = { peerCred?: (fd: number) => [number, number, number] | number };
const load = (): { fn: Addon['peerCred'] | null; why: string } => {
  try {
    const a = createRequire(import.meta.url)(ADDON) as Addon;
    if (typeof a.peerCred !== 'function') return { fn: null, why: 'addon built without peercred.c' };
    return { fn: a.peerCred, why: 'loaded' };
  } catch (e) {
    return { fn: null, why: `native addon not built (${(e as Error).message.split('\n')[0]})` };
  }
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

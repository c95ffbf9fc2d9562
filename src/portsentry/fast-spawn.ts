import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The native addon built from native/fastspawn.c, bindtest.c and trapaccept.c by node-gyp at `npm ci` (package.json
// "install"). Its starter: posix_spawnp (glibc: clone(CLONE_VM|CLONE_VFORK), the daemon's memory is not copied
// as fork() copies it) and a pidfd polled on Node's own loop for the exit status. spawn() returns the pid, or
// -errno when the command could not be started (exec failures included); onExit gets (exit code or -1, signal
// number or 0).
export type NativeSpawn = {
  spawn(argv: string[], onExit: (code: number, signal: number) => void): number;
  pidfdSupported: boolean;
};

// Its bind test: synchronous socket() + bind() on the wildcard address + close(), no SO_REUSEADDR (1.2's
// smart-verify). Returns 0 (bound: the port is free), the bind errno, or -errno when no socket could be opened.
export type NativeBindTest = (udp: boolean, family: 4 | 6, port: number) => number;

// Same path from src/portsentry (tests) and dist/portsentry (the daemon): both sit two levels under the root.
const ADDON = fileURLToPath(new URL('../../build/Release/fastspawn.node', import.meta.url));

// Its -tcp trap ports (native/trapaccept.c): listen() binds :: dual-stack (0.0.0.0 without IPv6), backlog 5,
// SO_REUSEADDR as net.Server, and polls on Node's loop; it returns the trap id (> 0) or -errno.
// onConn gets each accepted peer
// (id 0: accept failed); finish(id, banner) sends the banner and closes, once; close(id) closes the listener
// and every connection not yet finished; pending() counts those. The peer: family 4 with the address as a
// number (host order), family 6 with its text, family 0 when unknown; alerted: its attackalert line was sent
// from C (native/trapalert.c, armed through the alert* functions: see src/portsentry/fast-alert.ts; one such
// path per process, shared by its trap ports, as one daemon has one pipeline).
export type NativeTrap = {
  listen(
    port: number,
    onConn: (id: number, family: 0 | 4 | 6, v4: number, v6: string, alerted: boolean) => void,
  ): number;
  finish(id: number, banner: string | null): boolean;
  close(id: number): boolean;
  pending(): number;
  alertOpen(path: string, pri: number, ident: string): boolean;
  alertSnapshot(files: [string, bigint[] | null][] | null, cidrs?: Uint8Array): boolean;
  alertReady(flag: boolean): boolean;
  alertStats(): { sent: number; ignored: number; handed: number };
  ntop(bytes: Uint8Array): string | null;
};

type Addon = NativeSpawn & { bindTest?: NativeBindTest; trap?: NativeTrap };

const load = (): { addon: Addon | null; why: string } => {
  try {
    return { addon: createRequire(import.meta.url)(ADDON) as Addon, why: 'loaded' };
  } catch (e) {
    return { addon: null, why: `not built (${(e as Error).message.split('\n')[0]})` };
  }
};

const loaded = load();
const spawnOk = loaded.addon?.pidfdSupported === true;
// null: the caller keeps child_process.spawn (same outcomes, ~0.5-0.8 ms slower per command here).
export const nativeSpawn: NativeSpawn | null = spawnOk ? loaded.addon : null;
export const nativeSpawnStatus: string = loaded.addon && !spawnOk ? 'pidfd_open unsupported (Linux < 5.3)' : loaded.why;
// null: the caller keeps Node's asynchronous listen()/bind() test (an addon built before bindtest.c has none).
export const nativeBindTest: NativeBindTest | null =
  typeof loaded.addon?.bindTest === 'function' ? loaded.addon.bindTest : null;
// null: the -tcp sensor keeps Node's net.Server (an addon built before trapaccept.c has none).
export const nativeTrap: NativeTrap | null =
  typeof loaded.addon?.trap?.alertOpen === 'function' ? loaded.addon.trap : null;

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The native starter built from native/fastspawn.c by node-gyp at `npm ci` (package.json "install"):
// posix_spawnp (glibc: clone(CLONE_VM|CLONE_VFORK), the daemon's memory is not copied as fork() copies it) and
// a pidfd polled on Node's own loop for the exit status. spawn() returns the pid, or -errno when the command
// could not be started (exec failures included); onExit gets (exit code or -1, signal number or 0).
export type NativeSpawn = {
  spawn(argv: string[], onExit: (code: number, signal: number) => void): number;
  pidfdSupported: boolean;
};

// Same path from src/portsentry (tests) and dist/portsentry (the daemon): both sit two levels under the root.
const ADDON = fileURLToPath(new URL('../../build/Release/fastspawn.node', import.meta.url));

const load = (): { addon: NativeSpawn | null; why: string } => {
  try {
    const addon = createRequire(import.meta.url)(ADDON) as NativeSpawn;
    if (!addon.pidfdSupported) return { addon: null, why: 'pidfd_open unsupported (Linux < 5.3)' };
    return { addon, why: 'loaded' };
  } catch (e) {
    return { addon: null, why: `not built (${(e as Error).message.split('\n')[0]})` };
  }
};

const loaded = load();
// null: the caller keeps child_process.spawn (same outcomes, ~0.5-0.8 ms slower per command here).
export const nativeSpawn: NativeSpawn | null = loaded.addon;
export const nativeSpawnStatus: string = loaded.why;

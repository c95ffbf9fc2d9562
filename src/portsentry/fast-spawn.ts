import { loadAddon } from '../core/addon.js';

// The loader of fastspawn.node (native/fastspawn.c, native/fastspawn.h): the command starter. posix_spawnp
// (glibc: clone(CLONE_VM|CLONE_VFORK), the daemon's memory is not copied as fork() copies it) and a pidfd polled
// on Node's own loop for the exit status. spawn() returns the pid, or -errno when the command could not be
// started (exec failures included); onExit gets (exit code or -1, signal number or 0).
export type NativeSpawn = {
  spawn(argv: string[], onExit: (code: number, signal: number) => void): number;
  pidfdSupported: boolean;
};

const loaded = loadAddon<NativeSpawn>('fastspawn');
const spawnOk = loaded.addon?.pidfdSupported === true;
// null: the caller keeps child_process.spawn (same outcomes, ~0.5-0.8 ms slower per command here).
export const nativeSpawn: NativeSpawn | null = spawnOk ? loaded.addon : null;
export const nativeSpawnStatus: string = loaded.addon && !spawnOk ? 'pidfd_open unsupported (Linux < 5.3)' : loaded.why;

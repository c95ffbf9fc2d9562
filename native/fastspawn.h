// fastspawn.node: start a command with posix_spawnp and learn its end through a pidfd (native/fastspawn.c).
// Loaded by src/portsentry/fast-spawn.ts. Its exports:
//   spawn(argv: string[], onExit(code, signal)): the child's pid (> 0), or -errno when it could not be started
//   pidfdSupported: boolean (pidfd_open needs Linux >= 5.3; without it the caller keeps child_process.spawn)
#ifndef SENTRYTOOLS_FASTSPAWN_H
#define SENTRYTOOLS_FASTSPAWN_H
// The most argv entries spawn() takes (n + 1 must not wrap; execve takes far fewer anyway).
#define MAX_ARGS 65536u
#endif

// peercred.node: who is at the other end of a connected unix socket, from SO_PEERCRED (native/peercred.c).
// Loaded by src/core/peer-cred.ts. Its export:
//   peerCred(fd: number): [pid, uid, gid], or -errno (EBADF, ENOTSOCK, ENOTCONN...)
#ifndef SENTRYTOOLS_PEERCRED_H
#define SENTRYTOOLS_PEERCRED_H
#endif

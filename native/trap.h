// trap.node: the -tcp trap ports (native/trapaccept.c) and the attackalert line sent from C at accept time
// (native/trapalert.c, native/trapalert.h). Loaded by src/portsentry/sensors/trap-addon.ts. Its exports:
//   trap.listen(port, onConn(id, family, v4, v6, alerted)): trap id (> 0) or -errno
//   trap.finish(id, banner | null): boolean      trap.close(id): boolean      trap.pending(): number
//   trap.alert: { tableVersion, open(path), table(bytes | null), ready(flag), stats(), preview(bytes, port, s) }
#ifndef SENTRYTOOLS_TRAP_H
#define SENTRYTOOLS_TRAP_H
#include <sys/socket.h>
#include "trapalert.h"

// The peer of an accepted connection: 1 with *p set (IPv4, IPv4-mapped IPv6 unwrapped to IPv4, or IPv6), 0 for
// another family. The one place where trap.node spells out a peer, for JS and for the alert line alike.
int trap_peer(const struct sockaddr_storage *ss, peer_t *p);
#endif

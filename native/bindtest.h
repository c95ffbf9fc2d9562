// bindtest.node: is a port held right now? 1.2's synchronous bind test (native/bindtest.c). Loaded by
// src/portsentry/sensors/bindtest-addon.ts. Its export:
//   bindTest(udp: boolean, family: 4 | 6, port: 0..65535): 0 (bound: free), the bind errno, or -errno when no
//   socket could be opened
#ifndef SENTRYTOOLS_BINDTEST_H
#define SENTRYTOOLS_BINDTEST_H
#endif

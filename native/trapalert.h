// trapalert: the -tcp attackalert line sent from C right after accept(), by a table src/portsentry/alert-table.ts
// builds. The table holds every decision and every byte of the line but the peer's address and port; C only
// looks the peer up, fills those two in and sends (native/trapalert.c). Part of the trap addon (native/trap.h).
#ifndef SENTRYTOOLS_TRAPALERT_H
#define SENTRYTOOLS_TRAPALERT_H
#include <node_api.h>
#include <stdint.h>

// The table's layout. Change it only together with src/portsentry/alert-table.ts, and bump the version in both:
// the addon refuses a table of another version, and the loader turns the path off when the versions differ.
// All numbers little-endian.
//   u32 version (ALERT_TABLE_VERSION)
//   i64 first                          the epoch second of clock[0]
//   u32 nclock, nclock x text          clock[i]: the text of the CLOCK part during second first + i
//   u32 nparts, nparts x (u8 kind, text)  the datagram, in order: PART_TEXT (its text), PART_CLOCK (the text of
//                                      the current second; none: the peer goes to JS), PART_ADDR (the peer's
//                                      address, inet_ntop), PART_PORT (the trap port, decimal); text empty but
//                                      for PART_TEXT
//   u32 nrules, nrules x (u8 family 4|6, u8 verdict, u8 net[16], u8 mask[16])
//                                      the first rule whose (peer & mask) == net decides: VERDICT_HAND (JS does
//                                      everything) or VERDICT_ALERT (the line leaves here); no rule: VERDICT_HAND
//   u32 nfiles, nfiles x (u8 present, u64 key[5], text path)
//                                      the files the rules were read from, with their stat as they were read
//                                      (dev, ino, size, mtime ns, ctime ns; present 0: absent): one that differs
//                                      now hands the peer to JS
// and nothing after. A text is (u32 length, its bytes).
#define ALERT_TABLE_VERSION 1
enum { PART_TEXT = 0, PART_CLOCK = 1, PART_ADDR = 2, PART_PORT = 3 };
enum { VERDICT_HAND = 0, VERDICT_ALERT = 1 };

// A peer as the trap ports see it: family 4 (IPv4-mapped unwrapped) or 6, address bytes (4 or 16 used).
typedef struct {
  int family;
  uint8_t bytes[16];
} peer_t;

typedef struct alert_s alert_t;

alert_t *trapalert_new(void);
void trapalert_free(alert_t *a);
// 1 when the line for this peer left from here (JS only echoes it); 0 when JS does everything. Any peer handed
// to JS while armed disarms the path until JS re-arms it (its pipeline idle again).
int trapalert_try(alert_t *a, const peer_t *peer, unsigned port);
// Sets trap.alert: { tableVersion, open, table, ready, stats, preview } (native/trap.h).
void trapalert_register(napi_env env, napi_value trap, alert_t *a);
#endif

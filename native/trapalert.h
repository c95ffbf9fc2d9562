// trapalert: the -tcp attackalert line sent from C at accept time, when JS has said it may be (native/trapalert.c).
#ifndef SENTRYTOOLS_TRAPALERT_H
#define SENTRYTOOLS_TRAPALERT_H
#include <node_api.h>
#include <sys/socket.h>

typedef struct alert_s alert_t;

enum { ALERT_NONE = 0, ALERT_IGNORED = 1, ALERT_SENT = 2 };

alert_t *trapalert_new(void);
void trapalert_free(alert_t *a);
// What became of a peer accepted on a trap port: ALERT_NONE (JS does everything, as before), ALERT_IGNORED (on
// the ignore list: nothing to log) or ALERT_SENT (the line is in syslog; JS does the rest). Any peer handed to JS
// with ALERT_NONE or ALERT_SENT disarms the fast path until JS re-arms it (its pipeline idle again).
int trapalert_try(alert_t *a, const struct sockaddr_storage *ss, unsigned port);
// Adds alertOpen, alertSnapshot, alertReady, alertStats and ntop to the trap object.
void trapalert_register(napi_env env, napi_value trap, alert_t *a);
#endif

// trapalert: in -tcp mode, the attackalert line leaves from C right after accept(), before any JS runs (about
// 0.1-0.2 ms of Node's per-event cost on the cold path here; docs/portsentry.md). JS stays the one pipeline: it
// arms this path only when the line would be exactly what it writes itself, and only while it has nothing in
// flight, so no line is reordered:
// - alertOpen(path, pri, ident): a datagram socket connected to the syslog socket JS logs to.
// - alertSnapshot(files, cidrs): the ignore step as JS last read it: each file with its stat key (dev, ino, size,
//   mtime ns, ctime ns) or null for "absent", and the parsed entries. A file whose stat differs, or a peer whose
//   text JS would spell differently (IPv6 in ::/96 other than :: and ::1: inet_ntop prints a dotted tail), means
//   ALERT_NONE:
//   JS re-reads and decides, as without this file.
// - alertReady(flag): JS's pipeline is idle, SCAN_TRIGGER is 0 or 1 (every hit alarms), RESOLVE_HOST is off and
//   its syslog queue is empty. Cleared here by every peer handed to JS.
// A send that fails (syslog's queue full, syslogd gone) is not retried here: ALERT_NONE, and JS queues the line.
// Main thread only, as trapaccept.c.
#define _GNU_SOURCE
#include "trapalert.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  char *path;
  int present;
  uint64_t key[5];  // dev, ino, size, mtime ns, ctime ns
} watched_t;

typedef struct {
  uint8_t family, bits;
  uint8_t net[16];
} cidr_t;

struct alert_s {
  int fd;
  struct sockaddr_un to;
  int pri;
  char ident[96];
  int valid;  // a snapshot is loaded
  int ready;
  size_t nfiles, ncidrs;
  watched_t *files;
  cidr_t *cidrs;
  double sent, ignored, handed;  // counts for alertStats()
};

alert_t *trapalert_new(void) {
  alert_t *a = calloc(1, sizeof *a);
  if (a) a->fd = -1;
  return a;
}

static void drop_snapshot(alert_t *a) {
  for (size_t i = 0; i < a->nfiles; i++) free(a->files[i].path);
  free(a->files);
  free(a->cidrs);
  a->files = NULL;
  a->cidrs = NULL;
  a->nfiles = a->ncidrs = 0;
  a->valid = 0;
}

void trapalert_free(alert_t *a) {
  if (!a) return;
  drop_snapshot(a);
  if (a->fd >= 0) close(a->fd);
  free(a);
}

// The peer as JS's Addr spells it: IPv4 (IPv4-mapped unwrapped) dotted, IPv6 as RFC 5952 (glibc's inet_ntop
// agrees with ipaddr.js except in ::/96, where it prints a dotted tail for all but :: and ::1). Fills family and
// the address bytes; 0 when JS must spell it.
static int peer_text(const struct sockaddr_storage *ss, uint8_t *family, uint8_t bytes[16], char *out, size_t n) {
  memset(bytes, 0, 16);
  if (ss->ss_family == AF_INET) {
    memcpy(bytes, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    *family = 4;
  } else if (ss->ss_family == AF_INET6) {
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
      memcpy(bytes, &a6->s6_addr[12], 4);
      *family = 4;
    } else {
      static const uint8_t zero[15] = {0};
      if (memcmp(a6->s6_addr, zero, 12) == 0 && (memcmp(&a6->s6_addr[12], zero, 3) != 0 || a6->s6_addr[15] > 1)) return 0;
      memcpy(bytes, a6->s6_addr, 16);
      *family = 6;
    }
  } else {
    return 0;
  }
  return inet_ntop(*family == 4 ? AF_INET : AF_INET6, bytes, out, (socklen_t)n) != NULL;
}

static uint64_t ns_of(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }

// Every watched file exactly as JS last read it (present with the same key, or still absent).
static int files_unchanged(const alert_t *a) {
  for (size_t i = 0; i < a->nfiles; i++) {
    struct stat st;
    const watched_t *w = &a->files[i];
    if (stat(w->path, &st) != 0) {
      if (w->present) return 0;
      continue;
    }
    if (!w->present) return 0;
    uint64_t k[5] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size, ns_of(st.st_mtim), ns_of(st.st_ctim)};
    if (memcmp(k, w->key, sizeof k) != 0) return 0;
  }
  return 1;
}

static int listed(const alert_t *a, uint8_t family, const uint8_t bytes[16]) {
  for (size_t i = 0; i < a->ncidrs; i++) {
    const cidr_t *c = &a->cidrs[i];
    if (c->family != family) continue;
    unsigned whole = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->net, bytes, whole) != 0) continue;
    if (rest && ((c->net[whole] ^ bytes[whole]) & (uint8_t)(0xff << (8 - rest)))) continue;
    return 1;
  }
  return 0;
}

static int connect_log(alert_t *a) {
  if (a->fd < 0) a->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (a->fd < 0) return -1;
  return connect(a->fd, (const struct sockaddr *)&a->to, sizeof a->to);
}

// glibc's syslog(3) datagram, as src/core/syslog.ts formats it: "<PRI>Mmm dd hh:mm:ss ident: message".
static int send_line(alert_t *a, const char *ip, unsigned port) {
  static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t now = time(NULL);
  struct tm tm;
  if (!localtime_r(&now, &tm)) return 0;
  char buf[512];
  int n = snprintf(buf, sizeof buf, "<%d>%s %2d %02d:%02d:%02d %s: attackalert: Connect from host: %s/%s to TCP port: %u",
                   a->pri, months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, a->ident, ip, ip, port);
  if (n <= 0 || n >= (int)sizeof buf) return 0;
  ssize_t w = send(a->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
  // syslogd restarted (a new socket at the same path): reconnect once, as JS's sink does.
  if (w < 0 && (errno == ECONNREFUSED || errno == ENOTCONN) && connect_log(a) == 0)
    w = send(a->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
  return w == n;
}

int trapalert_try(alert_t *a, const struct sockaddr_storage *ss, unsigned port) {
  if (!a || a->fd < 0 || !a->valid || !a->ready) return ALERT_NONE;
  uint8_t family, bytes[16];
  char ip[INET6_ADDRSTRLEN];
  int outcome = ALERT_NONE;
  if (peer_text(ss, &family, bytes, ip, sizeof ip) && files_unchanged(a)) {
    if (listed(a, family, bytes)) {
      a->ignored++;
      return ALERT_IGNORED;
    }
    if (send_line(a, ip, port)) outcome = ALERT_SENT;
  }
  a->ready = 0;
  if (outcome == ALERT_SENT) a->sent++;
  else a->handed++;
  return outcome;
}

static napi_value boolean(napi_env env, int b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

static alert_t *args_of(napi_env env, napi_callback_info info, size_t *argc, napi_value *args) {
  void *data = NULL;
  napi_get_cb_info(env, info, argc, args, NULL, &data);
  return (alert_t *)data;
}

// alertOpen(path, pri, ident): boolean. false (fast path off) when the socket cannot be connected.
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3, n = 0;
  napi_value args[3];
  alert_t *a = args_of(env, info, &argc, args);
  int32_t pri = 0;
  struct sockaddr_un to;
  char ident[sizeof a->ident];
  memset(&to, 0, sizeof to);
  to.sun_family = AF_UNIX;
  // Read into locals: a refused call leaves the open path as it was (the ident was overwritten, cut short).
  if (argc < 3 || napi_get_value_string_utf8(env, args[0], to.sun_path, sizeof to.sun_path, &n) != napi_ok
      || n == 0 || n >= sizeof to.sun_path - 1 || napi_get_value_int32(env, args[1], &pri) != napi_ok
      || napi_get_value_string_utf8(env, args[2], ident, sizeof ident, &n) != napi_ok || n >= sizeof ident - 1) {
    napi_throw_type_error(env, NULL, "alertOpen(path: string, pri: number, ident: string)");
    return NULL;
  }
  memcpy(a->ident, ident, sizeof ident);
  a->pri = pri;
  a->to = to;
  a->ready = 0;
  if (a->fd >= 0) close(a->fd);
  a->fd = -1;
  if (connect_log(a) != 0) {
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
  }
  return boolean(env, a->fd >= 0);
}

static int read_file_entry(napi_env env, napi_value entry, watched_t *w) {
  napi_value path, key;
  size_t n = 0;
  napi_valuetype t;
  if (napi_get_element(env, entry, 0, &path) != napi_ok || napi_get_element(env, entry, 1, &key) != napi_ok) return 0;
  if (napi_get_value_string_utf8(env, path, NULL, 0, &n) != napi_ok || n == 0) return 0;
  w->path = malloc(n + 1);
  if (!w->path) return 0;
  napi_get_value_string_utf8(env, path, w->path, n + 1, &n);
  napi_typeof(env, key, &t);
  if (t == napi_null) return 1;
  uint32_t len = 0;
  if (napi_get_array_length(env, key, &len) != napi_ok || len != 5) return 0;
  for (uint32_t i = 0; i < 5; i++) {
    napi_value v;
    bool lossless;
    if (napi_get_element(env, key, i, &v) != napi_ok || napi_get_value_bigint_uint64(env, v, &w->key[i], &lossless) != napi_ok) return 0;
  }
  w->present = 1;
  return 1;
}

// alertSnapshot(files: [path, [dev, ino, size, mtimeNs, ctimeNs] (bigints) | null][], cidrs: Uint8Array of
// 18-byte entries (family 4|6, prefix bits, 16 address bytes)) | alertSnapshot(null): no snapshot (fast path off).
static napi_value js_snapshot(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  alert_t *a = args_of(env, info, &argc, args);
  drop_snapshot(a);
  a->ready = 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, args[0], &t);
  if (t == napi_null) return boolean(env, 1);
  uint32_t nfiles = 0;
  void *raw = NULL;
  size_t bytes = 0;
  bool is_typed = false;
  if (argc < 2 || napi_get_array_length(env, args[0], &nfiles) != napi_ok
      || napi_is_typedarray(env, args[1], &is_typed) != napi_ok || !is_typed
      || napi_get_typedarray_info(env, args[1], NULL, &bytes, &raw, NULL, NULL) != napi_ok || bytes % 18 != 0) {
    napi_throw_type_error(env, NULL, "alertSnapshot(files: [string, bigint[] | null][], cidrs: Uint8Array) | alertSnapshot(null)");
    return NULL;
  }
  a->files = calloc(nfiles ? nfiles : 1, sizeof *a->files);
  a->cidrs = calloc(bytes / 18 ? bytes / 18 : 1, sizeof *a->cidrs);
  if (!a->files || !a->cidrs) {
    drop_snapshot(a);
    return boolean(env, 0);
  }
  for (uint32_t i = 0; i < nfiles; i++) {
    napi_value entry;
    a->nfiles = i + 1;
    if (napi_get_element(env, args[0], i, &entry) != napi_ok || !read_file_entry(env, entry, &a->files[i])) {
      drop_snapshot(a);
      napi_throw_type_error(env, NULL, "alertSnapshot: bad file entry");
      return NULL;
    }
  }
  const uint8_t *p = raw;
  for (size_t i = 0; i < bytes / 18; i++, p += 18) {
    cidr_t *c = &a->cidrs[i];
    c->family = p[0];
    c->bits = p[1];
    memcpy(c->net, p + 2, 16);
    if ((c->family != 4 && c->family != 6) || c->bits > (c->family == 4 ? 32 : 128)) {
      drop_snapshot(a);
      napi_throw_range_error(env, NULL, "alertSnapshot: bad cidr entry");
      return NULL;
    }
  }
  a->ncidrs = bytes / 18;
  a->valid = 1;
  return boolean(env, 1);
}

// alertReady(flag): boolean, whether the fast path is now armed (needs alertOpen and a snapshot).
static napi_value js_ready(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  alert_t *a = args_of(env, info, &argc, args);
  bool flag = false;
  if (argc >= 1) napi_get_value_bool(env, args[0], &flag);
  a->ready = flag && a->fd >= 0 && a->valid;
  return boolean(env, a->ready);
}

// alertStats(): { sent, ignored, handed } since load: peers alerted here, ignored here, handed to JS while armed.
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  alert_t *a = args_of(env, info, &argc, NULL);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_double(env, a->sent, &v);
  napi_set_named_property(env, o, "sent", v);
  napi_create_double(env, a->ignored, &v);
  napi_set_named_property(env, o, "ignored", v);
  napi_create_double(env, a->handed, &v);
  napi_set_named_property(env, o, "handed", v);
  return o;
}

// ntop(bytes: Uint8Array of 4 or 16): the peer text this file would log, or null where it leaves that to JS.
static napi_value js_ntop(napi_env env, napi_callback_info info) {
  size_t argc = 1, len = 0;
  napi_value args[1], out;
  args_of(env, info, &argc, args);
  void *raw = NULL;
  bool is_typed = false;
  if (argc < 1 || napi_is_typedarray(env, args[0], &is_typed) != napi_ok || !is_typed
      || napi_get_typedarray_info(env, args[0], NULL, &len, &raw, NULL, NULL) != napi_ok || (len != 4 && len != 16)) {
    napi_throw_type_error(env, NULL, "ntop(bytes: Uint8Array(4 | 16))");
    return NULL;
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (len == 4) {
    ss.ss_family = AF_INET;
    memcpy(&((struct sockaddr_in *)&ss)->sin_addr, raw, 4);
  } else {
    ss.ss_family = AF_INET6;
    memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, raw, 16);
  }
  uint8_t family, bytes[16];
  char ip[INET6_ADDRSTRLEN];
  if (!peer_text(&ss, &family, bytes, ip, sizeof ip)) {
    napi_get_null(env, &out);
    return out;
  }
  napi_create_string_latin1(env, ip, NAPI_AUTO_LENGTH, &out);
  return out;
}

void trapalert_register(napi_env env, napi_value trap, alert_t *a) {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    {"alertOpen", js_open}, {"alertSnapshot", js_snapshot}, {"alertReady", js_ready},
    {"alertStats", js_stats}, {"ntop", js_ntop},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, a, &fn);
    napi_set_named_property(env, trap, fns[i].name, fn);
  }
}

// trapalert: the -tcp attackalert line sent from C right after accept(), before Node runs any JavaScript for the
// probe (Node's per-event cost on the cold path was what kept ours behind PortSentry 1.2: docs/portsentry.md).
// Nothing here knows what the line says or who is ignored: src/portsentry/alert-table.ts builds a table
// (native/trapalert.h) from the pipeline's own inputs, and this file only
// - looks the peer up in its rules (the first whose mask matches: hand to JS, or alert),
// - checks that the files the rules came from are as they were read (a stat each),
// - fills the address (inet_ntop) and port into the table's parts, with the clock text of this second, and
//   sends the datagram to the syslog socket JS opened it on.
// JS arms it only while its pipeline is idle (ready); every peer handed to JS disarms it, so no line is
// reordered. A send that fails (syslog's queue full, syslogd gone) is not retried here: JS writes and queues the
// line. Main thread only, as trapaccept.c.
#define _GNU_SOURCE
#include "trapalert.h"
#include "trap.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DGRAM_MAX 2048

typedef struct {
  uint32_t off, len;  // into table_t.blob
} text_t;

typedef struct {
  uint8_t kind;
  text_t text;
} part_t;

typedef struct {
  uint8_t family, verdict;
  uint8_t net[16], mask[16];
} rule_t;

typedef struct {
  char *path;
  int present;
  uint64_t key[5];  // dev, ino, size, mtime ns, ctime ns
} watched_t;

typedef struct {
  uint8_t *blob;  // the table as JS sent it; texts point into it
  int64_t first;
  uint32_t nclock, nparts, nrules, nfiles;
  text_t *clock;
  part_t *parts;
  rule_t *rules;
  watched_t *files;
} table_t;

struct alert_s {
  int fd;
  struct sockaddr_un to;
  table_t *table;
  int ready;
  double sent, handed;  // counts for stats()
};

alert_t *trapalert_new(void) {
  alert_t *a = calloc(1, sizeof *a);
  if (a) a->fd = -1;
  return a;
}

static void table_free(table_t *t) {
  if (!t) return;
  for (uint32_t i = 0; t->files && i < t->nfiles; i++) free(t->files[i].path);
  free(t->files);
  free(t->rules);
  free(t->parts);
  free(t->clock);
  free(t->blob);
  free(t);
}

void trapalert_free(alert_t *a) {
  if (!a) return;
  table_free(a->table);
  if (a->fd >= 0) close(a->fd);
  free(a);
}

// A bounds-checked little-endian reader over the table; ok drops to 0 at the first read past its end.
typedef struct {
  const uint8_t *base;
  size_t at, size;
  int ok;
} reader_t;

static uint64_t read_uint(reader_t *r, unsigned n) {
  if (!r->ok || r->size - r->at < n) {
    r->ok = 0;
    return 0;
  }
  uint64_t v = 0;
  for (unsigned i = n; i > 0; i--) v = (v << 8) | r->base[r->at + i - 1];
  r->at += n;
  return v;
}

static text_t read_text(reader_t *r) {
  text_t t = {0, 0};
  uint32_t n = (uint32_t)read_uint(r, 4);
  if (!r->ok || r->size - r->at < n) {
    r->ok = 0;
    return t;
  }
  t.off = (uint32_t)r->at;
  t.len = n;
  r->at += n;
  return t;
}

// A count of entries of at least `min` bytes each: refused (0, ok dropped) when the rest cannot hold them.
static uint32_t read_count(reader_t *r, size_t min) {
  uint32_t n = (uint32_t)read_uint(r, 4);
  if (r->ok && n > (r->size - r->at) / min) r->ok = 0;
  return r->ok ? n : 0;
}

// The table in `bytes`, checked and copied, or NULL with *why set (TypeError or RangeError text).
static table_t *table_parse(const uint8_t *bytes, size_t size, const char **why) {
  table_t *t = calloc(1, sizeof *t);
  if (!t || !(t->blob = malloc(size ? size : 1))) {
    *why = "out of memory";
    table_free(t);
    return NULL;
  }
  memcpy(t->blob, bytes, size);
  reader_t r = {t->blob, 0, size, 1};
  *why = "bad alert table";
  if (read_uint(&r, 4) != ALERT_TABLE_VERSION) {
    *why = "alert table of another version";
    table_free(t);
    return NULL;
  }
  t->first = (int64_t)read_uint(&r, 8);
  t->nclock = read_count(&r, 4);
  t->clock = calloc(t->nclock + 1, sizeof *t->clock);
  size_t clock_max = 0;
  for (uint32_t i = 0; r.ok && t->clock && i < t->nclock; i++) {
    t->clock[i] = read_text(&r);
    if (t->clock[i].len > clock_max) clock_max = t->clock[i].len;
  }
  t->nparts = read_count(&r, 5);
  t->parts = calloc(t->nparts + 1, sizeof *t->parts);
  size_t longest = 0;  // the longest datagram the parts can make
  for (uint32_t i = 0; r.ok && t->parts && i < t->nparts; i++) {
    part_t *p = &t->parts[i];
    p->kind = (uint8_t)read_uint(&r, 1);
    p->text = read_text(&r);
    if (p->kind > PART_PORT || (p->kind != PART_TEXT && p->text.len != 0)) r.ok = 0;
    longest += p->kind == PART_TEXT ? p->text.len
               : p->kind == PART_CLOCK ? clock_max
               : p->kind == PART_ADDR ? INET6_ADDRSTRLEN - 1
                                      : 5;
  }
  if (r.ok && longest > DGRAM_MAX) {
    *why = "alert table: the line can be longer than 2048 bytes";
    r.ok = 0;
  }
  t->nrules = read_count(&r, 34);
  t->rules = calloc(t->nrules + 1, sizeof *t->rules);
  for (uint32_t i = 0; r.ok && t->rules && i < t->nrules; i++) {
    rule_t *u = &t->rules[i];
    u->family = (uint8_t)read_uint(&r, 1);
    u->verdict = (uint8_t)read_uint(&r, 1);
    for (int j = 0; j < 16; j++) u->net[j] = (uint8_t)read_uint(&r, 1);
    for (int j = 0; j < 16; j++) u->mask[j] = (uint8_t)read_uint(&r, 1);
    if ((u->family != 4 && u->family != 6) || u->verdict > VERDICT_ALERT) r.ok = 0;
  }
  t->nfiles = read_count(&r, 45);
  t->files = calloc(t->nfiles + 1, sizeof *t->files);
  for (uint32_t i = 0; r.ok && t->files && i < t->nfiles; i++) {
    watched_t *w = &t->files[i];
    w->present = (int)read_uint(&r, 1);
    for (int j = 0; j < 5; j++) w->key[j] = read_uint(&r, 8);
    text_t path = read_text(&r);
    if (!r.ok || path.len == 0 || w->present > 1 || memchr(t->blob + path.off, 0, path.len)) {
      r.ok = 0;
      break;
    }
    if (!(w->path = strndup((const char *)t->blob + path.off, path.len))) {
      *why = "out of memory";
      r.ok = 0;
    }
  }
  if (!t->clock || !t->parts || !t->rules || !t->files) {
    *why = "out of memory";
    r.ok = 0;
  }
  if (r.ok && r.at != r.size) r.ok = 0;  // nothing after
  if (!r.ok) {
    table_free(t);
    return NULL;
  }
  return t;
}

static int verdict_of(const table_t *t, const peer_t *p) {
  unsigned n = p->family == 4 ? 4 : 16;
  for (uint32_t i = 0; i < t->nrules; i++) {
    const rule_t *u = &t->rules[i];
    if (u->family != p->family) continue;
    unsigned j = 0;
    while (j < n && (p->bytes[j] & u->mask[j]) == u->net[j]) j++;
    if (j == n) return u->verdict;
  }
  return VERDICT_HAND;
}

static uint64_t ns_of(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }

// Every file exactly as JS read it (present with the same stat, or still absent).
static int files_unchanged(const table_t *t) {
  for (uint32_t i = 0; i < t->nfiles; i++) {
    struct stat st;
    const watched_t *w = &t->files[i];
    if (stat(w->path, &st) != 0) {
      if (w->present) return 0;
      continue;
    }
    if (!w->present) return 0;
    uint64_t k[5] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size, ns_of(st.st_mtim),
                     ns_of(st.st_ctim)};
    if (memcmp(k, w->key, sizeof k) != 0) return 0;
  }
  return 1;
}

// The datagram for this peer during epoch second `now` into out (DGRAM_MAX bytes): its length, or 0 when the
// table has no clock text for that second.
static size_t render(const table_t *t, const peer_t *p, unsigned port, int64_t now, char *out) {
  char addr[INET6_ADDRSTRLEN], num[8];
  size_t n = 0;
  if (!inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->bytes, addr, sizeof addr)) return 0;
  snprintf(num, sizeof num, "%u", port & 0xffffu);
  for (uint32_t i = 0; i < t->nparts; i++) {
    const part_t *part = &t->parts[i];
    const char *s = NULL;
    size_t len = 0;
    if (part->kind == PART_TEXT) {
      s = (const char *)t->blob + part->text.off;
      len = part->text.len;
    } else if (part->kind == PART_CLOCK) {
      if (now < t->first || now - t->first >= (int64_t)t->nclock) return 0;
      const text_t *c = &t->clock[now - t->first];
      s = (const char *)t->blob + c->off;
      len = c->len;
    } else {
      s = part->kind == PART_ADDR ? addr : num;
      len = strlen(s);
    }
    memcpy(out + n, s, len);  // the parse bounded the sum by DGRAM_MAX
    n += len;
  }
  return n;
}

static int connect_log(alert_t *a) {
  if (a->fd < 0) a->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (a->fd < 0) return -1;
  return connect(a->fd, (const struct sockaddr *)&a->to, sizeof a->to);
}

static int send_dgram(alert_t *a, const char *buf, size_t n) {
  ssize_t w = send(a->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
  // syslogd restarted (a new socket at the same path): reconnect once, as JS's sink does.
  if (w < 0 && (errno == ECONNREFUSED || errno == ENOTCONN) && connect_log(a) == 0)
    w = send(a->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
  return w == (ssize_t)n;
}

static int64_t now_second(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);  // the clock Date.now() reads
  return (int64_t)ts.tv_sec;
}

int trapalert_try(alert_t *a, const peer_t *peer, unsigned port) {
  if (!a || a->fd < 0 || !a->table || !a->ready) return 0;
  int sent = 0;
  if (peer->family != 0 && verdict_of(a->table, peer) == VERDICT_ALERT && files_unchanged(a->table)) {
    char buf[DGRAM_MAX];
    size_t n = render(a->table, peer, port, now_second(), buf);
    sent = n > 0 && send_dgram(a, buf, n);
  }
  a->ready = 0;
  if (sent) a->sent++;
  else a->handed++;
  return sent;
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

// open(path): boolean. A datagram socket connected to the syslog socket at path; false (path off) when it cannot
// be connected. Disarms.
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1, n = 0;
  napi_value args[1];
  alert_t *a = args_of(env, info, &argc, args);
  struct sockaddr_un to;
  memset(&to, 0, sizeof to);
  to.sun_family = AF_UNIX;
  if (argc < 1 || napi_get_value_string_utf8(env, args[0], to.sun_path, sizeof to.sun_path, &n) != napi_ok || n == 0
      || n >= sizeof to.sun_path - 1) {
    napi_throw_type_error(env, NULL, "open(path: string of 1..106 bytes)");
    return NULL;
  }
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

// table(bytes: Uint8Array | null): the table to use from now on (copied), or none. Throws on a table that is not
// of this version or not well formed, and then has none. Armed stays armed with a new table; none disarms.
static napi_value js_table(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  alert_t *a = args_of(env, info, &argc, args);
  int was_ready = a->ready;
  table_free(a->table);
  a->table = NULL;
  a->ready = 0;
  napi_valuetype vt = napi_undefined;
  if (argc >= 1) napi_typeof(env, args[0], &vt);
  if (vt == napi_null) return NULL;
  void *raw = NULL;
  size_t size = 0;
  bool typed = false;
  napi_typedarray_type type;
  if (argc < 1 || napi_is_typedarray(env, args[0], &typed) != napi_ok || !typed
      || napi_get_typedarray_info(env, args[0], &type, &size, &raw, NULL, NULL) != napi_ok
      || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "table(bytes: Uint8Array | null)");
    return NULL;
  }
  const char *why = NULL;
  a->table = table_parse(raw, size, &why);
  if (!a->table) napi_throw_range_error(env, NULL, why);
  a->ready = was_ready && a->table;
  return NULL;
}

// ready(flag): boolean, whether the path is now armed (it needs open() and a table).
static napi_value js_ready(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  alert_t *a = args_of(env, info, &argc, args);
  bool flag = false;
  if (argc >= 1) napi_get_value_bool(env, args[0], &flag);
  a->ready = flag && a->fd >= 0 && a->table;
  return boolean(env, a->ready);
}

// stats(): { sent, handed } since load: peers whose line left here, peers handed to JS while armed.
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  alert_t *a = args_of(env, info, &argc, NULL);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_double(env, a->sent, &v);
  napi_set_named_property(env, o, "sent", v);
  napi_create_double(env, a->handed, &v);
  napi_set_named_property(env, o, "handed", v);
  return o;
}

// preview(bytes: Uint8Array(4 | 16), port, second): the datagram this table makes for that peer (IPv4-mapped
// taken as IPv4, as trap ports take it) during epoch second `second`, or null where it hands the peer to JS
// (rules, or no clock text). The files are not checked. Tests compare it with the pipeline's own line.
static napi_value js_preview(napi_env env, napi_callback_info info) {
  size_t argc = 3, len = 0;
  napi_value args[3], out;
  alert_t *a = args_of(env, info, &argc, args);
  void *raw = NULL;
  bool typed = false;
  napi_typedarray_type type;
  uint32_t port = 0;
  int64_t second = 0;
  if (argc < 3 || napi_is_typedarray(env, args[0], &typed) != napi_ok || !typed
      || napi_get_typedarray_info(env, args[0], &type, &len, &raw, NULL, NULL) != napi_ok
      || type != napi_uint8_array || (len != 4 && len != 16) || napi_get_value_uint32(env, args[1], &port) != napi_ok
      || port > 65535 || napi_get_value_int64(env, args[2], &second) != napi_ok) {
    napi_throw_type_error(env, NULL, "preview(bytes: Uint8Array(4 | 16), port: 0..65535, second: number)");
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
  peer_t peer;
  char buf[DGRAM_MAX];
  size_t n = 0;
  if (a->table && trap_peer(&ss, &peer) && verdict_of(a->table, &peer) == VERDICT_ALERT)
    n = render(a->table, &peer, port, second, buf);
  if (n == 0) napi_get_null(env, &out);
  else napi_create_string_utf8(env, buf, n, &out);
  return out;
}

void trapalert_register(napi_env env, napi_value trap, alert_t *a) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
    {"open", js_open}, {"table", js_table}, {"ready", js_ready}, {"stats", js_stats}, {"preview", js_preview},
  };
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_uint32(env, ALERT_TABLE_VERSION, &v);
  napi_set_named_property(env, obj, "tableVersion", v);
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, a, &v);
    napi_set_named_property(env, obj, fns[i].name, v);
  }
  napi_set_named_property(env, trap, "alert", obj);
}

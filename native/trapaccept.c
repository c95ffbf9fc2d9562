// trapaccept: the -tcp trap ports without Node's net.Server (trap.node, native/trap.h). socket() + bind() +
// listen(fd, 5) as 1.2, dual-stack :: first, 0.0.0.0 when the host has no IPv6. SO_REUSEADDR as Node's net.Server
// sets it (docs/portsentry.md differences row 11: a restart within a minute of probes still binds; a port with a
// listener or any other bound socket still fails, as in 1.2). The listening fd is polled on Node's own loop
// (uv_poll_t, no thread); on readable, accept4() until EAGAIN and hand each peer (address straight from accept, so a
// connection reset right after the handshake keeps its real peer) to JS. The accepted fd stays here: JS answers
// finish(id, banner) once, which sends the banner and closes. Every accepted fd is closed exactly once (finish, or
// the listener's close); main thread only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "bind-any.h"
#include "trap.h"

typedef struct conn_s {
  struct conn_s *next;
  uint32_t id;
  int fd;
} conn_t;

typedef struct trap_s {
  struct trap_s *next;
  uv_poll_t poll;
  uv_timer_t pause;  // after an accept error such as EMFILE: a short pause instead of a busy loop
  uint32_t id;
  unsigned port;
  int fd;
  int open_handles;  // poll + timer, each uv_close'd once
  int closing;  // close() was called (perhaps from the JS callback): accept no more
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  conn_t *conns;  // accepted, not yet finished
} trap_t;

typedef struct {
  alert_t *alert;  // the attackalert line from C (trapalert.c), when JS arms it
  trap_t *traps;
  uint32_t next_trap;
  uint32_t next_conn;
} state_t;

static state_t *get_state(napi_env env) {
  state_t *s = NULL;
  napi_get_instance_data(env, (void **)&s);
  return s;
}

static int open_listener(int family, unsigned port) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int r, on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (family == AF_INET6) {
    int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  r = bind_any(fd, family, port);
  if (r == 0) r = listen(fd, 5);
  if (r < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int trap_peer(const struct sockaddr_storage *ss, peer_t *p) {
  memset(p, 0, sizeof *p);
  if (ss->ss_family == AF_INET) {
    memcpy(p->bytes, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    p->family = 4;
  } else if (ss->ss_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    p->family = IN6_IS_ADDR_V4MAPPED(a) ? 4 : 6;
    memcpy(p->bytes, p->family == 4 ? &a->s6_addr[12] : a->s6_addr, p->family == 4 ? 4 : 16);
  }
  return p->family != 0;
}

// The peer for JS (family 4 or 6; 0 when unknown): IPv4 as a number in host order, IPv6 as text, so JS builds
// the address without parsing text on the alert path.
static int peer_for_js(const peer_t *p, uint32_t *v4, char *out, size_t n) {
  out[0] = '\0';
  *v4 = 0;
  if (p->family == 4)
    *v4 = (uint32_t)p->bytes[0] << 24 | (uint32_t)p->bytes[1] << 16 | (uint32_t)p->bytes[2] << 8 | p->bytes[3];
  if (p->family == 6) inet_ntop(AF_INET6, p->bytes, out, (socklen_t)n);
  return p->family;
}

// onConn(id, family, v4, v6, alerted): id 0 and family 0 = accept failed (1.2's "(accept failed)" line);
// alerted: the attackalert line was already sent from C (trapalert.c).
static void call_js(trap_t *t, uint32_t id, int family, uint32_t v4, const char *v6, int alerted) {
  napi_env env = t->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[5], result;
  napi_create_uint32(env, id, &argv[0]);
  napi_create_int32(env, family, &argv[1]);
  napi_create_uint32(env, v4, &argv[2]);
  napi_create_string_latin1(env, v6, NAPI_AUTO_LENGTH, &argv[3]);
  napi_get_boolean(env, alerted, &argv[4]);
  napi_get_reference_value(env, t->cb, &fn);
  napi_get_global(env, &recv);
  if (napi_make_callback(env, t->ctx, recv, fn, 5, argv, &result) == napi_pending_exception) {
    // As Node's own callbacks: the exception goes to 'uncaughtException'; this listener goes on.
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *p, int status, int events);

static void on_resume(uv_timer_t *timer) {
  trap_t *t = (trap_t *)timer->data;
  uv_poll_start(&t->poll, UV_READABLE, on_readable);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  trap_t *t = (trap_t *)p->data;
  state_t *s = get_state(t->env);
  // Bounded: a burst is taken in slices of 64, the rest on the next loop turn.
  for (int i = 0; i < 64 && !t->closing; i++) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(t->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      uv_poll_stop(&t->poll);
      uv_timer_start(&t->pause, on_resume, 100, 0);
      call_js(t, 0, 0, 0, "", 0);
      return;
    }
    conn_t *c = malloc(sizeof *c);
    if (!c) {
      close(fd);
      call_js(t, 0, 0, 0, "", 0);
      continue;
    }
    // The line may leave from C now (trapalert.c, by the table JS gave it); JS gets every peer all the same.
    peer_t peer;
    trap_peer(&ss, &peer);
    int alerted = trapalert_try(s->alert, &peer, t->port);
    char text[INET6_ADDRSTRLEN];
    uint32_t v4;
    int family = peer_for_js(&peer, &v4, text, sizeof text);
    if (++s->next_conn == 0) s->next_conn = 1;
    c->id = s->next_conn;
    c->fd = fd;
    c->next = t->conns;
    t->conns = c;
    call_js(t, c->id, family, v4, text, alerted);
  }
}

static napi_value num(napi_env env, int32_t n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

// listen(port: 1..65535, onConn): number. The trap's id (> 0), or -errno when no socket could be bound.
static napi_value js_listen(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  uint32_t port = 0;
  napi_valuetype t;
  if (argc < 2 || napi_get_value_uint32(env, args[0], &port) != napi_ok || port > 65535
      || napi_typeof(env, args[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "listen(port: 0..65535, onConn: function)");
    return NULL;
  }
  state_t *s = get_state(env);
  uv_loop_t *loop = NULL;
  if (!s || napi_get_uv_event_loop(env, &loop) != napi_ok) return num(env, -EINVAL);
  int fd = open_listener(AF_INET6, port);
  if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) fd = open_listener(AF_INET, port);
  if (fd < 0) return num(env, fd);
  trap_t *tr = calloc(1, sizeof *tr);
  if (!tr || uv_poll_init(loop, &tr->poll, fd) != 0) {
    free(tr);
    close(fd);
    return num(env, -ENOMEM);
  }
  uv_timer_init(loop, &tr->pause);
  tr->open_handles = 2;
  tr->fd = fd;
  tr->port = port;
  tr->env = env;
  tr->poll.data = tr;
  tr->pause.data = tr;
  tr->id = ++s->next_trap;
  napi_create_reference(env, args[1], 1, &tr->cb);
  napi_value name;
  napi_create_string_utf8(env, "trapaccept", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &tr->ctx);
  tr->next = s->traps;
  s->traps = tr;
  uv_poll_start(&tr->poll, UV_READABLE, on_readable);
  return num(env, (int32_t)tr->id);
}

// The id argument of finish() and close(): 1 with *id set, or 0 with a TypeError thrown (usage as its message).
static int id_arg(napi_env env, napi_callback_info info, size_t *argc, napi_value *args, const char *usage, uint32_t *id) {
  napi_get_cb_info(env, info, argc, args, NULL, NULL);
  if (*argc >= 1 && napi_get_value_uint32(env, args[0], id) == napi_ok) return 1;
  napi_throw_type_error(env, NULL, usage);
  return 0;
}

// finish(id, banner: string | null): boolean. Sends the banner (if any, without blocking; as 1.2's single
// write(), a short write is not retried) and closes. false when the id is unknown or already finished.
static napi_value js_finish(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], ret;
  uint32_t id = 0;
  if (!id_arg(env, info, &argc, args, "finish(id: number, banner?: string | null)", &id)) return NULL;
  state_t *s = get_state(env);
  conn_t *c = NULL;
  for (trap_t *t = s ? s->traps : NULL; t && !c; t = t->next) {
    for (conn_t **pp = &t->conns; *pp; pp = &(*pp)->next) {
      if ((*pp)->id == id) {
        c = *pp;
        *pp = c->next;
        break;
      }
    }
  }
  if (c) {
    napi_valuetype vt = napi_undefined;
    if (argc >= 2) napi_typeof(env, args[1], &vt);
    size_t n = 0;
    if (vt == napi_string && napi_get_value_string_latin1(env, args[1], NULL, 0, &n) == napi_ok && n > 0) {
      char *buf = malloc(n + 1);
      if (buf) {
        napi_get_value_string_latin1(env, args[1], buf, n + 1, &n);
        ssize_t w;
        do w = send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT); while (w < 0 && errno == EINTR);
        free(buf);
      }
    }
    close(c->fd);
    free(c);
  }
  napi_get_boolean(env, c != NULL, &ret);
  return ret;
}

static void on_handle_closed(uv_handle_t *h) {
  trap_t *t = (trap_t *)h->data;
  if (--t->open_handles == 0) free(t);
}

// close(id): boolean. Stops the trap: its listening socket and every connection not yet finished are closed
// before it returns. false when the id is unknown.
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1], ret;
  uint32_t id = 0;
  if (!id_arg(env, info, &argc, args, "close(id: number)", &id)) return NULL;
  state_t *s = get_state(env);
  trap_t *t = NULL;
  for (trap_t **pp = s ? &s->traps : NULL; pp && *pp; pp = &(*pp)->next) {
    if ((*pp)->id == id) {
      t = *pp;
      *pp = t->next;
      break;
    }
  }
  if (t) {
    t->closing = 1;
    while (t->conns) {
      conn_t *c = t->conns;
      t->conns = c->next;
      close(c->fd);
      free(c);
    }
    napi_delete_reference(env, t->cb);
    napi_async_destroy(env, t->ctx);
    // libuv: close only what is not polled. uv_close() on the poll handle takes the fd out of epoll at once (the
    // handles' memory goes later, when libuv has closed them); the listening socket is closed after that, so its
    // number cannot be reused (by a thread-pool open()) before epoll forgets it. Closed before this returns.
    uv_poll_stop(&t->poll);
    uv_timer_stop(&t->pause);
    uv_close((uv_handle_t *)&t->poll, on_handle_closed);
    uv_close((uv_handle_t *)&t->pause, on_handle_closed);
    close(t->fd);
    t->fd = -1;
  }
  napi_get_boolean(env, t != NULL, &ret);
  return ret;
}

// pending(): how many accepted connections are not yet finished (tests).
static napi_value js_pending(napi_env env, napi_callback_info info) {
  state_t *s = get_state(env);
  int32_t n = 0;
  for (trap_t *t = s ? s->traps : NULL; t; t = t->next)
    for (conn_t *c = t->conns; c; c = c->next) n++;
  return num(env, n);
}

static void free_state(napi_env env, void *data, void *hint) {
  trapalert_free(((state_t *)data)->alert);
  free(data);
}

// trap.node's exports (native/trap.h): listen, finish, close, pending and alert.
NAPI_MODULE_INIT() {
  state_t *s = calloc(1, sizeof *s);
  if (s) s->alert = trapalert_new();
  if (!s || !s->alert || napi_set_instance_data(env, s, free_state, NULL) != napi_ok) {
    if (s) trapalert_free(s->alert);
    free(s);
    napi_throw_error(env, NULL, "trap.node: out of memory");
    return NULL;
  }
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"listen", js_listen}, {"finish", js_finish}, {"close", js_close}, {"pending", js_pending}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
  trapalert_register(env, exports, s->alert);
  return exports;
}

// fastspawn (fastspawn.node, native/fastspawn.h): start a command with posix_spawnp (glibc:
// clone(CLONE_VM|CLONE_VFORK), so the ~100 MB daemon is not copied as fork() would) and learn its end through a
// pidfd polled on Node's own event loop (no thread). argv only, never a shell; stdio on /dev/null, no other fd;
// every signal back to its default, none blocked. The child is reaped here by its pid only (waitpid(pid)), as libuv
// reaps only the pids it started.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#include "fastspawn.h"

extern char **environ;

typedef struct {
  uv_poll_t poll;
  int pidfd;
  pid_t pid;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
} waiter_t;

static int open_pidfd(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

static void on_closed(uv_handle_t *h) {
  waiter_t *w = (waiter_t *)h->data;
  close(w->pidfd);
  free(w);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  waiter_t *w = (waiter_t *)p->data;
  int st = 0;
  pid_t r;
  do r = waitpid(w->pid, &st, WNOHANG); while (r < 0 && errno == EINTR);
  if (r == 0) return;  // not ended yet (spurious wake-up): keep polling
  uv_poll_stop(p);
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[2], result;
  int code = (r > 0 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
  int sig = (r > 0 && WIFSIGNALED(st)) ? WTERMSIG(st) : 0;
  napi_create_int32(env, code, &argv[0]);
  napi_create_int32(env, sig, &argv[1]);
  napi_get_reference_value(env, w->cb, &fn);
  napi_get_global(env, &recv);
  napi_make_callback(env, w->ctx, recv, fn, 2, argv, &result);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->ctx);
  napi_close_handle_scope(env, scope);
  uv_close((uv_handle_t *)p, on_closed);
}

static char *dup_string(napi_env env, napi_value v) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return NULL;
  char *s = malloc(n + 1);
  if (s) napi_get_value_string_utf8(env, v, s, n + 1, &n);
  return s;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

// spawn(argv: string[], onExit: (code: number, signal: number) => void): number
// Returns the child's pid (> 0), or -errno when it could not be started (exec failure included: glibc reports
// the child's execve errno back to posix_spawnp).
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  bool is_array = false;
  napi_valuetype t;
  if (argc < 2 || napi_is_array(env, args[0], &is_array) != napi_ok || !is_array) return throw_type(env, "argv must be an array");
  napi_typeof(env, args[1], &t);
  if (t != napi_function) return throw_type(env, "onExit must be a function");
  uint32_t n = 0;
  napi_get_array_length(env, args[0], &n);
  if (n == 0) return throw_type(env, "argv must not be empty");
  // n + 1 below must not wrap (an array of 2^32-1 entries made it calloc(0, ...)); execve takes far fewer anyway.
  if (n > MAX_ARGS) return throw_type(env, "argv has too many entries");
  char **argv = calloc(n + 1, sizeof(char *));
  if (!argv) return throw_type(env, "out of memory");
  int bad = 0;
  for (uint32_t i = 0; i < n && !bad; i++) {
    napi_value el;
    napi_get_element(env, args[0], i, &el);
    napi_typeof(env, el, &t);
    if (t != napi_string || !(argv[i] = dup_string(env, el))) bad = 1;
  }
  napi_value ret = NULL;
  if (bad) {
    for (uint32_t i = 0; i < n; i++) free(argv[i]);
    free(argv);
    return throw_type(env, "argv must hold strings");
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(&fa, 0, 1);
  posix_spawn_file_actions_adddup2(&fa, 0, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Nothing else of the daemon's (raw sockets, the syslog socket) reaches the command, CLOEXEC or not.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
  posix_spawnattr_init(&at);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int err = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  for (uint32_t i = 0; i < n; i++) free(argv[i]);
  free(argv);
  if (err != 0) {
    napi_create_int32(env, -err, &ret);
    return ret;
  }
  waiter_t *w = calloc(1, sizeof(waiter_t));
  int pidfd = w ? open_pidfd(pid) : -1;
  int e = pidfd < 0 ? (errno ? errno : ENOMEM) : 0;
  uv_loop_t *loop = NULL;
  if (!e && (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &w->poll, pidfd) != 0)) e = EINVAL;
  if (!e) {
    w->pidfd = pidfd;
    w->pid = pid;
    w->env = env;
    w->poll.data = w;
    if (uv_poll_start(&w->poll, UV_READABLE, on_readable) != 0) {
      e = EINVAL;
      uv_close((uv_handle_t *)&w->poll, on_closed);  // closes pidfd, frees w
      w = NULL;
      pidfd = -1;
    }
  }
  if (e) {
    // It cannot be watched: neither leave it running unwatched nor leave a zombie.
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    if (pidfd >= 0) close(pidfd);
    free(w);
    napi_create_int32(env, -e, &ret);
    return ret;
  }
  napi_create_reference(env, args[1], 1, &w->cb);
  napi_value name;
  napi_create_string_utf8(env, "fastspawn", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->ctx);
  napi_create_int32(env, pid, &ret);
  return ret;
}

NAPI_MODULE_INIT() {
  napi_value fn, ok;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, js_spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  // pidfd_open needs Linux >= 5.3: say so, and the caller keeps child_process.spawn.
  int fd = open_pidfd(getpid());
  napi_get_boolean(env, fd >= 0, &ok);
  if (fd >= 0) close(fd);
  napi_set_named_property(env, exports, "pidfdSupported", ok);
  return exports;
}

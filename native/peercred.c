// peercred (peercred.node, native/peercred.h). peerCred(fd): who is at the other end of a connected unix
// socket, from SO_PEERCRED: the pid, uid and gid the peer had when it called connect(), recorded by the kernel
// (the peer cannot choose them). The control socket checks them before it reads a request; its file mode is the
// first check, this is the second.
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <node_api.h>
#include "peercred.h"

// peerCred(fd: number): [pid, uid, gid], or -errno (EBADF, ENOTSOCK, ENOTCONN...)
static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1], ret;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, args[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "peerCred(fd: a file descriptor, 0 or more)");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    napi_create_int32(env, len != sizeof cred && errno == 0 ? -EINVAL : -errno, &ret);
    return ret;
  }
  napi_value v;
  napi_create_array_with_length(env, 3, &ret);
  napi_create_int64(env, (int64_t)cred.pid, &v);
  napi_set_element(env, ret, 0, v);
  napi_create_int64(env, (int64_t)cred.uid, &v);
  napi_set_element(env, ret, 1, v);
  napi_create_int64(env, (int64_t)cred.gid, &v);
  napi_set_element(env, ret, 2, v);
  return ret;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peerCred", NAPI_AUTO_LENGTH, js_peer_cred, NULL, &fn);
  napi_set_named_property(env, exports, "peerCred", fn);
  return exports;
}

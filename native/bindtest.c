// bindtest (bindtest.node, native/bindtest.h): is a port held right now? A synchronous socket() + bind() on the
// wildcard address + close(), as PortSentry 1.2's smart-verify and start-up port scan do (no SO_REUSEADDR, so any
// socket on the port, a listener or not, makes bind() fail). 1.2 then calls listen() on a successful TCP bind; it
// changes no answer and would show the port open to a SYN for a moment, so it is not done here. IPv6 binds :: with
// IPV6_V6ONLY, so an IPv4-only daemon does not hide IPv6 probes.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include "bind-any.h"
#include "bindtest.h"

// 0 when the port could be bound (free), the bind errno otherwise (EADDRINUSE, EACCES...), or -errno when no
// socket could be opened (1.2 then answers "free").
static int bind_test(int udp, int family, unsigned port) {
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (family == 6) {
    int on = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  }
  int r = bind_any(fd, family == 6 ? AF_INET6 : AF_INET, port);
  int e = r < 0 ? errno : 0;
  close(fd);
  return e;
}

// bindTest(udp: boolean, family: 4 | 6, port: 0..65535): number (see bind_test)
static napi_value js_bind_test(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3], ret;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  bool udp = false;
  uint32_t family = 0, port = 0;
  if (argc < 3 || napi_get_value_bool(env, args[0], &udp) != napi_ok
      || napi_get_value_uint32(env, args[1], &family) != napi_ok || (family != 4 && family != 6)
      || napi_get_value_uint32(env, args[2], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "bindTest(udp: boolean, family: 4 | 6, port: 0..65535)");
    return NULL;
  }
  napi_create_int32(env, bind_test(udp, (int)family, port), &ret);
  return ret;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "bindTest", NAPI_AUTO_LENGTH, js_bind_test, NULL, &fn);
  napi_set_named_property(env, exports, "bindTest", fn);
  return exports;
}

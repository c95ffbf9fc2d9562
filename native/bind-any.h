// bind_any: bind fd to the wildcard address of its family (AF_INET or AF_INET6) on port. 0 or -1 with errno, as
// bind(). Shared by bindtest.c and trapaccept.c.
#ifndef SENTRYTOOLS_BIND_ANY_H
#define SENTRYTOOLS_BIND_ANY_H
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static inline int bind_any(int fd, int family, unsigned port) {
  if (family == AF_INET6) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    a.sin6_port = htons((unsigned short)port);
    return bind(fd, (struct sockaddr *)&a, sizeof a);
  }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons((unsigned short)port);
  return bind(fd, (struct sockaddr *)&a, sizeof a);
}
#endif

/*
 * The process-wide mode with no JavaScript at all, for bench/bench.mjs: an
 * LD_PRELOAD library that makes the same five setsockopt calls as
 * tcp-keepalive/register, on a client socket right after connect() and on a
 * listening socket right before listen(). It is the floor for the mode's
 * connection rate: the kernel's share, which no code inside Node can avoid.
 *
 *   cc -O2 -shared -fPIC -o preload-shim.so preload-shim.c -ldl
 *   LD_PRELOAD=./preload-shim.so PRELOAD_SHIM=30,5,3,45000 node app.js
 *
 * PRELOAD_SHIM: idle seconds, interval seconds, count, user timeout ms
 * (these are the default). Only IPv4 and IPv6 addresses are touched (a
 * Unix-domain socket never is): a connect() tells by the address it is given,
 * with no other syscall (a UDP socket connected to an address would get five
 * failing calls, which the bench never makes); a listen() by getsockname(),
 * once per listening socket. Failures are ignored, as Node ignores its own, and
 * errno is left as connect() and listen() set it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_listen)(int, int);
static int values[4] = {30, 5, 3, 45000};

__attribute__((constructor)) static void init(void) {
  real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  real_listen = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
  const char *spec = getenv("PRELOAD_SHIM");
  if (spec != NULL) sscanf(spec, "%d,%d,%d,%d", &values[0], &values[1], &values[2], &values[3]);
}

static void configure(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &values[0], sizeof(int));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &values[1], sizeof(int));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &values[2], sizeof(int));
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &values[3], sizeof(int));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(int));
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  int result = real_connect(fd, addr, len);
  // libuv connects without blocking: EINPROGRESS is a connect under way.
  if (addr != NULL && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6) && (result == 0 || errno == EINPROGRESS)) {
    int saved = errno;
    configure(fd);
    errno = saved;
  }
  return result;
}

int listen(int fd, int backlog) {
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  // A listening socket is a stream socket; its address tells TCP from a Unix-domain one.
  if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0 && (addr.ss_family == AF_INET || addr.ss_family == AF_INET6)) configure(fd);
  return real_listen(fd, backlog);
}

/*
 * The syscall floor for bench/bench.mjs: the same socket-option calls that
 * tcp-keepalive (and Node) make, from C, with no runtime in between.
 *
 * usage: floor N [threaded]
 *
 * Opens N connected loopback pairs, then serves the bench one block at a
 * time, so that the floor is measured interleaved with the Node methods,
 * under the same conditions. For each line "METHOD ROUND" on stdin it runs,
 * exactly as the bench does for its own methods, one untimed warm-up pass
 * and then PASSES timed back-to-back passes of METHOD over the N client
 * sockets (a set alternating between two value sets; a read reading what
 * the warm-up pass set), verifies every socket by reading it back (untimed),
 * and answers with one line: the ns per socket of each timed pass. It exits
 * at the end of its input.
 *
 *   set5  TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT, SO_KEEPALIVE
 *   set4  Node's four: SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL=1, TCP_KEEPCNT=10
 *   get5  the five getsockopt
 *   info  getsockopt(TCP_INFO), the C library's struct tcp_info (what
 *         getTcpInfo reads)
 *
 * With "threaded", an idle second thread shares the fd table, as the libuv
 * and V8 threads do in every Node process. The kernel then takes a reference
 * on the file for every fd syscall (fdget's fast path needs an unshared
 * table), which is a cost any code inside Node pays.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PASSES 3

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void *idle_thread(void *arg) {
  for (;;) pause();
  return arg;
}

static int one = 1, node_interval = 1, node_count = 10;

static int set5(int fd, const int v[4]) {
  return setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v[0], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v[1], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v[2], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v[3], sizeof(int)) ||
         setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(int));
}

static int set4(int fd, const int v[4]) {
  return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v[0], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &node_interval, sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &node_count, sizeof(int));
}

static int info(int fd) {
  struct tcp_info ti;
  socklen_t len = sizeof(ti);
  return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) || ti.tcpi_state != TCP_ESTABLISHED;
}

static int get5(int fd, int v[5]) {
  socklen_t len = sizeof(int);
  return getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v[0], &len) ||
         getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v[1], &len) ||
         getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v[2], &len) ||
         getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v[3], &len) ||
         getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v[4], &len);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: floor N [threaded]\n");
    return 2;
  }
  int n = atoi(argv[1]);
  if (argc > 2 && strcmp(argv[2], "threaded") == 0) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, idle_thread, NULL)) die("pthread_create");
  }
  int *fds = calloc((size_t)n, sizeof(int));

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t addr_len = sizeof(addr);
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) || listen(listener, 4096) ||
      getsockname(listener, (struct sockaddr *)&addr, &addr_len))
    die("listen");
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&addr, sizeof(addr))) die("connect");
    if (accept(listener, NULL, NULL) < 0) die("accept");
  }

  char name[16];
  int r;
  while (scanf("%15s %d", name, &r) == 2) {
    int method = strcmp(name, "set5") == 0   ? 0
                 : strcmp(name, "set4") == 0 ? 1
                 : strcmp(name, "get5") == 0 ? 2
                 : strcmp(name, "info") == 0 ? 3
                                             : -1;
    if (method < 0) {
      fprintf(stderr, "floor: unknown method %s\n", name);
      return 2;
    }
    int v[4] = {0}, got[5], failed = 0;
    /* Pass -1 is an untimed warm-up; a read reads what pass -1 set. */
    for (int p = -1; p < PASSES; p++) {
      int shift = 8 * (((method == 2 ? 0 : p) + r) & 1);
      v[0] = 60 + shift, v[1] = 10 + shift, v[2] = 6 + shift, v[3] = 120000 + shift;
      double t0 = now_ns();
      for (int i = 0; i < n; i++) {
        if (method == 3) failed |= info(fds[i]);
        else if (method == 0 || (method == 2 && p < 0)) failed |= set5(fds[i], v);
        else if (method == 1) failed |= set4(fds[i], v);
        else failed |= get5(fds[i], got);
      }
      if (p >= 0) printf("%s%.1f", p ? " " : "", (now_ns() - t0) / n);
    }
    /* Verify, untimed: every socket holds what was set last (a TCP_INFO
     * pass sets nothing; it checked each state as it read it). */
    for (int i = 0; i < n && !failed && method != 3; i++) {
      failed |= get5(fds[i], got);
      failed |= got[0] != v[0] || got[4] != 1 ||
                (method != 1 ? got[1] != v[1] || got[2] != v[2] || got[3] != v[3]
                             : got[1] != node_interval || got[2] != node_count);
    }
    if (failed) {
      fprintf(stderr, "floor: a socket did not hold the values set\n");
      return 1;
    }
    printf("\n");
    fflush(stdout);
  }
  return 0;
}

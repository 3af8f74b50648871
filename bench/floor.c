/*
 * The syscall floor for bench/bench.mjs: the same socket-option calls that
 * tcp-keepalive (and Node) make, from C with no runtime in between.
 *
 * usage: floor N
 * Opens N connected loopback pairs, prints "ready", then answers one line
 * per command on stdin, so that the bench can interleave its rounds with
 * the Node methods' rounds:
 *   set5 A B C D   five setsockopt per socket (TCP_KEEPIDLE=A s, TCP_KEEPINTVL=B s,
 *                  TCP_KEEPCNT=C, TCP_USER_TIMEOUT=D ms, SO_KEEPALIVE=1)
 *   set4 A B C     Node's four (SO_KEEPALIVE=1, TCP_KEEPIDLE=A, TCP_KEEPINTVL=B, TCP_KEEPCNT=C)
 *   get5           five getsockopt per socket
 * Each command makes PASSES back-to-back passes over all sockets, as the
 * bench does for every method (a set alternates between its values and the
 * same plus SHIFT, ending on its own), and answers "ns ns ns ok": ns per
 * socket of each pass, after checking (untimed) that every socket holds
 * the values set last (or read what was set last); "error ..." if not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define PASSES 3
#define SHIFT 16

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int set5(int fd, const int v[4]) {
  static const int one = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v[0], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v[1], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v[2], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v[3], sizeof(int)) ||
         setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(int));
}

static int set4(int fd, const int v[4]) {
  static const int one = 1;
  return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v[0], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v[1], sizeof(int)) ||
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v[2], sizeof(int));
}

/* v: idle, interval, count, user timeout, keepalive */
static int get5(int fd, int v[5]) {
  socklen_t len = sizeof(int);
  return getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v[0], &len) ||
         getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v[1], &len) ||
         getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v[2], &len) ||
         getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v[3], &len) ||
         getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v[4], &len);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor N\n");
    return 2;
  }
  int n = atoi(argv[1]);
  int *fds = calloc(2 * (size_t)n, sizeof(int));
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t addr_len = sizeof(addr);
  if (!fds || listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) ||
      listen(listener, 4096) || getsockname(listener, (struct sockaddr *)&addr, &addr_len)) {
    fprintf(stderr, "floor: listen: %s\n", strerror(errno));
    return 1;
  }
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&addr, sizeof(addr)) ||
        (fds[n + i] = accept(listener, NULL, NULL)) < 0) {
      fprintf(stderr, "floor: connect: %s\n", strerror(errno));
      return 1;
    }
  }
  printf("ready\n");
  fflush(stdout);

  char line[128];
  int last[5] = {0};
  while (fgets(line, sizeof(line), stdin)) {
    int v[4] = {0}, got[5], failed = 0, four = 0;
    double ns[PASSES];
    if (strncmp(line, "get5", 4) == 0) {
      for (int p = 0; p < PASSES; p++) {
        double t0 = now_ns();
        for (int i = 0; i < n; i++) {
          failed |= get5(fds[i], got);
          failed |= memcmp(got, last, sizeof(got)) != 0;
        }
        ns[p] = (now_ns() - t0) / n;
      }
    } else if (sscanf(line, "set5 %d %d %d %d", &v[0], &v[1], &v[2], &v[3]) == 4 ||
               (four = sscanf(line, "set4 %d %d %d", &v[0], &v[1], &v[2]) == 3)) {
      for (int p = 0; p < PASSES; p++) {
        int shift = (PASSES - 1 - p) % 2 ? SHIFT : 0;
        int w[4] = {v[0] + shift, four ? v[1] : v[1] + shift, four ? v[2] : v[2] + shift, v[3] + shift};
        double t0 = now_ns();
        for (int i = 0; i < n; i++) failed |= four ? set4(fds[i], w) : set5(fds[i], w);
        ns[p] = (now_ns() - t0) / n;
      }
      /* Verify, untimed: every socket holds what was set last. */
      for (int i = 0; i < n && !failed; i++) {
        failed |= get5(fds[i], got);
        failed |= got[0] != v[0] || got[1] != v[1] || got[2] != v[2] || got[4] != 1 || (!four && got[3] != v[3]);
      }
      if (!four) memcpy(last, (int[5]){v[0], v[1], v[2], v[3], 1}, sizeof(last));
    } else {
      printf("error unknown command\n");
      fflush(stdout);
      continue;
    }
    if (failed) {
      printf("error a socket does not hold (or read) the values set last\n");
    } else {
      for (int p = 0; p < PASSES; p++) printf("%.1f ", ns[p]);
      printf("ok\n");
    }
    fflush(stdout);
  }
  return 0;
}

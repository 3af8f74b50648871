// macOS (XNU): the same five settings under other names, every value an int
// set with setsockopt(2). Read in XNU's bsd/netinet/tcp_usrreq.c and
// tcp_timer.c (xnu-11417):
// - TCP_KEEPALIVE is the idle time (Linux's TCP_KEEPIDLE), in seconds;
//   TCP_KEEPINTVL in seconds and TCP_KEEPCNT in probes, as on Linux. XNU
//   takes 0..4294967 s and 0..INT32_MAX probes; lib/ allows Linux's smaller
//   ranges everywhere.
// - TCP_RXT_CONNDROPTIME stands in for TCP_USER_TIMEOUT, in whole seconds
//   (the kernel keeps seconds * 1000 ms in a uint32_t; 0, the default, means
//   never). It is not the same timer: it counts from the first
//   retransmission timeout of an established connection, is checked only
//   when a retransmission timeout fires (so the drop comes at the first one
//   after the limit), ends the connection with ETIMEDOUT, and does not
//   apply to keepalive probes, which TCP_KEEPCNT alone ends.
// - An accepted socket starts with the listener's SO_KEEPALIVE (sonewconn,
//   kern/uipc_socket2.c), TCP_KEEPINTVL and TCP_KEEPCNT (tcp_input.c), but
//   not its TCP_KEEPALIVE or TCP_RXT_CONNDROPTIME: lib/ configures each
//   accepted socket here.
// There is no SO_PROTOCOL: SO_TYPE and the address family tell TCP apart.
#include "keepalive.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <climits>

#include "sockopt_posix.h"

namespace tcp_keepalive {
namespace {

const OptionSpec kOptions[kOptionCount] = {
    // level       name                  label                   unit_ms inherited
    {SOL_SOCKET,  SO_KEEPALIVE,         "SO_KEEPALIVE",         0,    true},  // boolean
    {IPPROTO_TCP, TCP_KEEPALIVE,        "TCP_KEEPALIVE",        1000, false}, // seconds
    {IPPROTO_TCP, TCP_KEEPINTVL,        "TCP_KEEPINTVL",        1000, true},  // seconds
    {IPPROTO_TCP, TCP_KEEPCNT,          "TCP_KEEPCNT",          0,    true},  // probes
    {IPPROTO_TCP, TCP_RXT_CONNDROPTIME, "TCP_RXT_CONNDROPTIME", 1000, false}, // seconds
    {SOL_SOCKET,  SO_TYPE,              "SO_TYPE",              0,    false}, // SOCK_*
};

const int kUserTimeoutUnit = kOptions[kTcpUserTimeout].unit_ms;

// Asks the kernel whether fd is a TCP socket: a stream socket of the IPv4
// or IPv6 family is TCP on XNU. 1 if it is, 0 if not, -errno when the
// kernel could not say (ENOTSOCK: not a socket at all).
int IsTcpSocket(int fd) {
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -errno;
  if (type != SOCK_STREAM) return 0;
  sockaddr_storage address;
  len = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) != 0)
    return -errno;
  return address.ss_family == AF_INET || address.ss_family == AF_INET6;
}

// XNU answers a TCP-level option on a non-TCP socket with whatever that
// protocol's handler says (EOPNOTSUPP from a Unix-domain socket, an IP
// error from UDP), so the errno alone proves nothing: the kernel is asked
// what the socket is, on the error path only.
int FailFirst(int fd, int err, Failure* failure) {
  int tcp = IsTcpSocket(fd);
  failure->not_tcp = tcp == 0 || tcp == -ENOTSOCK;
  return err;
}

}  // namespace

unsigned SupportedOptions() {
  return 1u << kSoKeepalive | 1u << kTcpKeepidle | 1u << kTcpKeepintvl |
         1u << kTcpKeepcnt | 1u << kTcpUserTimeout;
}

int Enable(int fd, const Config& c, Failure* failure) {
  // lib/ refuses a user timeout that is not whole seconds before it calls
  // in; this only guards a direct binding call, before any syscall.
  if (c.user_timeout_ms % kUserTimeoutUnit != 0)
    return Refuse(kTcpUserTimeout, false, -EINVAL, failure);
  int err;
  if ((err = Set(fd, kTcpKeepidle, c.idle_s, failure)))
    return FailFirst(fd, err, failure);
  if ((err = Set(fd, kTcpKeepintvl, c.interval_s, failure)) ||
      (err = Set(fd, kTcpKeepcnt, c.count, failure)) ||
      (err = Set(fd, kTcpUserTimeout, c.user_timeout_ms / kUserTimeoutUnit,
                 failure)) ||
      (err = Set(fd, kSoKeepalive, 1, failure)))
    return err;
  return 0;
}

int Disable(int fd, Failure* failure) {
  // SO_KEEPALIVE alone succeeds on any socket, so check first: a non-TCP
  // socket must be reported and left as it is.
  int tcp = IsTcpSocket(fd);
  if (tcp <= 0) {
    // tcp == 0: the kernel answered and the socket is not TCP; no syscall
    // failed, so the failure carries no errno (0), only not_tcp.
    Refuse(kProtocolCheck, true, tcp, failure);
    failure->not_tcp = tcp == 0 || tcp == -ENOTSOCK;
    return tcp < 0 ? tcp : -EOPNOTSUPP;
  }
  return Set(fd, kSoKeepalive, 0, failure);
}

int Read(int fd, Config* c, Failure* failure) {
  int err;
  int user_timeout = 0;
  if ((err = Get(fd, kTcpKeepidle, &c->idle_s, failure)))
    return FailFirst(fd, err, failure);
  if ((err = Get(fd, kTcpKeepintvl, &c->interval_s, failure)) ||
      (err = Get(fd, kTcpKeepcnt, &c->count, failure)) ||
      (err = Get(fd, kTcpUserTimeout, &user_timeout, failure)) ||
      (err = Get(fd, kSoKeepalive, &c->enable, failure)))
    return err;
  // Another process can set more seconds than an int of milliseconds holds;
  // report that rather than a wrong number.
  if (user_timeout > INT_MAX / kUserTimeoutUnit)
    return Refuse(kTcpUserTimeout, true, -EOVERFLOW, failure);
  c->user_timeout_ms = user_timeout * kUserTimeoutUnit;
  // XNU returns SO_KEEPALIVE as the flag's bit, not 1.
  c->enable = c->enable != 0;
  return 0;
}

}  // namespace tcp_keepalive

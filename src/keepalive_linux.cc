// Linux: every option is a plain int set with setsockopt(2). All five exist
// in the headers of every glibc and musl that Node 20 builds against
// (TCP_USER_TIMEOUT since Linux 2.6.37 / glibc 2.17), so none is optional.
#include "keepalive.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sockopt_posix.h"

namespace tcp_keepalive {
namespace {

// Ranges (Linux 6.18, net/ipv4/tcp.c): idle and interval 1..32767 s, count
// 1..127, the user timeout an int >= 0 (0: the kernel's own behaviour).
// Accepted sockets inherit all five from the listener (observed, and
// tested in test/set-get.test.ts).
const OptionSpec kOptions[kOptionCount] = {
    // level       name              label               unit_ms inherited
    {SOL_SOCKET,  SO_KEEPALIVE,     "SO_KEEPALIVE",     0,    true},  // boolean
    {IPPROTO_TCP, TCP_KEEPIDLE,     "TCP_KEEPIDLE",     1000, true},  // seconds
    {IPPROTO_TCP, TCP_KEEPINTVL,    "TCP_KEEPINTVL",    1000, true},  // seconds
    {IPPROTO_TCP, TCP_KEEPCNT,      "TCP_KEEPCNT",      0,    true},  // probes
    {IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", 1,    true},  // milliseconds
    {SOL_SOCKET,  SO_PROTOCOL,      "SO_PROTOCOL",      0,    false}, // IPPROTO_*
};

// Multipath TCP is TCP for this purpose: it takes the keepalive options
// (all but TCP_USER_TIMEOUT, as of Linux 6.18).
bool IsTcp(int protocol) {
#ifdef IPPROTO_MPTCP
  if (protocol == IPPROTO_MPTCP) return true;
#endif
  return protocol == IPPROTO_TCP;
}

// A TCP-level option can fail because the socket is not TCP (a Unix-domain
// socket says EOPNOTSUPP, a pipe or file says ENOTSOCK). That is decided
// here, on the error path only, so the normal path makes no extra syscall.
bool ConfirmedNotTcp(int fd, int err) {
  if (err != -EOPNOTSUPP && err != -ENOPROTOOPT && err != -ENOTSOCK)
    return false;
  int protocol = 0;
  socklen_t len = sizeof(protocol);
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0)
    return errno == ENOTSOCK;
  return !IsTcp(protocol);
}

// Only a failure of the first option means "not a TCP socket, nothing
// changed". A socket that accepts some options and refuses a later one
// (MPTCP refuses TCP_USER_TIMEOUT) was changed: that is reported as the
// kernel's own error, naming the option.
int FailFirst(int fd, int err, Failure* failure) {
  failure->not_tcp = ConfirmedNotTcp(fd, err);
  return err;
}

}  // namespace

unsigned SupportedOptions() {
  return 1u << kSoKeepalive | 1u << kTcpKeepidle | 1u << kTcpKeepintvl |
         1u << kTcpKeepcnt | 1u << kTcpUserTimeout;
}

int Enable(int fd, const Config& c, Failure* failure) {
  int err;
  if ((err = Set(fd, kTcpKeepidle, c.idle_s, failure)))
    return FailFirst(fd, err, failure);
  if ((err = Set(fd, kTcpKeepintvl, c.interval_s, failure)) ||
      (err = Set(fd, kTcpKeepcnt, c.count, failure)) ||
      (err = Set(fd, kTcpUserTimeout, c.user_timeout_ms, failure)) ||
      (err = Set(fd, kSoKeepalive, 1, failure)))
    return err;
  return 0;
}

int Disable(int fd, Failure* failure) {
  // SO_KEEPALIVE alone succeeds on any socket, so check the protocol first:
  // a non-TCP socket must be reported and left as it is.
  int protocol = 0;
  int err = Get(fd, kProtocolCheck, &protocol, failure);
  if (err) {
    failure->not_tcp = err == -ENOTSOCK;
    return err;
  }
  if (!IsTcp(protocol)) {
    // The getsockopt succeeded and said "not TCP": no syscall failed, so
    // the failure carries no errno (0), only not_tcp.
    Refuse(kProtocolCheck, true, 0, failure);
    failure->not_tcp = true;
    return -EOPNOTSUPP;
  }
  return Set(fd, kSoKeepalive, 0, failure);
}

int Read(int fd, Config* c, Failure* failure) {
  int err;
  if ((err = Get(fd, kTcpKeepidle, &c->idle_s, failure)))
    return FailFirst(fd, err, failure);
  if ((err = Get(fd, kTcpKeepintvl, &c->interval_s, failure)) ||
      (err = Get(fd, kTcpKeepcnt, &c->count, failure)) ||
      (err = Get(fd, kTcpUserTimeout, &c->user_timeout_ms, failure)) ||
      (err = Get(fd, kSoKeepalive, &c->enable, failure)))
    return err;
  return 0;
}

}  // namespace tcp_keepalive

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
// The live state is TCP_CONNECTION_INFO (struct tcp_connection_info,
// filled by tcp_connection_fill_info in tcp_usrreq.c): it has the state, the
// smoothed RTT and its variance, the retransmission timeout and the
// retransmitted packets, all times in milliseconds; no probe count, backoff,
// unacknowledged segments or times since the last send and receive. There is
// no pidfd_getfd: another process's sockets cannot be read.
#include "keepalive.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#if __has_include(<netinet/tcp_fsm.h>)
#include <netinet/tcp_fsm.h>
#endif

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
    {IPPROTO_TCP, TCP_CONNECTION_INFO,  "TCP_CONNECTION_INFO",  0,    false}, // struct tcp_connection_info
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

int Disable(int fd, int user_timeout_ms, Failure* failure) {
  if (user_timeout_ms % kUserTimeoutUnit != 0)
    return Refuse(kTcpUserTimeout, false, -EINVAL, failure);
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
  if (user_timeout_ms >= 0) {
    int err = Set(fd, kTcpUserTimeout, user_timeout_ms / kUserTimeoutUnit, failure);
    if (err) return err;
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

// The BSD state numbers (XNU bsd/netinet/tcp_fsm.h, TCPS_*, unchanged since
// 4.4BSD), named as RFC 793 names them. zig's macOS headers, the only ones
// here, leave tcp_fsm.h out, so the numbers are written down here and
// checked against the header wherever the build has it (a Mac's SDK).
const char* const kTcpStates[] = {
    "CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECEIVED",
    "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1", "CLOSING",
    "LAST_ACK",    "FIN_WAIT_2", "TIME_WAIT"};
constexpr int kTcpStateCount = sizeof(kTcpStates) / sizeof(kTcpStates[0]);
static_assert(kTcpStateCount <= kTcpStateSlots, "a TCP state has no slot");
#ifdef TCPS_TIME_WAIT
static_assert(TCPS_CLOSED == 0 && TCPS_LISTEN == 1 && TCPS_SYN_SENT == 2 &&
                  TCPS_SYN_RECEIVED == 3 && TCPS_ESTABLISHED == 4 &&
                  TCPS_CLOSE_WAIT == 5 && TCPS_FIN_WAIT_1 == 6 &&
                  TCPS_CLOSING == 7 && TCPS_LAST_ACK == 8 &&
                  TCPS_FIN_WAIT_2 == 9 && TCPS_TIME_WAIT == 10 &&
                  TCP_NSTATES == kTcpStateCount,
              "kTcpStates does not match <netinet/tcp_fsm.h>");
#endif

const char* TcpStateName(int state) {
  return state >= 0 && state < kTcpStateCount ? kTcpStates[state] : nullptr;
}

int ReadTcpInfo(int fd, double* out, Failure* failure, unsigned max_bytes) {
  tcp_connection_info info{};
  socklen_t len = AnswerRoom(sizeof(info), max_bytes);
  if (getsockopt(fd, IPPROTO_TCP, TCP_CONNECTION_INFO, &info, &len) != 0)
    return FailFirst(fd, Fail(kTcpInfo, true, failure), failure);
  // XNU copies as much as fits. It keeps these in milliseconds
  // (TCP_RETRANSHZ 1000); tcpi_rto is the current timeout only while a
  // retransmission is pending, else 0. What it does not report (probes,
  // backoff, unacked segments, the times since the last data) is NaN:
  // absent, as is a field beyond the end of a shorter answer.
  for (int i = 0; i < kTcpInfoFieldCount; i++) out[i] = __builtin_nan("");
#define FIELD(member, value) Answered(FIELD_END(tcp_connection_info, member), len, value)
  out[kInfoState] = FIELD(tcpi_state, info.tcpi_state);
  out[kInfoSmoothedRttMs] = FIELD(tcpi_srtt, info.tcpi_srtt);
  out[kInfoRttVarianceMs] = FIELD(tcpi_rttvar, info.tcpi_rttvar);
  out[kInfoRetransmitTimeoutMs] = FIELD(tcpi_rto, info.tcpi_rto);
  out[kInfoTotalRetransmits] =
      FIELD(tcpi_txretransmitpackets, static_cast<double>(info.tcpi_txretransmitpackets));
#undef FIELD
  return 0;
}

// The dead-peer event is Linux's (it needs TCP_INFO's probe count, which
// TCP_CONNECTION_INFO lacks), and with it the peer of a closed connection.
int ReadEndpoints(int, Endpoints*, const char** syscall_name) {
  *syscall_name = "getsockname";
  return -ENOSYS;
}

int PeekProcess(int, PeekedProcess*, const char** syscall_name) {
  *syscall_name = "pidfd_open";
  return -ENOSYS;
}

}  // namespace tcp_keepalive

// Plain C++ keepalive operations on a socket file descriptor, and the live
// state of a connection. No N-API here: binding.cc does the JavaScript glue,
// one platform file (chosen in binding.gyp) does the syscalls. Every
// function that makes one returns 0 or -errno.
#ifndef TCP_KEEPALIVE_KEEPALIVE_H_
#define TCP_KEEPALIVE_KEEPALIVE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace tcp_keepalive {

// The settings this library touches, named after Linux's options; each
// platform file maps them to its own in one table (name, level, unit). The
// numbering is part of the binding's contract with lib/kernel/addon.ts (it
// indexes the binding's optionNames).
enum Option {
  kSoKeepalive = 0,
  kTcpKeepidle = 1,
  kTcpKeepintvl = 2,
  kTcpKeepcnt = 3,
  kTcpUserTimeout = 4,
  // The kernel-backed "is this TCP?" check (Linux: SO_PROTOCOL; macOS has
  // none and asks SO_TYPE and the address family).
  kProtocolCheck = 5,
  // The connection's live state (Linux: TCP_INFO; macOS: TCP_CONNECTION_INFO).
  kTcpInfo = 6,
  kOptionCount = 7,
};

// Seconds for idle and interval, milliseconds for user_timeout on every
// platform; a platform file converts to its kernel's unit (UnitMs) and
// refuses a value that unit cannot express. The caller has validated the
// ranges.
struct Config {
  int enable;
  int idle_s;
  int interval_s;
  int count;
  int user_timeout_ms;
};

// Filled in when an operation fails: what failed, and whether the socket
// turned out not to be TCP at all (so the caller can say that instead).
struct Failure {
  // -errno, captured right after the failing syscall; 0 when no syscall
  // failed and the kernel's answer showed the socket is not TCP (not_tcp).
  int err;
  Option option;
  bool is_get;  // getsockopt (true) or setsockopt (false)
  bool not_tcp;
};

// Bit (1 << Option) is set for every option this build can set and read.
unsigned SupportedOptions();

// The option's name in this platform's headers, for errors.
const char* OptionName(Option option);

// Milliseconds per unit of the kernel's value (1000 for seconds; 0 for what
// is not a time). lib/ validates the user timeout against it, so a value
// the kernel cannot express is refused before any syscall.
int UnitMs(Option option);

// Whether a connection accepted by a listening socket starts with every
// option the listener had (Linux: yes; macOS: no). Where it does not, lib/
// configures each accepted socket itself.
bool AcceptedSocketsInherit();

// Applies TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT and then
// SO_KEEPALIVE=1: TCP-level options go first so that a non-TCP socket fails
// before anything was changed.
int Enable(int fd, const Config& config, Failure* failure);

// Sets TCP_USER_TIMEOUT to user_timeout_ms unless it is -1 (leave it as it
// is), then SO_KEEPALIVE=0, on a TCP socket, and touches nothing else: lib/
// passes 0 where the user timeout in force was derived from keepalive, which
// must not outlive it.
int Disable(int fd, int user_timeout_ms, Failure* failure);

// Reads all five options (TCP-level first, for the same reason as Enable).
int Read(int fd, Config* config, Failure* failure);

// The live state of a connection, one double per field, in the units
// named (milliseconds for times, plain counts otherwise): the platform file
// converts from its kernel's units. The numbering is part of the binding's
// contract with lib/kernel/addon.ts (it reads the binding's tcpInfo slots).
enum TcpInfoField {
  kInfoState = 0,              // the kernel's state number; TcpStateName names it
  kInfoSmoothedRttMs = 1,
  kInfoRttVarianceMs = 2,
  kInfoRetransmitTimeoutMs = 3,
  kInfoUnansweredProbes = 4,   // keepalive (or zero-window) probes since the last ACK
  kInfoBackoff = 5,            // exponential backoff of the retransmission timer
  kInfoRetransmits = 6,        // retransmissions of the oldest unacknowledged segment
  kInfoTotalRetransmits = 7,
  kInfoUnackedSegments = 8,
  kInfoSinceDataSentMs = 9,
  kInfoSinceDataReceivedMs = 10,
  kInfoSinceAckReceivedMs = 11,
  kTcpInfoFieldCount = 12,
};

// Room for this platform's state numbers: TcpStateName(n) for n below it.
constexpr int kTcpStateSlots = 16;

// The RFC 793 name ("ESTABLISHED", "SYN_SENT", ...) of the kernel's state
// number `state`, or nullptr where no state has that number.
const char* TcpStateName(int state);

// Reads the connection's live state into info[kTcpInfoFieldCount] with one
// getsockopt; a non-TCP socket fails as Read does (failure->not_tcp). A
// field the kernel did not report is NaN, which lib/ shows as absent: one
// this platform's kernel never reports (macOS), or one beyond the end of a
// shorter answer (an older kernel, an emulator). `max_bytes`, unless 0, asks
// for at most that many bytes, as such a kernel answers (the tests use it).
int ReadTcpInfo(int fd, double* info, Failure* failure, unsigned max_bytes = 0);

// A connection's two ends as the kernel has them.
struct Endpoints {
  int family;         // 4 (IPv4) or 6 (IPv6); 0 for a socket that is not IP
  uint8_t local[16];  // addresses in network byte order (IPv4: the first 4)
  uint8_t remote[16];
  int local_port;
  int remote_port;
};

// Reads both ends of a TCP socket, also once the kernel has ended the
// connection (after ETIMEDOUT the state is CLOSED and getpeername answers
// ENOTCONN; Linux still gives the peer through SO_PEERNAME). Returns 0, or
// -errno with `syscall` naming what failed ("getsockname", "getsockopt").
int ReadEndpoints(int fd, Endpoints* out, const char** syscall);

// One TCP socket of another process, as read through a copy of its fd.
struct PeekedSocket {
  int fd;                // its number in that process
  uint64_t inode;        // the socket's inode number
  int family;            // 4 (IPv4) or 6 (IPv6); 0 when it failed before that was known
  int protocol;          // IPPROTO_TCP or IPPROTO_MPTCP (set with family)
  uint8_t local[16];     // addresses in network byte order (IPv4: the first 4)
  uint8_t remote[16];    // zeros when it has no peer (listening, not connected)
  int local_port;
  int remote_port;
  Config config;
  double info[kTcpInfoFieldCount];
  // 0 when it was read; else -errno of the syscall that failed on it (the
  // socket then has only what was read before: its fd and inode, and its
  // family, protocol and addresses if `family` is set), and for a getsockopt
  // the option's name.
  int err;
  const char* syscall;   // "pidfd_getfd", "readlink", "getsockname", "getsockopt"
  const char* option;    // "TCP_USER_TIMEOUT", "SO_TYPE", ...; nullptr for others
};

// What PeekProcess read of a process.
struct PeekedProcess {
  std::string cmdline;   // the start of /proc/<pid>/cmdline; empty when unreadable
  std::string comm;      // /proc/<pid>/comm; empty when unreadable
  int uid = -1;          // the real uid in /proc/<pid>/status; -1 when unreadable
  std::string netns;     // the link /proc/<pid>/ns/net ("net:[4026531840]"); empty when unreadable
  // The process exited during the inspection (its pidfd said so, after
  // everything else was read): nothing read is reported as its.
  bool exited = false;
  std::vector<PeekedSocket> sockets;  // in fd order
};

// Reads every TCP socket (IPv4 and IPv6, TCP and MPTCP, in any network
// namespace, bound or not) process `pid` holds: opens the process
// (pidfd_open), reads its name and owner, lists its fds (/proc/<pid>/fd), and
// for each fd that is a socket takes a copy (pidfd_getfd), checks which
// socket the copy is, whether it is TCP, reads its addresses, the five
// options and the live state with getsockname and getsockopt, and closes the
// copy before the next. A socket held by several fds is read once; an fd
// closed meanwhile is passed over; a socket that cannot be read is a row with
// its error. What a copy does to the socket: docs/live-state.md#what-it-touches.
// Returns 0, or -errno with `syscall` naming what failed for the process as a
// whole ("pidfd_open", "open", "readlinkat", "pidfd_getfd" when every copy was
// refused, ...); out->exited is set either way, and on failure or exit
// out->sockets is empty. Linux 5.6+; elsewhere -ENOSYS.
int PeekProcess(int pid, PeekedProcess* out, const char** syscall);

}  // namespace tcp_keepalive

#endif  // TCP_KEEPALIVE_KEEPALIVE_H_

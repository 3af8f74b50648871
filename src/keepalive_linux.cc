// Linux: every option is a plain int set with setsockopt(2). All five exist
// in the headers of every glibc and musl that Node 20 builds against
// (TCP_USER_TIMEOUT since Linux 2.6.37 / glibc 2.17), so none is optional.
// The live state is TCP_INFO, and another process's sockets are reached
// with pidfd_open(2) and pidfd_getfd(2) (Linux 5.6).
#include "keepalive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

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
    {IPPROTO_TCP, TCP_INFO,         "TCP_INFO",         0,    false}, // struct tcp_info
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

// Closes the fd it holds when it goes out of scope (a copied fd must never
// outlive the read it was taken for).
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// pidfd_open(2) and pidfd_getfd(2) by number: glibc wraps only pidfd_open
// (2.36, newer than the 2.28 this addon may require) and musl neither. The
// numbers come from the C library's <sys/syscall.h>; headers older than
// Linux 5.6's lack them, and such a build takes them from here rather than
// answer ENOSYS as if the kernel had none. Since Linux 5.1 every architecture
// numbers a new syscall alike (pidfd_open 434, pidfd_getfd 438), on top of
// the base of its table where it has one.
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
constexpr long kSysPidfdOpen = SYS_pidfd_open;
constexpr long kSysPidfdGetfd = SYS_pidfd_getfd;
#else
#if defined(__alpha__)
constexpr long kSyscallBase = 110;
#elif defined(__mips__)
constexpr long kSyscallBase = __NR_Linux;  // 4000 o32, 5000 n64, 6000 n32
#elif defined(__ia64__)
constexpr long kSyscallBase = 1024;
#elif defined(__x86_64__) && defined(__ILP32__)
constexpr long kSyscallBase = __X32_SYSCALL_BIT;  // x32
#else
constexpr long kSyscallBase = 0;
#endif
constexpr long kSysPidfdOpen = kSyscallBase + 434;
constexpr long kSysPidfdGetfd = kSyscallBase + 438;
#endif

int PidfdOpen(int pid) {
  return static_cast<int>(syscall(kSysPidfdOpen, pid, 0));
}

int PidfdGetfd(int pidfd, int fd) {
  return static_cast<int>(syscall(kSysPidfdGetfd, pidfd, fd, 0));
}

// The inode of a /proc/<pid>/fd link that reads "socket:[12345]"; 0 for
// any other link (a file, a pipe, an anon inode).
uint64_t SocketInode(const char* link, ssize_t length) {
  static const char kPrefix[] = "socket:[";
  const ssize_t prefix = sizeof(kPrefix) - 1;
  if (length <= prefix + 1 || link[length - 1] != ']') return 0;
  for (ssize_t i = 0; i < prefix; i++)
    if (link[i] != kPrefix[i]) return 0;
  uint64_t inode = 0;
  for (ssize_t i = prefix; i < length - 1; i++) {
    if (link[i] < '0' || link[i] > '9') return 0;
    inode = inode * 10 + static_cast<uint64_t>(link[i] - '0');
  }
  return inode;
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

int Disable(int fd, int user_timeout_ms, Failure* failure) {
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
  if (user_timeout_ms >= 0 &&
      (err = Set(fd, kTcpUserTimeout, user_timeout_ms, failure)))
    return err;
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

const char* TcpStateName(int state) {
  // <netinet/tcp.h>'s numbering (the kernel's), RFC 793's names.
  static_assert(TCP_CLOSING < kTcpStateSlots, "a TCP state has no slot");
  switch (state) {
    case TCP_ESTABLISHED: return "ESTABLISHED";
    case TCP_SYN_SENT: return "SYN_SENT";
    case TCP_SYN_RECV: return "SYN_RECEIVED";
    case TCP_FIN_WAIT1: return "FIN_WAIT_1";
    case TCP_FIN_WAIT2: return "FIN_WAIT_2";
    case TCP_TIME_WAIT: return "TIME_WAIT";
    case TCP_CLOSE: return "CLOSED";
    case TCP_CLOSE_WAIT: return "CLOSE_WAIT";
    case TCP_LAST_ACK: return "LAST_ACK";
    case TCP_LISTEN: return "LISTEN";
    case TCP_CLOSING: return "CLOSING";
    default: return nullptr;
  }
}

int ReadTcpInfo(int fd, double* out, Failure* failure, unsigned max_bytes) {
  // The kernel copies as much of its struct tcp_info as the caller has room
  // for, and says how much. The C library's struct is a prefix of the
  // kernel's of its day: 104 bytes in glibc's header (up to
  // tcpi_total_retrans, Linux 2.6), 232 in the musl header the musl build
  // uses (Linux 5.4). A kernel older than the header answers shorter, and
  // qemu-user passes TCP-level options as one int, so only the first four
  // bytes arrive. Every field read here lies in the first 104 bytes, which
  // every kernel Node supports (4.18+) fills; a field the answer did not
  // reach is NaN (absent), never a zero that was not measured.
  tcp_info info{};
  socklen_t len = AnswerRoom(sizeof(info), max_bytes);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
    return FailFirst(fd, Fail(kTcpInfo, true, failure), failure);
  // Units (include/uapi/linux/tcp.h, net/ipv4/tcp.c tcp_get_info): rtt,
  // rttvar and rto in microseconds, the last_* times in milliseconds since
  // that event. A listening socket reports its state, and in tcpi_unacked
  // the connections waiting to be accepted; the rest is 0.
#define FIELD(member, value) Answered(FIELD_END(tcp_info, member), len, value)
  out[kInfoState] = FIELD(tcpi_state, info.tcpi_state);
  out[kInfoSmoothedRttMs] = FIELD(tcpi_rtt, info.tcpi_rtt / 1000.0);
  out[kInfoRttVarianceMs] = FIELD(tcpi_rttvar, info.tcpi_rttvar / 1000.0);
  out[kInfoRetransmitTimeoutMs] = FIELD(tcpi_rto, info.tcpi_rto / 1000.0);
  out[kInfoUnansweredProbes] = FIELD(tcpi_probes, info.tcpi_probes);
  out[kInfoBackoff] = FIELD(tcpi_backoff, info.tcpi_backoff);
  out[kInfoRetransmits] = FIELD(tcpi_retransmits, info.tcpi_retransmits);
  out[kInfoTotalRetransmits] = FIELD(tcpi_total_retrans, info.tcpi_total_retrans);
  out[kInfoUnackedSegments] = FIELD(tcpi_unacked, info.tcpi_unacked);
  out[kInfoSinceDataSentMs] = FIELD(tcpi_last_data_sent, info.tcpi_last_data_sent);
  out[kInfoSinceDataReceivedMs] = FIELD(tcpi_last_data_recv, info.tcpi_last_data_recv);
  out[kInfoSinceAckReceivedMs] = FIELD(tcpi_last_ack_recv, info.tcpi_last_ack_recv);
#undef FIELD
  return 0;
}


namespace {

// Whether the process behind `pidfd` has exited: its pidfd turns readable
// then (a zombie included). Its pid is reused only after that, so a /proc/<pid>
// read before a check that finds it running was this process's.
bool Exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  int n;
  do n = poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  return n > 0;
}

// Up to `limit` bytes of a /proc file (its size reads as 0); empty when it
// cannot be read (hidden by hidepid, a kernel thread's cmdline, ...).
std::string ReadProc(const char* path, size_t limit) {
  std::string text;
  OwnedFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return text;
  char buffer[4096];
  while (text.size() < limit) {
    ssize_t n = read(fd.get(), buffer, std::min(sizeof(buffer), limit - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// The real uid on the "Uid:" line of /proc/<pid>/status; -1 when unknown.
int RealUid(const std::string& status) {
  size_t at = status.find("\nUid:");
  if (at == std::string::npos) return -1;
  const char* p = status.c_str() + at + 5;
  while (*p == '\t' || *p == ' ') p++;
  char* end;
  long uid = strtol(p, &end, 10);
  return end == p || uid < 0 ? -1 : static_cast<int>(uid);
}

// An address as getsockname and SO_PEERNAME give it: 4 or 6, or 0 for a
// family that is not IP; the bytes in network order.
int Endpoint(const sockaddr_storage& address, uint8_t* bytes, int* port) {
  if (address.ss_family == AF_INET) {
    const sockaddr_in& in = reinterpret_cast<const sockaddr_in&>(address);
    memcpy(bytes, &in.sin_addr, 4);
    *port = ntohs(in.sin_port);
    return 4;
  }
  if (address.ss_family == AF_INET6) {
    const sockaddr_in6& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    memcpy(bytes, &in6.sin6_addr, 16);
    *port = ntohs(in6.sin6_port);
    return 6;
  }
  return 0;
}

// A syscall on this socket failed (errno says how): the socket's row says so.
void Unreadable(PeekedSocket* socket, const char* syscall_name,
                const char* option) {
  socket->err = -errno;
  socket->syscall = syscall_name;
  socket->option = option;
}

enum class Copy { kRead, kUnreadable, kNotTcp };

// Reads the copy `fd` of a socket: whether it is TCP (an IPv4 or IPv6 stream
// socket of protocol TCP or MPTCP: SO_PROTOCOL alone would take a raw socket
// of protocol TCP), then its addresses, the five options and the live state.
Copy ReadCopy(int fd, PeekedSocket* socket) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    Unreadable(socket, "getsockname", nullptr);
    return Copy::kUnreadable;
  }
  int family = Endpoint(address, socket->local, &socket->local_port);
  if (family == 0) return Copy::kNotTcp;
  int type = 0;
  int protocol = 0;
  socklen_t int_length = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &int_length) != 0) {
    Unreadable(socket, "getsockopt", "SO_TYPE");
    return Copy::kUnreadable;
  }
  if (type != SOCK_STREAM) return Copy::kNotTcp;
  int_length = sizeof(protocol);
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &int_length) != 0) {
    Unreadable(socket, "getsockopt", "SO_PROTOCOL");
    return Copy::kUnreadable;
  }
  if (!IsTcp(protocol)) return Copy::kNotTcp;
  // SO_PEERNAME, not getpeername: it names the peer of a connection still
  // being made (SYN_SENT) too. Its length must not exceed the address's.
  // ENOTCONN: no peer (listening, unbound, or never connected).
  sockaddr_storage peer{};
  length = family == 4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERNAME, &peer, &length) == 0) {
    Endpoint(peer, socket->remote, &socket->remote_port);
  } else if (errno != ENOTCONN) {
    Unreadable(socket, "getsockopt", "SO_PEERNAME");
    return Copy::kUnreadable;
  }
  socket->family = family;
  socket->protocol = protocol;
  Failure failure;
  int err = Read(fd, &socket->config, &failure);
  if (err == 0) err = ReadTcpInfo(fd, socket->info, &failure);
  if (err != 0) {
    // Read and ReadTcpInfo name the option; their errno is in `err`.
    socket->err = err;
    socket->syscall = "getsockopt";
    socket->option = OptionName(failure.option);
    return Copy::kUnreadable;
  }
  return Copy::kRead;
}

}  // namespace

int ReadEndpoints(int fd, Endpoints* out, const char** syscall_name) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    *syscall_name = "getsockname";
    return -errno;
  }
  out->family = Endpoint(address, out->local, &out->local_port);
  // SO_PEERNAME, as for inspect: it answers in any state (getpeername says
  // ENOTCONN once the connection is CLOSED), for a length no longer than
  // the family's address.
  sockaddr_storage peer{};
  length = out->family == 4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERNAME, &peer, &length) != 0) {
    *syscall_name = "getsockopt";
    return -errno;
  }
  Endpoint(peer, out->remote, &out->remote_port);
  return 0;
}

int PeekProcess(int pid, PeekedProcess* out, const char** syscall_name) {
  // The pidfd is this process and no other: if it exits and its pid is
  // reused while this runs, pidfd_getfd fails with ESRCH rather than copy
  // from the new one, and the check at the end finds it exited, so that
  // nothing read from /proc/<pid> is reported as this process's.
  OwnedFd pidfd(PidfdOpen(pid));
  if (pidfd.get() < 0) {
    *syscall_name = "pidfd_open";
    return -errno;
  }
  char path[40];
  snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
  out->cmdline = ReadProc(path, 4096);
  snprintf(path, sizeof(path), "/proc/%d/comm", pid);
  out->comm = ReadProc(path, 64);
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  out->uid = RealUid(ReadProc(path, 4096));
  snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
  char netns[64];
  ssize_t netns_length = readlink(path, netns, sizeof(netns));
  if (netns_length > 0) out->netns.assign(netns, static_cast<size_t>(netns_length));
  // Any failure from here on may be the process exiting under it: the
  // caller tells "gone" from the rest with out->exited.
  int err = 0;
  snprintf(path, sizeof(path), "/proc/%d/fd", pid);
  int dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = nullptr;
  if (dir_fd < 0) {
    err = -errno;
    *syscall_name = "open";
  } else if ((dir = fdopendir(dir_fd)) == nullptr) {
    err = -errno;
    close(dir_fd);
    *syscall_name = "fdopendir";
  }
  // The listing first: each fd that is a socket, and its inode.
  struct Listed {
    int fd;
    uint64_t inode;
    bool again;  // another fd of the same socket comes first: read that one
  };
  std::vector<Listed> listed;
  while (dir != nullptr) {
    errno = 0;
    const dirent* entry = readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) {
        err = -errno;
        *syscall_name = "readdir";
      }
      break;
    }
    char* name_end;
    long fd = strtol(entry->d_name, &name_end, 10);
    if (*name_end != '\0' || name_end == entry->d_name || fd < 0) continue;  // "." and ".."
    char link[64];
    ssize_t length = readlinkat(dirfd(dir), entry->d_name, link, sizeof(link));
    if (length < 0) {
      if (errno == ENOENT) continue;  // closed since the listing
      err = -errno;
      *syscall_name = "readlinkat";
      break;
    }
    uint64_t inode = SocketInode(link, length);
    if (inode != 0) listed.push_back({static_cast<int>(fd), inode, false});
  }
  if (dir != nullptr) closedir(dir);
  // A socket held by several fds is read once, through its lowest fd. (By
  // sorting, not a hash set: std::unordered_set would need GLIBCXX_3.4.29,
  // newer than the libstdc++ that Node's own binaries need.)
  std::sort(listed.begin(), listed.end(), [](const Listed& a, const Listed& b) {
    return a.inode != b.inode ? a.inode < b.inode : a.fd < b.fd;
  });
  std::vector<uint64_t> inodes(listed.size());
  for (size_t i = 0; i < listed.size(); i++) {
    inodes[i] = listed[i].inode;
    listed[i].again = i > 0 && listed[i].inode == listed[i - 1].inode;
  }
  std::sort(listed.begin(), listed.end(),
            [](const Listed& a, const Listed& b) { return a.fd < b.fd; });
  // Sockets found in place of a listed one (an fd closed and reused since
  // the listing) and read: rare, so a plain list.
  std::vector<uint64_t> found;
  size_t copied = 0;     // copies taken
  int refused = 0;       // pidfd_getfd's EPERM or EACCES, before any copy
  for (size_t i = 0; err == 0 && i < listed.size(); i++) {
    if (listed[i].again) continue;
    PeekedSocket socket{};
    socket.fd = listed[i].fd;
    socket.inode = listed[i].inode;
    OwnedFd copy(PidfdGetfd(pidfd.get(), socket.fd));
    if (copy.get() < 0) {
      if (errno == EBADF) continue;  // closed since the listing
      if (errno == ESRCH) {          // the process exited
        err = -errno;
        *syscall_name = "pidfd_getfd";
        break;
      }
      if (copied == 0 && (errno == EPERM || errno == EACCES)) refused = -errno;
      Unreadable(&socket, "pidfd_getfd", nullptr);
      out->sockets.push_back(socket);
      continue;
    }
    copied++;
    // The fd number may have been closed and reused since its link was read:
    // the copy's own link says which socket it is. (Not fstat: glibc 2.33+
    // binds it to fstat64@GLIBC_2.33, newer than the glibc 2.28 that Node's
    // own binaries need.)
    char copy_path[40];
    char link[64];
    snprintf(copy_path, sizeof(copy_path), "/proc/self/fd/%d", copy.get());
    ssize_t length = readlink(copy_path, link, sizeof(link));
    if (length < 0) {
      Unreadable(&socket, "readlink", nullptr);
      out->sockets.push_back(socket);
      continue;
    }
    uint64_t inode = SocketInode(link, length);
    if (inode != socket.inode) {
      // Not a socket now, or one that its own fd in the listing reads, or
      // one already read in place of another.
      if (inode == 0 || std::binary_search(inodes.begin(), inodes.end(), inode) ||
          std::find(found.begin(), found.end(), inode) != found.end())
        continue;
      found.push_back(inode);
      socket.inode = inode;
    }
    if (ReadCopy(copy.get(), &socket) != Copy::kNotTcp)
      out->sockets.push_back(socket);
  }
  // Every copy refused, as ptrace rules refuse (not one socket's security
  // label): the process as a whole is not permitted.
  if (err == 0 && copied == 0 && refused != 0) {
    err = refused;
    *syscall_name = "pidfd_getfd";
  }
  out->exited = Exited(pidfd.get());
  if (err != 0 || out->exited) out->sockets.clear();
  return err;
}

}  // namespace tcp_keepalive

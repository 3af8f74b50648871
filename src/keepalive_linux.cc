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
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
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

// The syscalls by number: glibc 2.36 and musl wrap neither. The numbers
// come from the C library's <sys/syscall.h>; headers older than Linux 5.6's
// have none, and the build then says ENOSYS, as an old kernel would.
int PidfdOpen(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

int PidfdGetfd(int pidfd, int fd) {
#ifdef SYS_pidfd_getfd
  return static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
#else
  (void)pidfd;
  (void)fd;
  errno = ENOSYS;
  return -1;
#endif
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


unsigned TcpInfoFields() { return (1u << kTcpInfoFieldCount) - 1; }

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

int ReadTcpInfo(int fd, double* out, Failure* failure) {
  // The C library's struct tcp_info is a prefix of the kernel's (glibc's
  // ends at tcpi_total_retrans, Linux 2.6.x), which copies what fits.
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
    return FailFirst(fd, Fail(kTcpInfo, true, failure), failure);
  // Units (include/uapi/linux/tcp.h, net/ipv4/tcp.c tcp_get_info): rtt,
  // rttvar and rto in microseconds, the last_* times in milliseconds since
  // that event. A listening socket reports its state, and in tcpi_unacked
  // the connections waiting to be accepted; the rest is 0.
  out[kInfoState] = info.tcpi_state;
  out[kInfoSmoothedRttMs] = info.tcpi_rtt / 1000.0;
  out[kInfoRttVarianceMs] = info.tcpi_rttvar / 1000.0;
  out[kInfoRetransmitTimeoutMs] = info.tcpi_rto / 1000.0;
  out[kInfoUnansweredProbes] = info.tcpi_probes;
  out[kInfoBackoff] = info.tcpi_backoff;
  out[kInfoRetransmits] = info.tcpi_retransmits;
  out[kInfoTotalRetransmits] = info.tcpi_total_retrans;
  out[kInfoUnackedSegments] = info.tcpi_unacked;
  out[kInfoSinceDataSentMs] = info.tcpi_last_data_sent;
  out[kInfoSinceDataReceivedMs] = info.tcpi_last_data_recv;
  out[kInfoSinceAckReceivedMs] = info.tcpi_last_ack_recv;
  return 0;
}

int PeekProcessSockets(int pid, const uint64_t* inodes, unsigned count,
                       PeekedSocket* out, unsigned* found,
                       const char** syscall_name, Failure* failure) {
  *found = 0;
  // The pidfd pins the process: if it exits (and its pid is reused) while
  // this runs, every pidfd_getfd fails with ESRCH instead of copying from
  // another process.
  OwnedFd pidfd(PidfdOpen(pid));
  if (pidfd.get() < 0) {
    *syscall_name = "pidfd_open";
    return -errno;
  }
  char path[32];
  snprintf(path, sizeof(path), "/proc/%d/fd", pid);
  int dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    *syscall_name = "open";
    return -errno;
  }
  DIR* dir = fdopendir(dir_fd);
  if (dir == nullptr) {
    int err = -errno;
    close(dir_fd);
    *syscall_name = "fdopendir";
    return err;
  }
  std::vector<bool> taken(count);
  int err = 0;
  for (;;) {
    errno = 0;
    const dirent* entry = readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) {
        err = -errno;
        *syscall_name = "readdir";
      }
      break;
    }
    char* end;
    long fd = strtol(entry->d_name, &end, 10);
    if (*end != '\0' || end == entry->d_name || fd < 0) continue;  // "." and ".."
    char link[64];
    ssize_t length = readlinkat(dirfd(dir), entry->d_name, link, sizeof(link));
    if (length < 0) {
      if (errno == ENOENT) continue;  // closed since the listing
      err = -errno;
      *syscall_name = "readlinkat";
      break;
    }
    uint64_t inode = SocketInode(link, length);
    const uint64_t* at = std::lower_bound(inodes, inodes + count, inode);
    if (inode == 0 || at == inodes + count || *at != inode || taken[at - inodes])
      continue;
    OwnedFd copy(PidfdGetfd(pidfd.get(), static_cast<int>(fd)));
    if (copy.get() < 0) {
      if (errno == EBADF) continue;  // closed since the listing
      err = -errno;
      *syscall_name = "pidfd_getfd";
      break;
    }
    // The fd number may have been closed and reused since its link was
    // read: only the socket it named is read.
    struct stat st;
    if (fstat(copy.get(), &st) != 0) {
      err = -errno;
      *syscall_name = "fstat";
      break;
    }
    if (!S_ISSOCK(st.st_mode) || static_cast<uint64_t>(st.st_ino) != inode)
      continue;
    PeekedSocket& socket = out[*found];
    if ((err = Read(copy.get(), &socket.config, failure)) ||
        (err = ReadTcpInfo(copy.get(), socket.info, failure))) {
      *syscall_name = "getsockopt";
      break;
    }
    socket.fd = static_cast<int>(fd);
    socket.inode = inode;
    taken[at - inodes] = true;
    ++*found;
  }
  closedir(dir);
  return err;
}

}  // namespace tcp_keepalive

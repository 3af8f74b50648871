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
  // Every kernel since 2.6 fills all of it. A shorter answer comes from an
  // emulator (qemu-user passes TCP-level options as one int, so only the
  // first four bytes arrive): refused rather than reported as zeros.
  if (len < sizeof(info)) return Refuse(kTcpInfo, true, -ENODATA, failure);
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

namespace {

// A socket's line in /proc/<pid>/net/tcp or tcp6.
struct TableEntry {
  uint64_t inode;
  int family;
  uint8_t local[16];
  uint8_t remote[16];
  int local_port;
  int remote_port;
};

// The whole of a /proc file (its size is 0 until read). 0 or -errno.
int ReadFile(const char* path, std::string* text) {
  OwnedFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return -errno;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return 0;
    text->append(buffer, static_cast<size_t>(n));
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "0100007F:1F90" (IPv4: one word) or 32 hex digits and a port (IPv6: four
// words). The kernel prints each 32-bit word of the address as the number
// it is in memory (%08X of a __be32), so copying the parsed number back into
// memory gives the bytes in network order, on a host of either byte order.
bool ParseEndpoint(const char* p, const char* end, int words, uint8_t* bytes,
                   int* port) {
  if (end - p != words * 8 + 5 || p[words * 8] != ':') return false;
  for (int w = 0; w < words; w++) {
    uint32_t word = 0;
    for (int i = 0; i < 8; i++) {
      int digit = HexDigit(p[w * 8 + i]);
      if (digit < 0) return false;
      word = word << 4 | static_cast<uint32_t>(digit);
    }
    memcpy(bytes + 4 * w, &word, 4);
  }
  *port = 0;
  for (const char* q = p + words * 8 + 1; q < end; q++) {
    int digit = HexDigit(*q);
    if (digit < 0) return false;
    *port = *port << 4 | digit;
  }
  return true;
}

// Every line with a socket of its own (inode != 0; a TIME_WAIT has none):
// "sl local remote st tx:rx tr:when retrnsmt uid timeout inode ...".
void ParseTable(const std::string& text, int family,
                std::vector<TableEntry>* entries) {
  const int words = family == 4 ? 1 : 4;
  const char* p = text.data();
  const char* const end = p + text.size();
  const char* line_end = static_cast<const char*>(memchr(p, '\n', end - p));
  p = line_end == nullptr ? end : line_end + 1;  // the heading
  while (p < end) {
    line_end = static_cast<const char*>(memchr(p, '\n', end - p));
    if (line_end == nullptr) line_end = end;
    const char* token[10];
    const char* token_end[10];
    int tokens = 0;
    for (const char* q = p; q < line_end && tokens < 10;) {
      while (q < line_end && *q == ' ') q++;
      if (q == line_end) break;
      token[tokens] = q;
      while (q < line_end && *q != ' ') q++;
      token_end[tokens++] = q;
    }
    p = line_end + 1;
    if (tokens < 10) continue;
    TableEntry entry{};
    entry.family = family;
    for (const char* q = token[9]; q < token_end[9]; q++) {
      if (*q < '0' || *q > '9') {
        entry.inode = 0;
        break;
      }
      entry.inode = entry.inode * 10 + static_cast<uint64_t>(*q - '0');
    }
    if (entry.inode != 0 &&
        ParseEndpoint(token[1], token_end[1], words, entry.local,
                      &entry.local_port) &&
        ParseEndpoint(token[2], token_end[2], words, entry.remote,
                      &entry.remote_port))
      entries->push_back(entry);
  }
}

// The process's TCP sockets, sorted by inode. A kernel without IPv6 has no
// tcp6.
int ReadTables(int pid, std::vector<TableEntry>* entries) {
  for (int family : {4, 6}) {
    char path[48];
    snprintf(path, sizeof(path), "/proc/%d/net/%s", pid,
             family == 4 ? "tcp" : "tcp6");
    std::string text;
    int err = ReadFile(path, &text);
    if (err == -ENOENT && family == 6) continue;
    if (err != 0) return err;
    ParseTable(text, family, entries);
  }
  std::sort(entries->begin(), entries->end(),
            [](const TableEntry& a, const TableEntry& b) { return a.inode < b.inode; });
  return 0;
}

}  // namespace

int PeekProcessSockets(int pid, std::vector<PeekedSocket>* out,
                       const char** syscall_name, Failure* failure) {
  // The pidfd pins the process: if it exits (and its pid is reused) while
  // this runs, every pidfd_getfd fails with ESRCH instead of copying from
  // another process.
  OwnedFd pidfd(PidfdOpen(pid));
  if (pidfd.get() < 0) {
    *syscall_name = "pidfd_open";
    return -errno;
  }
  std::vector<TableEntry> table;
  int err = ReadTables(pid, &table);
  if (err != 0) {
    *syscall_name = "open";
    return err;
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
    err = -errno;
    close(dir_fd);
    *syscall_name = "fdopendir";
    return err;
  }
  std::vector<bool> taken(table.size());
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
    auto at = std::lower_bound(
        table.begin(), table.end(), inode,
        [](const TableEntry& e, uint64_t i) { return e.inode < i; });
    if (inode == 0 || at == table.end() || at->inode != inode ||
        taken[at - table.begin()])
      continue;  // not a TCP socket (or one already read)
    OwnedFd copy(PidfdGetfd(pidfd.get(), static_cast<int>(fd)));
    if (copy.get() < 0) {
      if (errno == EBADF) continue;  // closed since the listing
      err = -errno;
      *syscall_name = "pidfd_getfd";
      break;
    }
    // The fd number may have been closed and reused since its link was
    // read: only the socket it named is read. The copy's own link says which
    // socket it is. (Not fstat: glibc 2.33+ binds it to fstat64@GLIBC_2.33,
    // newer than the glibc 2.28 that Node's own binaries need.)
    char copy_path[40];
    snprintf(copy_path, sizeof(copy_path), "/proc/self/fd/%d", copy.get());
    length = readlink(copy_path, link, sizeof(link));
    if (length < 0) {
      err = -errno;
      *syscall_name = "readlink";
      break;
    }
    if (SocketInode(link, length) != inode) continue;
    PeekedSocket socket;
    if ((err = Read(copy.get(), &socket.config, failure)) ||
        (err = ReadTcpInfo(copy.get(), socket.info, failure))) {
      *syscall_name = "getsockopt";
      break;
    }
    socket.fd = static_cast<int>(fd);
    socket.inode = inode;
    socket.family = at->family;
    memcpy(socket.local, at->local, sizeof(socket.local));
    memcpy(socket.remote, at->remote, sizeof(socket.remote));
    socket.local_port = at->local_port;
    socket.remote_port = at->remote_port;
    taken[at - table.begin()] = true;
    out->push_back(socket);
  }
  closedir(dir);
  return err;
}

}  // namespace tcp_keepalive

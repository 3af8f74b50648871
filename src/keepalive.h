// Plain C++ keepalive operations on a socket file descriptor. No N-API here:
// binding.cc does the JavaScript glue, one platform file (chosen in
// binding.gyp) does the syscalls. Every function returns 0 or -errno.
#ifndef TCP_KEEPALIVE_KEEPALIVE_H_
#define TCP_KEEPALIVE_KEEPALIVE_H_

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
  kOptionCount = 6,
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

// Sets SO_KEEPALIVE=0 on a TCP socket and touches nothing else.
int Disable(int fd, Failure* failure);

// Reads all five options (TCP-level first, for the same reason as Enable).
int Read(int fd, Config* config, Failure* failure);

}  // namespace tcp_keepalive

#endif  // TCP_KEEPALIVE_KEEPALIVE_H_

// What the POSIX platform files (keepalive_linux.cc, keepalive_darwin.cc)
// share: an option table of the same shape, and the int-valued setsockopt /
// getsockopt calls that fill in a Failure. Each platform file includes this
// once and defines its own table, kOptions, next to its syscalls.
#ifndef TCP_KEEPALIVE_SOCKOPT_POSIX_H_
#define TCP_KEEPALIVE_SOCKOPT_POSIX_H_

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include "keepalive.h"

namespace tcp_keepalive {
namespace {

// One row per Option, in Option order.
struct OptionSpec {
  int level;
  int name;
  const char* label;  // the name in this platform's headers, for errors
  int unit_ms;        // milliseconds per unit of the kernel's value; 0: not a time
  bool inherited;     // an accepted socket starts with the listener's value
};

extern const OptionSpec kOptions[kOptionCount];

// Records a failure of `option` as `err` (a negative errno, or 0 when no
// syscall failed) and returns it. Called directly for a failure no syscall
// reported: a value this build refuses to pass on, or a kernel value it
// cannot represent.
inline int Refuse(Option option, bool is_get, int err, Failure* failure) {
  failure->err = err;
  failure->option = option;
  failure->is_get = is_get;
  failure->not_tcp = false;
  return err;
}

// The syscall for `option` just failed: errno says how (read first, before
// anything else can overwrite it).
inline int Fail(Option option, bool is_get, Failure* failure) {
  return Refuse(option, is_get, -errno, failure);
}

inline int Set(int fd, Option option, int value, Failure* failure) {
  const OptionSpec& o = kOptions[option];
  if (setsockopt(fd, o.level, o.name, &value, sizeof(value)) != 0)
    return Fail(option, false, failure);
  return 0;
}

// The size of a struct answer (TCP_INFO, TCP_CONNECTION_INFO) to ask for:
// the whole struct, or at most `max_bytes` where that is set (ReadTcpInfo).
inline socklen_t AnswerRoom(size_t size, unsigned max_bytes) {
  return static_cast<socklen_t>(max_bytes != 0 && max_bytes < size ? max_bytes : size);
}

// `value` where an answer of `len` bytes reached the end of the field it
// comes from (FIELD_END), else NaN: the kernel did not report it.
inline double Answered(size_t field_end, socklen_t len, double value) {
  return field_end <= len ? value : __builtin_nan("");
}
#define FIELD_END(type, member) (offsetof(type, member) + sizeof(type::member))

inline int Get(int fd, Option option, int* value, Failure* failure) {
  const OptionSpec& o = kOptions[option];
  socklen_t len = sizeof(*value);
  if (getsockopt(fd, o.level, o.name, value, &len) != 0)
    return Fail(option, true, failure);
  return 0;
}

}  // namespace

const char* OptionName(Option option) { return kOptions[option].label; }

int UnitMs(Option option) { return kOptions[option].unit_ms; }

bool AcceptedSocketsInherit() {
  for (int i = kSoKeepalive; i <= kTcpUserTimeout; i++)
    if (!kOptions[i].inherited) return false;
  return true;
}

}  // namespace tcp_keepalive

#endif  // TCP_KEEPALIVE_SOCKOPT_POSIX_H_

// Platforms this library does not implement yet. Nothing can be set, and
// SupportedOptions() says so, so lib/ throws ERR_KEEPALIVE_UNSUPPORTED before
// it would call in here; the errors below only guard a direct binding call.
// A port (macOS: TCP_KEEPALIVE is the idle time, in seconds; FreeBSD: no
// TCP_USER_TIMEOUT) gets its own file, selected in binding.gyp.
#include "keepalive.h"

#include <errno.h>

namespace tcp_keepalive {
namespace {

int Unsupported(Option option, bool is_get, Failure* failure) {
  failure->err = -ENOSYS;
  failure->option = option;
  failure->is_get = is_get;
  failure->not_tcp = false;
  return -ENOSYS;
}

}  // namespace

unsigned SupportedOptions() { return 0; }

int Enable(int, const Config&, Failure* failure) {
  return Unsupported(kTcpKeepidle, false, failure);
}

int Disable(int, Failure* failure) {
  return Unsupported(kSoKeepalive, false, failure);
}

int Read(int, Config*, Failure* failure) {
  return Unsupported(kTcpKeepidle, true, failure);
}

}  // namespace tcp_keepalive

// Platforms this library does not implement yet. Nothing can be set, and
// SupportedOptions() says so, so lib/ throws ERR_KEEPALIVE_UNSUPPORTED before
// it would call in here; the errors below only guard a direct binding call.
// A port (FreeBSD: no TCP_USER_TIMEOUT) gets its own file, selected in
// binding.gyp, as macOS has keepalive_darwin.cc.
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

// Errors name the settings as the rest of the library does.
const char* OptionName(Option option) {
  static const char* const kNames[kOptionCount] = {
      "SO_KEEPALIVE", "TCP_KEEPIDLE",     "TCP_KEEPINTVL",
      "TCP_KEEPCNT",  "TCP_USER_TIMEOUT", "SO_PROTOCOL",  "TCP_INFO"};
  return kNames[option];
}

// Nothing is set, so there is nothing to inherit; lib/'s fallback
// configures each accepted socket with Node's own call.
bool AcceptedSocketsInherit() { return false; }

int UnitMs(Option option) {
  return option == kTcpKeepidle || option == kTcpKeepintvl ? 1000
         : option == kTcpUserTimeout                       ? 1
                                                           : 0;
}

int Enable(int, const Config&, Failure* failure) {
  return Unsupported(kTcpKeepidle, false, failure);
}

int Disable(int, int, Failure* failure) {
  return Unsupported(kSoKeepalive, false, failure);
}

int Read(int, Config*, Failure* failure) {
  return Unsupported(kTcpKeepidle, true, failure);
}

const char* TcpStateName(int) { return nullptr; }

int ReadTcpInfo(int, double*, Failure* failure, unsigned) {
  return Unsupported(kTcpInfo, true, failure);
}

int ReadEndpoints(int, Endpoints*, const char** syscall_name) {
  *syscall_name = "getsockname";
  return -ENOSYS;
}

int PeekProcess(int, PeekedProcess*, const char** syscall_name) {
  *syscall_name = "pidfd_open";
  return -ENOSYS;
}

}  // namespace tcp_keepalive

// N-API glue: unpack and re-check arguments, call keepalive.h, pack results.
// lib/kernel/addon.ts is the only caller and validates first; the checks here
// are cheap and exist so that a wrong direct call can never reach a syscall
// with garbage or read out of bounds.
//
// The entry points are plain napi_callbacks rather than node-addon-api
// CallbackInfo functions: that wrapper measured about 35 ns a call here, a
// few percent of a whole five-syscall configuration, and these run once per
// socket. node-addon-api still builds every error and
// the module object.
//
// The option values travel through `slots`, a small Int32Array this module
// creates and keeps, the way Node's own process.hrtime() hands back its
// numbers: JS writes the four values, native reads them, and a read comes
// back the same way. Converting four number arguments (or taking a typed
// array argument) measured about 30 ns more per call than this. A
// connection's live state comes back the same way, in `tcpInfo`, a
// Float64Array of its own (milliseconds with fractions, counts up to 2^32).
//
// peekProcess reads a whole process at once and returns one object, its
// sockets in a Float64Array it makes: one call per inspection, however many
// sockets.
#include <napi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "keepalive.h"

namespace {

using tcp_keepalive::Config;
using tcp_keepalive::Failure;

// Five int32 slots: [idleSeconds, intervalSeconds, count, userTimeoutMs] in
// for enable, [enable, idleSeconds, intervalSeconds, count, userTimeoutMs]
// out of read.
constexpr size_t kSlots = 5;

// One row of peekProcess's `rows` (lib/kernel/addon.ts reads it): [fd, inode,
// family (4 or 6; 0 when unknown), protocol (IPPROTO_TCP or IPPROTO_MPTCP),
// localPort, remotePort, the local address as four 32-bit words in network
// order, the remote one likewise, enable, idleSeconds, intervalSeconds, count,
// userTimeoutMs, then the kTcpInfoFieldCount fields].
constexpr size_t kPeekAddresses = 6;
constexpr size_t kPeekConfig = kPeekAddresses + 8;
constexpr size_t kPeekInfo = kPeekConfig + 5;
constexpr size_t kPeekStride = kPeekInfo + tcp_keepalive::kTcpInfoFieldCount;

// One per loaded instance of the addon (the main thread and every worker
// load their own), handed to each function as its callback data. `slots`
// and `info` point into the ArrayBuffers that `buffer` and `info_buffer`
// keep alive for as long as the instance exists; lib/kernel/addon.ts marks
// those buffers untransferable, so no postMessage or structuredClone can
// detach them from under the pointers.
struct Instance {
  int32_t* slots;
  Napi::Reference<Napi::ArrayBuffer> buffer;
  double* info;
  Napi::Reference<Napi::ArrayBuffer> info_buffer;
};

void ThrowCoded(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  error.ThrowAsJavaScriptException();
}

void ThrowRange(napi_env env, const std::string& message) {
  ThrowCoded(Napi::RangeError::New(env, "binding: " + message),
             "ERR_OUT_OF_RANGE");
}

// Reads `value` as an integer from `min` to INT_MAX, named `what` in the
// error; throws and returns false otherwise.
bool IntValue(napi_env env, napi_value value, const char* what, int min,
              int* out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) {
    ThrowCoded(Napi::TypeError::New(
                   env, std::string("binding: ") + what + " must be a number"),
               "ERR_INVALID_ARG_TYPE");
    return false;
  }
  // The range test comes first: it rejects NaN and keeps the cast defined.
  if (!(number >= min && number <= INT_MAX) ||
      number != static_cast<double>(static_cast<int>(number))) {
    const char* kind = min > 0 ? "a positive integer" : "an integer";
    ThrowRange(env, std::string(what) + " must be " + kind + " in range");
    return false;
  }
  *out = static_cast<int>(number);
  return true;
}

// Reads the call's first `argc` arguments (those not passed are undefined)
// and its callback data (the instance), unless `data` is null.
bool Args(napi_env env, napi_callback_info info, size_t argc, napi_value* argv,
          void** data) {
  return napi_get_cb_info(env, info, &argc, argv, nullptr, data) == napi_ok;
}

// Reads the call's only argument as an integer from `min` to INT_MAX (see
// IntValue), and the callback data into `data` unless it is null.
bool IntArg(napi_env env, napi_callback_info info, const char* what, int min,
            int* out, void** data) {
  napi_value argv[1];
  return Args(env, info, 1, argv, data) && IntValue(env, argv[0], what, min, out);
}

// Reads the call's first argument as a file descriptor and finds the
// instance; throws and returns nullptr on a wrong argument.
Instance* FdArg(napi_env env, napi_callback_info info, int* fd) {
  void* data;
  if (!IntArg(env, info, "fd", 0, fd, &data)) return nullptr;
  return static_cast<Instance*>(data);
}

// A plain object lib/ turns into a Node-style system error.
Napi::Object FailureObject(napi_env env, int err, int option,
                           const char* syscall, bool not_tcp) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, err));
  result.Set("option", Napi::Number::New(env, option));
  result.Set("syscall", Napi::String::New(env, syscall));
  result.Set("notTcp", Napi::Boolean::New(env, not_tcp));
  return result;
}

// nullptr (undefined) on success; on failure a plain object lib/ turns into
// a Node-style system error. Failures are rare, so only they allocate.
napi_value Result(napi_env env, int err, const Failure& failure) {
  if (err == 0) return nullptr;
  return FailureObject(env, failure.err, failure.option,
                       failure.is_get ? "getsockopt" : "setsockopt",
                       failure.not_tcp);
}

// enable(fd), with slots = [idleSeconds, intervalSeconds, count, userTimeoutMs]
napi_value Enable(napi_env env, napi_callback_info info) {
  int fd;
  Instance* instance = FdArg(env, info, &fd);
  if (instance == nullptr) return nullptr;
  const int32_t* in = instance->slots;
  Config config{1, in[0], in[1], in[2], in[3]};
  if (config.idle_s < 1 || config.idle_s > 32767 || config.interval_s < 1 ||
      config.interval_s > 32767 || config.count < 1 || config.count > 127 ||
      config.user_timeout_ms < 0) {
    ThrowRange(env,
               "slots must hold idleSeconds, intervalSeconds, count and "
               "userTimeoutMs in range");
    return nullptr;
  }
  Failure failure;
  return Result(env, tcp_keepalive::Enable(fd, config, &failure), failure);
}

// disable(fd), with slots[3] = userTimeoutMs, or -1 to leave it as it is
napi_value Disable(napi_env env, napi_callback_info info) {
  int fd;
  Instance* instance = FdArg(env, info, &fd);
  if (instance == nullptr) return nullptr;
  const int32_t user_timeout_ms = instance->slots[3];
  if (user_timeout_ms < -1) {
    ThrowRange(env, "slots[3] must hold userTimeoutMs in range, or -1");
    return nullptr;
  }
  Failure failure;
  return Result(env, tcp_keepalive::Disable(fd, user_timeout_ms, &failure), failure);
}

// read(fd): on success slots = [enable, idleSeconds, intervalSeconds, count,
// userTimeoutMs]; on failure slots are unchanged.
napi_value Read(napi_env env, napi_callback_info info) {
  int fd;
  Instance* instance = FdArg(env, info, &fd);
  if (instance == nullptr) return nullptr;
  Config config;
  Failure failure;
  int err = tcp_keepalive::Read(fd, &config, &failure);
  if (err == 0) {
    int32_t* out = instance->slots;
    out[0] = config.enable;
    out[1] = config.idle_s;
    out[2] = config.interval_s;
    out[3] = config.count;
    out[4] = config.user_timeout_ms;
  }
  return Result(env, err, failure);
}

// tcpInfo(fd[, maxBytes]): on success the tcpInfo slots hold the
// connection's live state (src/keepalive.h TcpInfoField; NaN where the
// kernel reported nothing); on failure they are unchanged. maxBytes asks the
// kernel for a shorter answer, as an older kernel gives (for the tests).
napi_value TcpInfo(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void* data;
  int fd;
  int max_bytes = 0;
  napi_valuetype second;
  if (!Args(env, info, 2, argv, &data) || !IntValue(env, argv[0], "fd", 0, &fd) ||
      napi_typeof(env, argv[1], &second) != napi_ok ||
      (second != napi_undefined && !IntValue(env, argv[1], "maxBytes", 1, &max_bytes)))
    return nullptr;
  Instance* instance = static_cast<Instance*>(data);
  Failure failure;
  return Result(env,
                tcp_keepalive::ReadTcpInfo(fd, instance->info, &failure,
                                           static_cast<unsigned>(max_bytes)),
                failure);
}

// An address's 16 bytes as four 32-bit words, most significant byte first.
void Words(const uint8_t* bytes, double* out) {
  for (int w = 0; w < 4; w++) {
    const uint8_t* b = bytes + 4 * w;
    out[w] = static_cast<double>(static_cast<uint32_t>(b[0]) << 24 | b[1] << 16 | b[2] << 8 | b[3]);
  }
}

// endpoints(fd): both ends of a TCP socket, also after the kernel ended the
// connection, as a Float64Array [family (4 or 6), localPort, remotePort, the
// local address as four 32-bit words in network order, the remote one]; or
// a failure object whose syscall says what failed. Called only when a
// dead-peer event has a subscriber.
napi_value Endpoints(napi_env env, napi_callback_info info) {
  int fd;
  if (FdArg(env, info, &fd) == nullptr) return nullptr;
  tcp_keepalive::Endpoints ends;
  const char* syscall = "";
  int err = tcp_keepalive::ReadEndpoints(fd, &ends, &syscall);
  if (err != 0) return FailureObject(env, err, -1, syscall, false);
  Napi::Float64Array out = Napi::Float64Array::New(env, 11);
  out[0] = ends.family;
  out[1] = ends.local_port;
  out[2] = ends.remote_port;
  Words(ends.local, out.Data() + 3);
  Words(ends.remote, out.Data() + 7);
  return out;
}

// peekProcess(pid): every TCP socket process `pid` holds, in one object:
// `rows`, a Float64Array of kPeekStride numbers per socket; `failures`, one
// { index, errno, syscall, option } per row that could not be read; the
// process's `cmdline`, `comm`, `uid` and `netns`; `exited`; and `errno` and `syscall`,
// 0 and '' unless the process as a whole could not be read. One call per
// inspection, however many sockets.
napi_value PeekProcess(napi_env env, napi_callback_info info) {
  int pid;
  if (!IntArg(env, info, "pid", 1, &pid, nullptr)) return nullptr;
  tcp_keepalive::PeekedProcess process;
  const char* syscall = "";
  int err = tcp_keepalive::PeekProcess(pid, &process, &syscall);
  const std::vector<tcp_keepalive::PeekedSocket>& sockets = process.sockets;
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, err));
  result.Set("syscall", Napi::String::New(env, err == 0 ? "" : syscall));
  result.Set("exited", Napi::Boolean::New(env, process.exited));
  result.Set("cmdline", Napi::String::New(env, process.cmdline));
  result.Set("comm", Napi::String::New(env, process.comm));
  result.Set("uid", Napi::Number::New(env, process.uid));
  result.Set("netns", Napi::String::New(env, process.netns));
  Napi::Float64Array rows =
      Napi::Float64Array::New(env, sockets.size() * kPeekStride);
  Napi::Array failures = Napi::Array::New(env);
  for (size_t i = 0; i < sockets.size(); i++) {
    const tcp_keepalive::PeekedSocket& socket = sockets[i];
    double* row = rows.Data() + i * kPeekStride;
    row[0] = socket.fd;
    row[1] = static_cast<double>(socket.inode);
    row[2] = socket.family;
    row[3] = socket.protocol;
    row[4] = socket.local_port;
    row[5] = socket.remote_port;
    Words(socket.local, row + kPeekAddresses);
    Words(socket.remote, row + kPeekAddresses + 4);
    row[kPeekConfig + 0] = socket.config.enable;
    row[kPeekConfig + 1] = socket.config.idle_s;
    row[kPeekConfig + 2] = socket.config.interval_s;
    row[kPeekConfig + 3] = socket.config.count;
    row[kPeekConfig + 4] = socket.config.user_timeout_ms;
    std::copy(socket.info, socket.info + tcp_keepalive::kTcpInfoFieldCount,
              row + kPeekInfo);
    if (socket.err != 0) {
      // Rare: only such rows allocate.
      Napi::Object failure = Napi::Object::New(env);
      failure.Set("index", Napi::Number::New(env, static_cast<double>(i)));
      failure.Set("errno", Napi::Number::New(env, socket.err));
      failure.Set("syscall", Napi::String::New(env, socket.syscall));
      failure.Set("option", socket.option == nullptr
                                ? Napi::Env(env).Null()
                                : Napi::Value(Napi::String::New(env, socket.option)));
      failures.Set(failures.Length(), failure);
    }
  }
  result.Set("rows", rows);
  result.Set("failures", failures);
  return result;
}

Napi::Value Function(Napi::Env env, const char* name, napi_callback callback,
                     Instance* instance) {
  napi_value function;
  NAPI_THROW_IF_FAILED(env,
                       napi_create_function(env, name, NAPI_AUTO_LENGTH,
                                            callback, instance, &function),
                       Napi::Value());
  return Napi::Value(env, function);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::ArrayBuffer buffer =
      Napi::ArrayBuffer::New(env, kSlots * sizeof(int32_t));
  Napi::ArrayBuffer info_buffer = Napi::ArrayBuffer::New(
      env, tcp_keepalive::kTcpInfoFieldCount * sizeof(double));
  Instance* instance = new Instance{
      static_cast<int32_t*>(buffer.Data()), Napi::Persistent(buffer),
      static_cast<double*>(info_buffer.Data()), Napi::Persistent(info_buffer)};
  // Deleted, with its reference, when this environment (the main thread or
  // a worker) ends.
  env.SetInstanceData(instance);
  exports.Set("slots", Napi::Int32Array::New(env, kSlots, buffer, 0));
  exports.Set("enable", Function(env, "enable", Enable, instance));
  exports.Set("disable", Function(env, "disable", Disable, instance));
  exports.Set("read", Function(env, "read", Read, instance));
  exports.Set("tcpInfo", Function(env, "tcpInfo", TcpInfo, instance));
  exports.Set("tcpInfoSlots",
              Napi::Float64Array::New(env, tcp_keepalive::kTcpInfoFieldCount,
                                      info_buffer, 0));
  // The kernel's state numbers' names, indexed by number (null: none).
  Napi::Array states = Napi::Array::New(env, tcp_keepalive::kTcpStateSlots);
  for (int i = 0; i < tcp_keepalive::kTcpStateSlots; i++) {
    const char* name = tcp_keepalive::TcpStateName(i);
    states.Set(static_cast<uint32_t>(i),
               name == nullptr ? env.Null() : Napi::String::New(env, name));
  }
  states.Freeze();
  exports.Set("tcpStateNames", states);
  exports.Set("peekProcess", Function(env, "peekProcess", PeekProcess, instance));
  exports.Set("endpoints", Function(env, "endpoints", Endpoints, instance));
  exports.Set("peekStride", Napi::Number::New(env, kPeekStride));
  exports.Set("supportedOptions",
              Napi::Number::New(env, tcp_keepalive::SupportedOptions()));
  // This platform's names for the settings (indexed by Option, as the
  // failures' `option` is) and the unit of its user timeout: lib/ words
  // its errors and validates with them, and keeps no table of its own.
  Napi::Array names = Napi::Array::New(env, tcp_keepalive::kOptionCount);
  for (uint32_t i = 0; i < tcp_keepalive::kOptionCount; i++) {
    names.Set(i, Napi::String::New(env, tcp_keepalive::OptionName(
                                            static_cast<tcp_keepalive::Option>(i))));
  }
  names.Freeze();
  exports.Set("optionNames", names);
  exports.Set("acceptedSocketsInherit",
              Napi::Boolean::New(env, tcp_keepalive::AcceptedSocketsInherit()));
  exports.Set("userTimeoutUnitMs",
              Napi::Number::New(env, tcp_keepalive::UnitMs(
                                         tcp_keepalive::kTcpUserTimeout)));
  return exports;
}

}  // namespace

NODE_API_MODULE(tcp_keepalive, Init)

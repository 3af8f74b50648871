// N-API glue: unpack and re-check arguments, call keepalive.h, pack results.
// lib/kernel/addon.ts is the only caller and validates first; the checks here
// are cheap and exist so that a wrong direct call can never reach a syscall
// with garbage or read out of bounds.
//
// The three entry points are plain napi_callbacks rather than
// node-addon-api CallbackInfo functions: that wrapper measured about 35 ns
// a call here, a few percent of a whole five-syscall configuration, and
// these run once per socket. node-addon-api still builds every error and
// the module object.
//
// The option values travel through `slots`, a small Int32Array this module
// creates and keeps, the way Node's own process.hrtime() hands back its
// numbers: JS writes the four values, native reads them, and a read comes
// back the same way. Converting four number arguments (or taking a typed
// array argument) measured about 30 ns more per call than this.
#include <napi.h>

#include <climits>
#include <cstdint>
#include <string>

#include "keepalive.h"

namespace {

using tcp_keepalive::Config;
using tcp_keepalive::Failure;

// Five int32 slots: [idleSeconds, intervalSeconds, count, userTimeoutMs] in
// for enable, [enable, idleSeconds, intervalSeconds, count, userTimeoutMs]
// out of read.
constexpr size_t kSlots = 5;

// One per loaded instance of the addon (the main thread and every worker
// load their own), handed to each function as its callback data. `slots`
// points into the ArrayBuffer that `buffer` keeps alive for as long as the
// instance exists; lib/kernel/addon.ts marks that buffer untransferable, so no
// postMessage or structuredClone can detach it from under `slots`.
struct Instance {
  int32_t* slots;
  Napi::Reference<Napi::ArrayBuffer> buffer;
};

void ThrowCoded(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  error.ThrowAsJavaScriptException();
}

void ThrowRange(napi_env env, const std::string& message) {
  ThrowCoded(Napi::RangeError::New(env, "binding: " + message),
             "ERR_OUT_OF_RANGE");
}

// Reads the call's first argument as a file descriptor and finds the
// instance; throws and returns nullptr on a wrong argument.
Instance* FdArg(napi_env env, napi_callback_info info, int* fd) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok)
    return nullptr;
  // argv[0] is undefined when the caller passed nothing.
  double number;
  if (napi_get_value_double(env, argv[0], &number) != napi_ok) {
    ThrowCoded(Napi::TypeError::New(env, "binding: fd must be a number"),
               "ERR_INVALID_ARG_TYPE");
    return nullptr;
  }
  // The range test comes first: it rejects NaN and keeps the cast defined.
  if (!(number >= 0 && number <= INT_MAX) ||
      number != static_cast<double>(static_cast<int>(number))) {
    ThrowRange(env, "fd must be an integer in range");
    return nullptr;
  }
  *fd = static_cast<int>(number);
  return static_cast<Instance*>(data);
}

// nullptr (undefined) on success; on failure a plain object lib/ turns into
// a Node-style system error. Failures are rare, so only they allocate.
napi_value Result(napi_env env, int err, const Failure& failure) {
  if (err == 0) return nullptr;
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, failure.err));
  result.Set("option", Napi::Number::New(env, failure.option));
  result.Set("syscall", Napi::String::New(
                            env, failure.is_get ? "getsockopt" : "setsockopt"));
  result.Set("notTcp", Napi::Boolean::New(env, failure.not_tcp));
  return result;
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

// disable(fd)
napi_value Disable(napi_env env, napi_callback_info info) {
  int fd;
  if (FdArg(env, info, &fd) == nullptr) return nullptr;
  Failure failure;
  return Result(env, tcp_keepalive::Disable(fd, &failure), failure);
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
  Instance* instance = new Instance{static_cast<int32_t*>(buffer.Data()),
                                    Napi::Persistent(buffer)};
  // Deleted, with its reference, when this environment (the main thread or
  // a worker) ends.
  env.SetInstanceData(instance);
  exports.Set("slots", Napi::Int32Array::New(env, kSlots, buffer, 0));
  exports.Set("enable", Function(env, "enable", Enable, instance));
  exports.Set("disable", Function(env, "disable", Disable, instance));
  exports.Set("read", Function(env, "read", Read, instance));
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

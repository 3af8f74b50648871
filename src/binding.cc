// N-API glue: unpack and re-check arguments, call keepalive.h, pack results.
// lib/binding.ts is the only caller and validates first; the checks here
// are cheap and exist so that a wrong direct call can never reach a syscall
// with garbage or read out of bounds.
//
// The three entry points are plain napi_callbacks rather than
// node-addon-api CallbackInfo functions: that wrapper measured about 35 ns
// a call here, a few percent of a whole five-syscall configuration, and
// these run once per socket. node-addon-api still builds every error and
// the module object.
#include <napi.h>

#include <climits>
#include <cstdint>
#include <string>

#include "keepalive.h"

namespace {

using tcp_keepalive::Config;
using tcp_keepalive::Failure;

void ThrowCoded(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  error.ThrowAsJavaScriptException();
}

// Reads `value` as an integer in [min, max]; throws and returns false
// otherwise. One napi_get_value_double both checks the type and reads it.
bool IntArg(napi_env env, napi_value value, const char* name, double min,
            double max, int* out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) {
    ThrowCoded(Napi::TypeError::New(
                   env, std::string("binding: ") + name + " must be a number"),
               "ERR_INVALID_ARG_TYPE");
    return false;
  }
  // The range test comes first: it rejects NaN and keeps the cast defined.
  if (!(number >= min && number <= max) ||
      number != static_cast<double>(static_cast<int>(number))) {
    ThrowCoded(Napi::RangeError::New(env, std::string("binding: ") + name +
                                              " must be an integer in range"),
               "ERR_OUT_OF_RANGE");
    return false;
  }
  *out = static_cast<int>(number);
  return true;
}

// Fills argv with the call's first `count` arguments (undefined where the
// caller passed fewer) and reads argv[0] as a file descriptor.
bool Args(napi_env env, napi_callback_info info, size_t count,
          napi_value* argv, int* fd) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok)
    return false;
  return IntArg(env, argv[0], "fd", 0, INT_MAX, fd);
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

// enable(fd, idleSeconds, intervalSeconds, count, userTimeoutMs)
napi_value Enable(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int fd;
  Config config;
  config.enable = 1;
  if (!Args(env, info, 5, argv, &fd) ||
      !IntArg(env, argv[1], "idleSeconds", 1, 32767, &config.idle_s) ||
      !IntArg(env, argv[2], "intervalSeconds", 1, 32767, &config.interval_s) ||
      !IntArg(env, argv[3], "count", 1, 127, &config.count) ||
      !IntArg(env, argv[4], "userTimeoutMs", 0, INT_MAX,
              &config.user_timeout_ms))
    return nullptr;
  Failure failure;
  return Result(env, tcp_keepalive::Enable(fd, config, &failure), failure);
}

// disable(fd)
napi_value Disable(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!Args(env, info, 1, argv, &fd)) return nullptr;
  Failure failure;
  return Result(env, tcp_keepalive::Disable(fd, &failure), failure);
}

// read(fd, out): fills out (an Int32Array of at least 5) with enable,
// idleSeconds, intervalSeconds, count, userTimeoutMs. Writing into a
// caller-owned array keeps the read to one crossing with no allocation.
napi_value Read(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  if (!Args(env, info, 2, argv, &fd)) return nullptr;
  // One napi_get_typedarray_info checks the type and finds the memory.
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr,
                               nullptr) != napi_ok ||
      type != napi_int32_array) {
    ThrowCoded(Napi::TypeError::New(env, "binding: out must be an Int32Array"),
               "ERR_INVALID_ARG_TYPE");
    return nullptr;
  }
  if (length < 5) {
    ThrowCoded(
        Napi::RangeError::New(env, "binding: out must hold at least 5 elements"),
        "ERR_OUT_OF_RANGE");
    return nullptr;
  }
  Config config;
  Failure failure;
  int err = tcp_keepalive::Read(fd, &config, &failure);
  if (err == 0) {
    int32_t* out = static_cast<int32_t*>(data);
    out[0] = config.enable;
    out[1] = config.idle_s;
    out[2] = config.interval_s;
    out[3] = config.count;
    out[4] = config.user_timeout_ms;
  }
  return Result(env, err, failure);
}

Napi::Value Function(Napi::Env env, const char* name, napi_callback callback) {
  napi_value function;
  NAPI_THROW_IF_FAILED(env,
                       napi_create_function(env, name, NAPI_AUTO_LENGTH,
                                            callback, nullptr, &function),
                       Napi::Value());
  return Napi::Value(env, function);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("enable", Function(env, "enable", Enable));
  exports.Set("disable", Function(env, "disable", Disable));
  exports.Set("read", Function(env, "read", Read));
  exports.Set("supportedOptions",
              Napi::Number::New(env, tcp_keepalive::SupportedOptions()));
  return exports;
}

}  // namespace

NODE_API_MODULE(tcp_keepalive, Init)

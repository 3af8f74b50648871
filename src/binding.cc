// N-API glue: unpack and re-check arguments, call keepalive.h, pack results.
// lib/binding.ts is the only caller and validates first; the checks here
// are cheap and exist so that a wrong direct call can never reach a syscall
// with garbage or read out of bounds.
#include <napi.h>

#include <climits>
#include <string>

#include "keepalive.h"

namespace {

using tcp_keepalive::Config;
using tcp_keepalive::Failure;

void ThrowCoded(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  error.ThrowAsJavaScriptException();
}

// Reads info[index] as an integer in [min, max]; throws and returns false
// otherwise.
bool IntArg(const Napi::CallbackInfo& info, size_t index, const char* name,
            double min, double max, int* out) {
  Napi::Env env = info.Env();
  if (!info[index].IsNumber()) {
    ThrowCoded(Napi::TypeError::New(
                   env, std::string("binding: ") + name + " must be a number"),
               "ERR_INVALID_ARG_TYPE");
    return false;
  }
  double value = info[index].As<Napi::Number>().DoubleValue();
  // The range test comes first: it rejects NaN and keeps the cast defined.
  if (!(value >= min && value <= max) ||
      value != static_cast<double>(static_cast<int>(value))) {
    ThrowCoded(Napi::RangeError::New(
                   env, std::string("binding: ") + name +
                            " must be an integer in range"),
               "ERR_OUT_OF_RANGE");
    return false;
  }
  *out = static_cast<int>(value);
  return true;
}

bool FdArg(const Napi::CallbackInfo& info, int* fd) {
  return IntArg(info, 0, "fd", 0, INT_MAX, fd);
}

// undefined on success; on failure a plain object lib/ turns into a Node-style
// system error. Failures are rare, so only they allocate.
Napi::Value Result(Napi::Env env, int err, const Failure& failure) {
  if (err == 0) return env.Undefined();
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, failure.err));
  result.Set("option", Napi::Number::New(env, failure.option));
  result.Set("syscall", Napi::String::New(
                            env, failure.is_get ? "getsockopt" : "setsockopt"));
  result.Set("notTcp", Napi::Boolean::New(env, failure.not_tcp));
  return result;
}

// enable(fd, idleSeconds, intervalSeconds, count, userTimeoutMs)
Napi::Value Enable(const Napi::CallbackInfo& info) {
  int fd;
  Config config;
  config.enable = 1;
  if (!FdArg(info, &fd) ||
      !IntArg(info, 1, "idleSeconds", 1, 32767, &config.idle_s) ||
      !IntArg(info, 2, "intervalSeconds", 1, 32767, &config.interval_s) ||
      !IntArg(info, 3, "count", 1, 127, &config.count) ||
      !IntArg(info, 4, "userTimeoutMs", 0, INT_MAX, &config.user_timeout_ms))
    return info.Env().Undefined();
  Failure failure;
  return Result(info.Env(), tcp_keepalive::Enable(fd, config, &failure),
                failure);
}

// disable(fd)
Napi::Value Disable(const Napi::CallbackInfo& info) {
  int fd;
  if (!FdArg(info, &fd)) return info.Env().Undefined();
  Failure failure;
  return Result(info.Env(), tcp_keepalive::Disable(fd, &failure), failure);
}

// read(fd, out): fills out (an Int32Array of at least 5) with enable,
// idleSeconds, intervalSeconds, count, userTimeoutMs. Writing into a
// caller-owned array keeps the read to one crossing with no allocation.
Napi::Value Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(info, &fd)) return env.Undefined();
  if (!info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowCoded(Napi::TypeError::New(env, "binding: out must be an Int32Array"),
               "ERR_INVALID_ARG_TYPE");
    return env.Undefined();
  }
  Napi::Int32Array out = info[1].As<Napi::Int32Array>();
  if (out.ElementLength() < 5) {
    ThrowCoded(Napi::RangeError::New(
                   env, "binding: out must hold at least 5 elements"),
               "ERR_OUT_OF_RANGE");
    return env.Undefined();
  }
  Config config;
  Failure failure;
  int err = tcp_keepalive::Read(fd, &config, &failure);
  if (err == 0) {
    int32_t* data = out.Data();
    data[0] = config.enable;
    data[1] = config.idle_s;
    data[2] = config.interval_s;
    data[3] = config.count;
    data[4] = config.user_timeout_ms;
  }
  return Result(env, err, failure);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("enable", Napi::Function::New(env, Enable, "enable"));
  exports.Set("disable", Napi::Function::New(env, Disable, "disable"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("supportedOptions",
              Napi::Number::New(env, tcp_keepalive::SupportedOptions()));
  return exports;
}

}  // namespace

NODE_API_MODULE(tcp_keepalive, Init)

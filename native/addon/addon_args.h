// Argument helpers shared by the files of the addon: each names the function
// and the argument in its TypeError, so a wrong call says which.
#pragma once
#include <napi.h>
#include <cerrno>
#include <string>

#include "errors.h"

namespace xvpc {

inline std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) ThrowType(info.Env(), std::string(fn) + ": " + what + " must be a string");
  return info[i].As<Napi::String>();
}

inline uint32_t U32Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": " + what + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

inline uint32_t OptU32(Napi::Object o, const char* key, uint32_t def) {
  if (!o.Has(key) || !o.Get(key).IsNumber()) return def;
  return o.Get(key).As<Napi::Number>().Uint32Value();
}

inline int FdArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": fd must be a number");
  int fd = info[i].As<Napi::Number>().Int32Value();
  if (fd < 0) ThrowErrno(info.Env(), std::string(fn) + ": invalid fd", EBADF);
  return fd;
}

inline int IfindexArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": ifindex must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

inline uint32_t CountArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": count must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

inline Napi::Buffer<uint8_t> BufArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer())
    ThrowType(info.Env(), std::string(fn) + ": " + what + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

// The optional network namespace path of attach calls: "" means our own.
inline std::string NetnsArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsString()) return info[i].As<Napi::String>();
  return "";
}

}  // namespace xvpc

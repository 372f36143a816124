// Argument helpers shared by the capture and pcap parts of the addon.
#pragma once
#include <napi.h>
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

}  // namespace xvpc

// File descriptors of BPF objects: open a pin, pin, close, a program's id.
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>
#include <cerrno>
#include <string>

#include "addon_args.h"
#include "errors.h"
#include "init.h"

namespace xvpc {

// objGet(path) -> fd of a pinned map or program
static Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "objGet: path must be a string");
  std::string path = info[0].As<Napi::String>();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(env, "open pinned object " + path, errno);
  return Napi::Number::New(env, fd);
}

// objPin(fd, path)
static Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "objPin");
  if (info.Length() < 2 || !info[1].IsString()) ThrowType(env, "objPin: path must be a string");
  std::string path = info[1].As<Napi::String>();
  if (bpf_obj_pin(fd, path.c_str())) ThrowErrno(env, "pin at " + path, errno);
  return env.Undefined();
}

// closeFd(fd)
static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "closeFd");
  if (close(fd)) ThrowErrno(info.Env(), "close fd " + std::to_string(fd), errno);
  return info.Env().Undefined();
}

// progId(fd) -> kernel id of a program
static Napi::Value ProgId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "progId");
  struct bpf_prog_info pi = {};
  uint32_t len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &len)) ThrowErrno(env, "progId: not a BPF program", errno);
  return Napi::Number::New(env, pi.id);
}

Napi::Object InitFds(Napi::Env env, Napi::Object exports) {
  exports.Set("objGet", Napi::Function::New(env, ObjGet));
  exports.Set("objPin", Napi::Function::New(env, ObjPin));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("progId", Napi::Function::New(env, ProgId));
  return exports;
}

}  // namespace xvpc

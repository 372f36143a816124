// File descriptors of BPF objects: open a pin, pin, close, a program's id;
// and an exclusive lock on a directory (transitd's pin root).
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <fcntl.h>
#include <sys/file.h>
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

// lockDir(path) -> fd holding an exclusive flock on directory path, or -1
// when another open file holds it. The kernel lets go when the fd is closed
// or its process dies (kill -9 included): no stale lock to judge.
static Napi::Value LockDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "lockDir: path must be a string");
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, "open directory " + path + " to lock it", errno);
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowErrno(env, "lock " + path, err);
  }
  return Napi::Number::New(env, fd);
}

Napi::Object InitFds(Napi::Env env, Napi::Object exports) {
  exports.Set("objGet", Napi::Function::New(env, ObjGet));
  exports.Set("objPin", Napi::Function::New(env, ObjPin));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("progId", Napi::Function::New(env, ProgId));
  exports.Set("lockDir", Napi::Function::New(env, LockDir));
  return exports;
}

}  // namespace xvpc

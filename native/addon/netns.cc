// enterNetns: moves the calling thread into a network namespace for good. A
// shared transitd host (src/transitd/host.ts) runs each droplet's transitd in
// a worker thread that enters the droplet's namespace first: setns with
// CLONE_NEWNET acts on the calling thread only, and sockets, netlink, attach
// calls and child processes made from that thread then all act in it.
#include <napi.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <cerrno>
#include <string>

#include "addon_args.h"
#include "errors.h"
#include "init.h"

namespace xvpc {

// enterNetns(path): setns(CLONE_NEWNET) of the calling thread, not undone.
static Napi::Value EnterNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 0, "enterNetns", "path");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, "enterNetns: open " + path, errno);
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc) ThrowErrno(env, "enterNetns: setns " + path, err);
  return env.Undefined();
}

Napi::Object InitNetns(Napi::Env env, Napi::Object exports) {
  exports.Set("enterNetns", Napi::Function::New(env, EnterNetns));
  return exports;
}

}  // namespace xvpc

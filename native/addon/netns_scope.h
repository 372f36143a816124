// NetnsScope: run a piece of work inside another network namespace.
#pragma once
#include <napi.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <cerrno>
#include <string>

#include "errors.h"

namespace xvpc {

// Runs netlink work inside another network namespace: ifindexes are per
// namespace, and XDP attach/detach/query act on the calling thread's one.
// Only the JS thread switches, and it switches back before returning.
class NetnsScope {
 public:
  NetnsScope(Napi::Env env, const std::string& path) : env_(env) {
    if (path.empty()) return;
    self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self_ < 0) ThrowErrno(env, "open own netns", errno);
    int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      int err = errno;
      close(self_);
      self_ = -1;
      ThrowErrno(env, "open netns " + path, err);
    }
    int rc = setns(target, CLONE_NEWNET);
    int err = errno;
    close(target);
    if (rc) {
      close(self_);
      self_ = -1;
      ThrowErrno(env, "enter netns " + path, err);
    }
  }
  ~NetnsScope() {
    if (self_ < 0) return;
    setns(self_, CLONE_NEWNET);
    close(self_);
  }

 private:
  Napi::Env env_;
  int self_ = -1;
};

}  // namespace xvpc

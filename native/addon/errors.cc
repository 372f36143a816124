// libbpf's log and errno-carrying JS exceptions: every other file throws
// through here, and this file depends on none of them.
#include "errors.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <mutex>

namespace xvpc {

static std::mutex log_mutex;
static std::string libbpf_log;
static const size_t kMaxLog = 16384;

static int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // The verifier log arrives as one message of many kilobytes: size it first.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string msg(n + 1, '\0');
  vsnprintf(msg.data(), msg.size(), fmt, args);
  msg.resize(n);
  std::lock_guard<std::mutex> lock(log_mutex);
  libbpf_log += msg;
  if (libbpf_log.size() > kMaxLog) libbpf_log.erase(0, libbpf_log.size() - kMaxLog);
  return 0;
}

void InstallLibbpfLogger() { libbpf_set_print(LibbpfPrint); }

std::string TakeLibbpfLog() {
  std::lock_guard<std::mutex> lock(log_mutex);
  std::string out;
  out.swap(libbpf_log);
  return out;
}

static const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE";
    case ENOTSUP: return "EOPNOTSUPP";
    default: return "EUNKNOWN";
  }
}

void ThrowErrno(Napi::Env env, const std::string& what, int err) {
  if (err < 0) err = -err;
  std::string msg = what + ": " + strerror(err);
  std::string log = TakeLibbpfLog();
  if (!log.empty()) msg += "\n" + log;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  throw e;
}

void ThrowType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}

}  // namespace xvpc

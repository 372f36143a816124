// Capture support on the BPF side: loading raw eBPF programs and creating
// maps (the capture programs are generated in TS, src/capture/), and reading a
// BPF ring buffer. libpcap lives in pcap.cc: its struct bpf_insn (classic
// BPF) and the kernel's (eBPF) cannot share a translation unit.
//
//   progLoad(type, name, insns, { expectedAttachType?, progFlags?, license? }) -> fd
//   mapCreate(type, name, keySize, valueSize, maxEntries, flags = 0) -> fd
//   progInfoById(id) -> { id, name, type } | null
//   new RingBuffer(mapFd)  .consume(max) -> Buffer[]  .close()
//   clockOffsetNs() -> BigInt: CLOCK_REALTIME - CLOCK_MONOTONIC (bpf_ktime_get_ns to wall clock)
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"
#include "init.h"
#include "addon_args.h"
#include "signals_blocked.h"

namespace xvpc {

// progLoad(type, name, insns, opts): loads a program given as raw struct
// bpf_insn[]; on refusal the error carries the verifier's log.
static Napi::Value ProgLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t type = U32Arg(info, 0, "progLoad", "type");
  std::string name = StrArg(info, 1, "progLoad", "name");
  if (info.Length() < 3 || !info[2].IsBuffer()) ThrowType(env, "progLoad: insns must be a Buffer");
  auto insns = info[2].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn))
    ThrowType(env, "progLoad: insns must hold whole 8-byte instructions");
  std::string license = "GPL";
  uint32_t attach = 0, flags = 0;
  if (info.Length() > 3 && info[3].IsObject()) {
    Napi::Object o = info[3].As<Napi::Object>();
    attach = OptU32(o, "expectedAttachType", 0);
    flags = OptU32(o, "progFlags", 0);
    if (o.Has("license") && o.Get("license").IsString()) license = o.Get("license").As<Napi::String>();
  }
  size_t cnt = insns.Length() / sizeof(struct bpf_insn);
  std::vector<struct bpf_insn> copy(cnt);
  memcpy(copy.data(), insns.Data(), insns.Length());
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = (enum bpf_attach_type)attach, .prog_flags = flags);
  int fd;
  {
    SignalsBlocked quiet;
    fd = bpf_prog_load((enum bpf_prog_type)type, name.c_str(), license.c_str(), copy.data(), cnt, &opts);
  }
  if (fd >= 0) return Napi::Number::New(env, fd);
  int err = errno;
  // Once more with the log, to say why.
  std::vector<char> log(1 << 20);
  LIBBPF_OPTS(bpf_prog_load_opts, again, .expected_attach_type = (enum bpf_attach_type)attach, .prog_flags = flags,
              .log_level = 1, .log_size = (uint32_t)log.size(), .log_buf = log.data());
  fd = bpf_prog_load((enum bpf_prog_type)type, name.c_str(), license.c_str(), copy.data(), cnt, &again);
  if (fd >= 0) return Napi::Number::New(env, fd);
  std::string text(log.data());
  if (text.size() > 8192) text = "...\n" + text.substr(text.size() - 8192);
  TakeLibbpfLog();
  std::string msg = "load program " + name + ": " + strerror(err) + (text.empty() ? "" : "\n" + text);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, err == EACCES ? "EACCES" : err == EINVAL ? "EINVAL" : err == EPERM ? "EPERM" : "EUNKNOWN"));
  throw e;
}

// mapCreate(type, name, keySize, valueSize, maxEntries, flags = 0) -> fd
static Napi::Value MapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t type = U32Arg(info, 0, "mapCreate", "type");
  std::string name = StrArg(info, 1, "mapCreate", "name");
  uint32_t key = U32Arg(info, 2, "mapCreate", "keySize");
  uint32_t value = U32Arg(info, 3, "mapCreate", "valueSize");
  uint32_t max = U32Arg(info, 4, "mapCreate", "maxEntries");
  uint32_t flags = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().Uint32Value() : 0;
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  int fd = bpf_map_create((enum bpf_map_type)type, name.c_str(), key, value, max, &opts);
  if (fd < 0) ThrowErrno(env, "create map " + name, errno);
  return Napi::Number::New(env, fd);
}

// progInfoById(id) -> { id, name, type } | null when no such program
static Napi::Value ProgInfoById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = U32Arg(info, 0, "progInfoById", "id");
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "open program id " + std::to_string(id), errno);
  }
  struct bpf_prog_info pi = {};
  uint32_t len = sizeof(pi);
  int rc = bpf_obj_get_info_by_fd(fd, &pi, &len);
  int err = errno;
  close(fd);
  if (rc) ThrowErrno(env, "info of program id " + std::to_string(id), err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", pi.id);
  o.Set("name", pi.name);
  o.Set("type", pi.type);
  return o;
}

// ---- BPF ring buffer ----------------------------------------------------------

class RingBuffer : public Napi::ObjectWrap<RingBuffer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RingBuffer", {
                                              InstanceMethod("consume", &RingBuffer::Consume),
                                              InstanceMethod("close", &RingBuffer::Close),
                                          });
  }

  explicit RingBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingBuffer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) ThrowType(env, "RingBuffer(mapFd): mapFd must be a number");
    int fd = info[0].As<Napi::Number>().Int32Value();
    TakeLibbpfLog();
    rb_ = ring_buffer__new(fd, &RingBuffer::OnSample, this, nullptr);
    long err = libbpf_get_error(rb_);
    if (!rb_ || err) {
      rb_ = nullptr;
      ThrowErrno(env, "open ring buffer (map fd " + std::to_string(fd) + ")", err ? (int)err : errno);
    }
  }
  ~RingBuffer() override { Free(); }

 private:
  struct ring_buffer* rb_ = nullptr;
  std::vector<std::vector<uint8_t>> pending_;
  size_t max_ = 0;

  void Free() {
    if (rb_) ring_buffer__free(rb_);
    rb_ = nullptr;
  }

  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<RingBuffer*>(ctx);
    auto* p = static_cast<uint8_t*>(data);
    self->pending_.emplace_back(p, p + size);
    // A negative return stops consuming right after this sample (it counts as read).
    return self->pending_.size() >= self->max_ ? -ECANCELED : 0;
  }

  // consume(max = 4096) -> Buffer[]: what the ring holds now, never blocking.
  Napi::Value Consume(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!rb_) throw Napi::Error::New(env, "ring buffer is closed");
    max_ = info.Length() > 0 && info[0].IsNumber() ? std::max(1u, info[0].As<Napi::Number>().Uint32Value()) : 4096;
    pending_.clear();
    int rc = ring_buffer__consume(rb_);
    if (rc < 0 && rc != -ECANCELED) ThrowErrno(env, "consume ring buffer", rc);
    Napi::Array out = Napi::Array::New(env, pending_.size());
    for (size_t i = 0; i < pending_.size(); i++)
      out.Set((uint32_t)i, Napi::Buffer<uint8_t>::Copy(env, pending_[i].data(), pending_[i].size()));
    pending_.clear();
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }
};

// clockOffsetNs(): what to add to bpf_ktime_get_ns() (CLOCK_MONOTONIC) for the
// wall clock; the tightest of a few bracketed reads.
static Napi::Value ClockOffsetNs(const Napi::CallbackInfo& info) {
  auto ns = [](const struct timespec& t) { return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; };
  int64_t best_gap = INT64_MAX, offset = 0;
  for (int i = 0; i < 5; i++) {
    struct timespec m1, r, m2;
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    int64_t gap = ns(m2) - ns(m1);
    if (gap < best_gap) {
      best_gap = gap;
      offset = ns(r) - (ns(m1) + gap / 2);
    }
  }
  return Napi::BigInt::New(info.Env(), offset);
}

Napi::Object InitCapture(Napi::Env env, Napi::Object exports) {
  exports.Set("clockOffsetNs", Napi::Function::New(env, ClockOffsetNs));
  exports.Set("progLoad", Napi::Function::New(env, ProgLoad));
  exports.Set("mapCreate", Napi::Function::New(env, MapCreate));
  exports.Set("progInfoById", Napi::Function::New(env, ProgInfoById));
  exports.Set("RingBuffer", RingBuffer::Define(env));
  return exports;
}

}  // namespace xvpc

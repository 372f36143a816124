// BPF_PROG_TEST_RUN: one packet through a loaded program (XDP or TC), its
// verdict, the bytes it leaves and the kernel's mean time per run.
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "addon_args.h"
#include "errors.h"
#include "init.h"

namespace xvpc {

// progTestRun(progFd, packet, { repeat = 1, outSize, ingressIfindex })
//   -> { retval, data, durationNs }   (durationNs is the kernel's mean per run)
static Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "progTestRun");
  auto packet = BufArg(info, 1, "progTestRun", "packet");
  uint32_t repeat = 1, out_size = packet.Length() + 256, ingress = 0;
  if (info.Length() > 2 && info[2].IsObject()) {
    Napi::Object o = info[2].As<Napi::Object>();
    if (o.Has("repeat") && o.Get("repeat").IsNumber()) repeat = o.Get("repeat").As<Napi::Number>().Uint32Value();
    if (o.Has("outSize") && o.Get("outSize").IsNumber()) out_size = o.Get("outSize").As<Napi::Number>().Uint32Value();
    if (o.Has("ingressIfindex") && o.Get("ingressIfindex").IsNumber())
      ingress = o.Get("ingressIfindex").As<Napi::Number>().Uint32Value();
  }
  std::vector<uint8_t> out(out_size);
  struct bpf_prog_info pi = {};
  uint32_t pi_len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &pi_len)) ThrowErrno(env, "progTestRun: not a BPF program", errno);
  // The receiving interface goes in the context: xdp_md for XDP, __sk_buff for TC.
  struct xdp_md xdp_ctx = {};
  xdp_ctx.data_end = packet.Length();
  xdp_ctx.ingress_ifindex = ingress;
  struct __sk_buff skb_ctx = {};
  skb_ctx.ifindex = ingress;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.Data(), .data_out = out.data(),
              .data_size_in = (uint32_t)packet.Length(), .data_size_out = out_size, .repeat = (int)repeat);
  if (ingress && pi.type == BPF_PROG_TYPE_SCHED_CLS) {
    opts.ctx_in = &skb_ctx;
    opts.ctx_size_in = sizeof(skb_ctx);
  } else if (ingress) {
    opts.ctx_in = &xdp_ctx;
    opts.ctx_size_in = sizeof(xdp_ctx);
  }
  if (bpf_prog_test_run_opts(fd, &opts)) ThrowErrno(env, "BPF_PROG_TEST_RUN", errno);
  Napi::Object r = Napi::Object::New(env);
  r.Set("retval", opts.retval);
  r.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), std::min(opts.data_size_out, out_size)));
  r.Set("durationNs", opts.duration);
  return r;
}

Napi::Object InitTestRun(Napi::Env env, Napi::Object exports) {
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun));
  return exports;
}

}  // namespace xvpc

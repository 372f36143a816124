// Attaching programs to interfaces: XDP (native or generic mode) and a TC
// clsact ingress filter, each optionally inside another network namespace
// (netns_scope.h), plus if_nametoindex there.
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <cerrno>
#include <string>

#include "addon_args.h"
#include "errors.h"
#include "init.h"
#include "netns_scope.h"

namespace xvpc {

static uint32_t XdpModeFlag(Napi::Env env, const Napi::CallbackInfo& info, size_t i) {
  std::string mode = "native";
  if (info.Length() > i && info[i].IsString()) mode = info[i].As<Napi::String>();
  if (mode == "native") return XDP_FLAGS_DRV_MODE;
  if (mode == "generic") return XDP_FLAGS_SKB_MODE;
  ThrowType(env, "XDP mode must be 'native' or 'generic', not '" + mode + "'");
}

// xdpAttach(ifindex, progFd, mode = 'native', netnsPath?): replaces whatever is attached.
static Napi::Value XdpAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = IfindexArg(info, 0, "xdpAttach");
  int prog_fd = FdArg(info, 1, "xdpAttach");
  uint32_t flags = XdpModeFlag(env, info, 2);
  TakeLibbpfLog();
  NetnsScope scope(env, NetnsArg(info, 3));
  int rc = bpf_xdp_attach(ifindex, prog_fd, flags, nullptr);
  if (rc) ThrowErrno(env, "attach XDP to ifindex " + std::to_string(ifindex), rc);
  return env.Undefined();
}

// xdpDetach(ifindex, mode = 'native', netnsPath?)
static Napi::Value XdpDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = IfindexArg(info, 0, "xdpDetach");
  uint32_t flags = XdpModeFlag(env, info, 1);
  NetnsScope scope(env, NetnsArg(info, 2));
  int rc = bpf_xdp_detach(ifindex, flags, nullptr);
  if (rc) ThrowErrno(env, "detach XDP from ifindex " + std::to_string(ifindex), rc);
  return env.Undefined();
}

// xdpQuery(ifindex, mode = 'native', netnsPath?) -> attached program id, 0 if none
static Napi::Value XdpQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = IfindexArg(info, 0, "xdpQuery");
  uint32_t flags = XdpModeFlag(env, info, 1);
  uint32_t id = 0;
  NetnsScope scope(env, NetnsArg(info, 2));
  int rc = bpf_xdp_query_id(ifindex, flags, &id);
  if (rc) ThrowErrno(env, "query XDP on ifindex " + std::to_string(ifindex), rc);
  return Napi::Number::New(env, id);
}

// TC: one clsact ingress filter per interface, ours at a fixed handle and
// priority, so attaching again replaces it in place (a restarted transitd).
static constexpr uint32_t kTcHandle = 1, kTcPriority = 1;

static struct bpf_tc_hook IngressHook(int ifindex) {
  struct bpf_tc_hook hook = {};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = BPF_TC_INGRESS;
  return hook;
}

// Names our filter on a hook: its handle and priority (prog_fd/flags for attach).
static struct bpf_tc_opts OurFilter(int prog_fd = 0, uint32_t flags = 0) {
  struct bpf_tc_opts opts = {};
  opts.sz = sizeof(opts);
  opts.prog_fd = prog_fd;
  opts.flags = flags;
  opts.handle = kTcHandle;
  opts.priority = kTcPriority;
  return opts;
}

// tcAttach(ifindex, progFd, netnsPath?): creates the clsact qdisc if needed.
static Napi::Value TcAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = IfindexArg(info, 0, "tcAttach");
  int prog_fd = FdArg(info, 1, "tcAttach");
  TakeLibbpfLog();
  NetnsScope scope(env, NetnsArg(info, 2));
  struct bpf_tc_hook hook = IngressHook(ifindex);
  int rc = bpf_tc_hook_create(&hook);
  if (rc && rc != -EEXIST) ThrowErrno(env, "create clsact on ifindex " + std::to_string(ifindex), rc);
  struct bpf_tc_opts opts = OurFilter(prog_fd, BPF_TC_F_REPLACE);
  rc = bpf_tc_attach(&hook, &opts);
  if (rc) ThrowErrno(env, "attach TC ingress to ifindex " + std::to_string(ifindex), rc);
  return env.Undefined();
}

// tcDetach(ifindex, netnsPath?): removes our filter; ENOENT when there is none.
static Napi::Value TcDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = IfindexArg(info, 0, "tcDetach");
  NetnsScope scope(env, NetnsArg(info, 1));
  struct bpf_tc_hook hook = IngressHook(ifindex);
  struct bpf_tc_opts opts = OurFilter();
  int rc = bpf_tc_detach(&hook, &opts);
  if (rc) ThrowErrno(env, "detach TC ingress from ifindex " + std::to_string(ifindex), rc);
  return env.Undefined();
}

// tcQuery(ifindex, netnsPath?) -> id of our ingress program, 0 if none
static Napi::Value TcQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = IfindexArg(info, 0, "tcQuery");
  NetnsScope scope(env, NetnsArg(info, 1));
  struct bpf_tc_hook hook = IngressHook(ifindex);
  struct bpf_tc_opts opts = OurFilter();
  int rc = bpf_tc_query(&hook, &opts);
  if (rc == -ENOENT || rc == -EINVAL) return Napi::Number::New(env, 0);  // no filter / no clsact
  if (rc) ThrowErrno(env, "query TC ingress on ifindex " + std::to_string(ifindex), rc);
  return Napi::Number::New(env, opts.prog_id);
}

// ifIndex(name, netnsPath?) -> ifindex of a link (in that namespace), or throws ENODEV
static Napi::Value IfIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "ifIndex: name must be a string");
  std::string name = info[0].As<Napi::String>();
  unsigned idx;
  {
    NetnsScope scope(env, NetnsArg(info, 1));
    idx = if_nametoindex(name.c_str());
  }
  if (idx == 0) ThrowErrno(env, "no interface named " + name, errno ? errno : ENODEV);
  return Napi::Number::New(env, idx);
}

Napi::Object InitAttach(Napi::Env env, Napi::Object exports) {
  exports.Set("xdpAttach", Napi::Function::New(env, XdpAttach));
  exports.Set("xdpDetach", Napi::Function::New(env, XdpDetach));
  exports.Set("xdpQuery", Napi::Function::New(env, XdpQuery));
  exports.Set("tcAttach", Napi::Function::New(env, TcAttach));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("tcQuery", Napi::Function::New(env, TcQuery));
  exports.Set("ifIndex", Napi::Function::New(env, IfIndex));
  return exports;
}

}  // namespace xvpc

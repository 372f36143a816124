// File-descriptor level BPF operations: map entries, pins, XDP attach,
// BPF_PROG_TEST_RUN. Keys and values are Buffers whose sizes are checked
// against the map's own key/value sizes, so a wrong size throws instead of
// reading past a buffer.
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <fcntl.h>
#include <sched.h>
#include <net/if.h>
#include <unistd.h>
#include <cerrno>
#include <string>
#include <vector>

#include "errors.h"
#include "netns_scope.h"

namespace xvpc {

static int FdArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": fd must be a number");
  int fd = info[i].As<Napi::Number>().Int32Value();
  if (fd < 0) ThrowErrno(info.Env(), std::string(fn) + ": invalid fd", EBADF);
  return fd;
}

static int IfindexArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": ifindex must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

static uint32_t CountArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": count must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

static Napi::Buffer<uint8_t> BufArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer())
    ThrowType(info.Env(), std::string(fn) + ": " + what + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

static bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

struct MapShape {
  struct bpf_map_info info;
  uint32_t value_bytes;  // what a lookup returns: per-CPU maps hold one slot per possible CPU
};

static MapShape Shape(Napi::Env env, int fd, const char* fn) {
  MapShape s = {};
  uint32_t len = sizeof(s.info);
  int rc = bpf_obj_get_info_by_fd(fd, &s.info, &len);
  if (rc) ThrowErrno(env, std::string(fn) + ": not a BPF map (fd " + std::to_string(fd) + ")", errno);
  s.value_bytes = s.info.value_size;
  if (IsPerCpu(s.info.type)) s.value_bytes = ((s.info.value_size + 7) / 8 * 8) * libbpf_num_possible_cpus();
  return s;
}

static void CheckSize(Napi::Env env, const char* fn, const MapShape& s, const char* what, size_t got, size_t want) {
  if (got != want)
    ThrowErrno(env, std::string(fn) + ": " + what + " is " + std::to_string(got) + " bytes, map '" + s.info.name +
                        "' wants " + std::to_string(want),
               EINVAL);
}

// mapInfo(fd) -> { id, name, type, keySize, valueSize, maxEntries, flags, valueBytes }
static Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapShape s = Shape(env, FdArg(info, 0, "mapInfo"), "mapInfo");
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", s.info.id);
  o.Set("name", s.info.name);
  o.Set("type", s.info.type);
  o.Set("keySize", s.info.key_size);
  o.Set("valueSize", s.info.value_size);
  o.Set("valueBytes", s.value_bytes);
  o.Set("maxEntries", s.info.max_entries);
  o.Set("flags", s.info.map_flags);
  return o;
}

// mapLookup(fd, key) -> Buffer | null
static Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapLookup");
  auto key = BufArg(info, 1, "mapLookup", "key");
  MapShape s = Shape(env, fd, "mapLookup");
  CheckSize(env, "mapLookup", s, "key", key.Length(), s.info.key_size);
  auto value = Napi::Buffer<uint8_t>::New(env, s.value_bytes);
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data())) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, std::string("lookup in map '") + s.info.name + "'", errno);
  }
  return value;
}

// mapUpdate(fd, key, value, flags = BPF_ANY)
static Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapUpdate");
  auto key = BufArg(info, 1, "mapUpdate", "key");
  auto value = BufArg(info, 2, "mapUpdate", "value");
  uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : (int64_t)BPF_ANY;
  MapShape s = Shape(env, fd, "mapUpdate");
  CheckSize(env, "mapUpdate", s, "key", key.Length(), s.info.key_size);
  CheckSize(env, "mapUpdate", s, "value", value.Length(), s.value_bytes);
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags))
    ThrowErrno(env, std::string("update in map '") + s.info.name + "'", errno);
  return env.Undefined();
}

// mapDelete(fd, key) -> true if deleted, false if it was not there
static Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapDelete");
  auto key = BufArg(info, 1, "mapDelete", "key");
  MapShape s = Shape(env, fd, "mapDelete");
  CheckSize(env, "mapDelete", s, "key", key.Length(), s.info.key_size);
  if (bpf_map_delete_elem(fd, key.Data())) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, std::string("delete in map '") + s.info.name + "'", errno);
  }
  return Napi::Boolean::New(env, true);
}

// mapKeys(fd) -> Buffer[] (every key, by get_next_key)
static Napi::Value MapKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapKeys");
  MapShape s = Shape(env, fd, "mapKeys");
  std::vector<uint8_t> cur(s.info.key_size), next(s.info.key_size);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    out.Set(n++, Napi::Buffer<uint8_t>::Copy(env, next.data(), next.size()));
    cur.swap(next);
    prev = cur.data();
  }
  if (errno != ENOENT) ThrowErrno(env, std::string("iterate map '") + s.info.name + "'", errno);
  return out;
}

// mapUpdateBatch(fd, keys, values, count, flags = BPF_ANY): keys/values are
// count records laid end to end. Falls back to single updates where the map
// type has no batch op.
static Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapUpdateBatch");
  auto keys = BufArg(info, 1, "mapUpdateBatch", "keys");
  auto values = BufArg(info, 2, "mapUpdateBatch", "values");
  uint32_t count = CountArg(info, 3, "mapUpdateBatch");
  uint64_t flags = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Int64Value() : (int64_t)BPF_ANY;
  MapShape s = Shape(env, fd, "mapUpdateBatch");
  CheckSize(env, "mapUpdateBatch", s, "keys", keys.Length(), (size_t)s.info.key_size * count);
  CheckSize(env, "mapUpdateBatch", s, "values", values.Length(), (size_t)s.value_bytes * count);
  if (count == 0) return env.Undefined();
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
  uint32_t done = count;
  int rc = bpf_map_update_batch(fd, keys.Data(), values.Data(), &done, &opts);
  // A map type without batch ops says so with ENOTSUPP (524, kernel-internal)
  // or EOPNOTSUPP before touching anything. (`done` cannot tell: when the
  // kernel refuses up front, libbpf hands back the count it was given.)
  if (rc && (errno == 524 || errno == EOPNOTSUPP)) {
    for (uint32_t i = 0; i < count; i++) {
      if (bpf_map_update_elem(fd, keys.Data() + (size_t)i * s.info.key_size,
                              values.Data() + (size_t)i * s.value_bytes, flags))
        ThrowErrno(env, std::string("update in map '") + s.info.name + "' at record " + std::to_string(i), errno);
    }
    return env.Undefined();
  }
  if (rc) ThrowErrno(env, std::string("batch update in map '") + s.info.name + "' after " + std::to_string(done), errno);
  return env.Undefined();
}

// mapLookupMany(fd, keys, count) -> { values, present }: one lookup per key
// in native code (the kernel has no keyed batch lookup); values holds count
// slots, present[i] is 1 where key i was found.
static Napi::Value MapLookupMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapLookupMany");
  auto keys = BufArg(info, 1, "mapLookupMany", "keys");
  uint32_t count = CountArg(info, 2, "mapLookupMany");
  MapShape s = Shape(env, fd, "mapLookupMany");
  CheckSize(env, "mapLookupMany", s, "keys", keys.Length(), (size_t)s.info.key_size * count);
  auto values = Napi::Buffer<uint8_t>::New(env, (size_t)s.value_bytes * count);
  auto present = Napi::Buffer<uint8_t>::New(env, count);
  for (uint32_t i = 0; i < count; i++) {
    int rc = bpf_map_lookup_elem(fd, keys.Data() + (size_t)i * s.info.key_size, values.Data() + (size_t)i * s.value_bytes);
    if (rc && errno != ENOENT) ThrowErrno(env, std::string("lookup in map '") + s.info.name + "' at key " + std::to_string(i), errno);
    present.Data()[i] = rc == 0;
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("values", values);
  r.Set("present", present);
  return r;
}

// mapDeleteMany(fd, keys, count): deletes each key; absent keys are fine.
static Napi::Value MapDeleteMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapDeleteMany");
  auto keys = BufArg(info, 1, "mapDeleteMany", "keys");
  uint32_t count = CountArg(info, 2, "mapDeleteMany");
  MapShape s = Shape(env, fd, "mapDeleteMany");
  CheckSize(env, "mapDeleteMany", s, "keys", keys.Length(), (size_t)s.info.key_size * count);
  for (uint32_t i = 0; i < count; i++) {
    if (bpf_map_delete_elem(fd, keys.Data() + (size_t)i * s.info.key_size) && errno != ENOENT)
      ThrowErrno(env, std::string("delete in map '") + s.info.name + "' at key " + std::to_string(i), errno);
  }
  return env.Undefined();
}

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


static std::string NetnsArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsString()) return info[i].As<Napi::String>();
  return "";
}

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

// progId(fd) -> kernel id of a program
static Napi::Value ProgId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "progId");
  struct bpf_prog_info pi = {};
  uint32_t len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &len)) ThrowErrno(env, "progId: not a BPF program", errno);
  return Napi::Number::New(env, pi.id);
}

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

static Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

Napi::Object InitBpfOps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapKeys", Napi::Function::New(env, MapKeys));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch));
  exports.Set("mapLookupMany", Napi::Function::New(env, MapLookupMany));
  exports.Set("mapDeleteMany", Napi::Function::New(env, MapDeleteMany));
  exports.Set("objGet", Napi::Function::New(env, ObjGet));
  exports.Set("objPin", Napi::Function::New(env, ObjPin));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("xdpAttach", Napi::Function::New(env, XdpAttach));
  exports.Set("xdpDetach", Napi::Function::New(env, XdpDetach));
  exports.Set("xdpQuery", Napi::Function::New(env, XdpQuery));
  exports.Set("tcAttach", Napi::Function::New(env, TcAttach));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("tcQuery", Napi::Function::New(env, TcQuery));
  exports.Set("progId", Napi::Function::New(env, ProgId));
  exports.Set("ifIndex", Napi::Function::New(env, IfIndex));
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  return exports;
}

}  // namespace xvpc

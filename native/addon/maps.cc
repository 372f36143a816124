// Map entries one at a time: info, lookup, update, delete, key iteration.
// Keys and values are Buffers checked against the map's own sizes
// (map_shape.h); per-CPU values hold one slot per possible CPU.
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <cerrno>
#include <string>
#include <vector>

#include "addon_args.h"
#include "errors.h"
#include "init.h"
#include "map_shape.h"

namespace xvpc {

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

// mapKeysPacked(fd) -> Buffer: every key end to end, by get_next_key (one
// Buffer, not one per key: a Dump of a million endpoints reads them all)
static Napi::Value MapKeysPacked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "mapKeysPacked");
  MapShape s = Shape(env, fd, "mapKeysPacked");
  const size_t ks = s.info.key_size;
  std::vector<uint8_t> out;
  std::vector<uint8_t> next(ks);
  bool first = true;
  while (bpf_map_get_next_key(fd, first ? nullptr : out.data() + out.size() - ks, next.data()) == 0) {
    out.insert(out.end(), next.begin(), next.end());
    first = false;
  }
  if (errno != ENOENT) ThrowErrno(env, std::string("iterate map '") + s.info.name + "'", errno);
  return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
}

static Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

Napi::Object InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapKeys", Napi::Function::New(env, MapKeys));
  exports.Set("mapKeysPacked", Napi::Function::New(env, MapKeysPacked));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  return exports;
}

}  // namespace xvpc

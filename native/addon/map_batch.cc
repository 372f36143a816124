// Maps many records at a time, laid end to end in one Buffer: batch update
// (one syscall, or single updates where the map type has none), lookups and
// deletes of many keys in native code, and the batch update on a libuv worker
// thread (mapUpdateBatchAsync) so the JS thread can go on receiving the next
// request while the kernel writes this one. Sizes are checked up front.
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <cerrno>
#include <cstring>
#include <string>

#include "addon_args.h"
#include "errors.h"
#include "init.h"
#include "map_shape.h"

namespace xvpc {

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

// mapUpdateBatchAsync(fd, keys, values, count) -> Promise<void>: the Buffers
// are held until the write is done.
namespace {

class UpdateBatchWorker : public Napi::AsyncWorker {
 public:
  UpdateBatchWorker(Napi::Env env, int fd, Napi::Buffer<uint8_t> keys, Napi::Buffer<uint8_t> values, uint32_t count,
                    std::string map_name)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(fd),
        keys_(Napi::Persistent(keys)),
        values_(Napi::Persistent(values)),
        key_data_(keys.Data()),
        value_data_(values.Data()),
        count_(count),
        map_name_(std::move(map_name)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    uint32_t done = count_;
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
    if (count_ > 0 && bpf_map_update_batch(fd_, key_data_, value_data_, &done, &opts)) err_ = errno;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!err_) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    Napi::Error e = Napi::Error::New(env, "batch update in map '" + map_name_ + "': " + strerror(err_));
    e.Set("errno", Napi::Number::New(env, err_));
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_;
  Napi::Reference<Napi::Buffer<uint8_t>> keys_, values_;
  const uint8_t* key_data_;
  const uint8_t* value_data_;
  uint32_t count_;
  std::string map_name_;
  int err_ = 0;
};

}  // namespace

static Napi::Value MapUpdateBatchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsBuffer() || !info[3].IsNumber())
    ThrowType(env, "mapUpdateBatchAsync(fd, keys, values, count): bad arguments");
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto keys = info[1].As<Napi::Buffer<uint8_t>>();
  auto values = info[2].As<Napi::Buffer<uint8_t>>();
  uint32_t count = info[3].As<Napi::Number>().Uint32Value();
  struct bpf_map_info mi = {};
  uint32_t len = sizeof(mi);
  if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &len)) ThrowErrno(env, "mapUpdateBatchAsync: not a BPF map", errno ? errno : EBADF);
  if (keys.Length() != (size_t)mi.key_size * count || values.Length() != (size_t)mi.value_size * count)
    ThrowErrno(env, std::string("mapUpdateBatchAsync: keys/values do not hold ") + std::to_string(count) + " records of map '" +
                        mi.name + "'", EINVAL);
  auto* worker = new UpdateBatchWorker(env, fd, keys, values, count, mi.name);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Object InitMapBatch(Napi::Env env, Napi::Object exports) {
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch));
  exports.Set("mapLookupMany", Napi::Function::New(env, MapLookupMany));
  exports.Set("mapDeleteMany", Napi::Function::New(env, MapDeleteMany));
  exports.Set("mapUpdateBatchAsync", Napi::Function::New(env, MapUpdateBatchAsync));
  return exports;
}

}  // namespace xvpc

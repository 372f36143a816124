// mapUpdateBatchAsync(fd, keys, values, count) -> Promise<void>: the batch
// update of mapUpdateBatch on a libuv worker thread, so the JS thread can go
// on receiving the next request while the kernel writes this one. The
// Buffers are held until the write is done. Sizes are checked up front.
#include <napi.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"

namespace xvpc {

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

Napi::Object InitBatchAsync(Napi::Env env, Napi::Object exports) {
  exports.Set("mapUpdateBatchAsync", Napi::Function::New(env, MapUpdateBatchAsync));
  return exports;
}

}  // namespace xvpc

// BpfObject: one BPF ELF object opened (and later loaded) through libbpf.
//
//   new BpfObject(path, { pinRoot?, maxEntries?: { [map]: n }, mapFlags?: { [map]: flags }, reuseMaps?: { [map]: pinPath } })
//   .load()  .programs()  .maps()  .programFd(name)  .mapFd(name)  .close()
//
// Maps declared with LIBBPF_PIN_BY_NAME are pinned under pinRoot, and an
// existing pin is reused on load: that is what keeps state across a daemon
// restart.
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <cerrno>
#include <string>

#include "errors.h"
#include "init.h"
#include "signals_blocked.h"

namespace xvpc {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BpfObject",
                       {
                           InstanceMethod("load", &BpfObject::Load),
                           InstanceMethod("programs", &BpfObject::Programs),
                           InstanceMethod("maps", &BpfObject::Maps),
                           InstanceMethod("programFd", &BpfObject::ProgramFd),
                           InstanceMethod("mapFd", &BpfObject::MapFd),
                           InstanceMethod("close", &BpfObject::Close),
                           InstanceAccessor("loaded", &BpfObject::Loaded, nullptr),
                           InstanceAccessor("closed", &BpfObject::Closed, nullptr),
                       });
  }

  explicit BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "BpfObject(path): path must be a string");
    std::string path = info[0].As<Napi::String>();
    std::string pin_root;
    Napi::Object max_entries, map_flags, reuse;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object opts = info[1].As<Napi::Object>();
      if (opts.Has("pinRoot") && opts.Get("pinRoot").IsString())
        pin_root = opts.Get("pinRoot").As<Napi::String>();
      if (opts.Has("maxEntries") && opts.Get("maxEntries").IsObject())
        max_entries = opts.Get("maxEntries").As<Napi::Object>();
      if (opts.Has("mapFlags") && opts.Get("mapFlags").IsObject())
        map_flags = opts.Get("mapFlags").As<Napi::Object>();
      if (opts.Has("reuseMaps") && opts.Get("reuseMaps").IsObject())
        reuse = opts.Get("reuseMaps").As<Napi::Object>();
    }
    LIBBPF_OPTS(bpf_object_open_opts, open_opts);
    if (!pin_root.empty()) open_opts.pin_root_path = pin_root.c_str();
    obj_ = bpf_object__open_file(path.c_str(), &open_opts);
    long err = libbpf_get_error(obj_);
    if (err) {
      obj_ = nullptr;
      ThrowErrno(env, "open " + path, (int)err);
    }
    SetPerMap(env, max_entries, "maxEntries", "max_entries", path, bpf_map__set_max_entries);
    SetPerMap(env, map_flags, "mapFlags", "map_flags", path, bpf_map__set_map_flags);

    if (!reuse.IsEmpty()) {
      Napi::Array names = reuse.GetPropertyNames();
      for (uint32_t i = 0; i < names.Length(); i++) {
        std::string name = names.Get(i).As<Napi::String>();
        std::string pin = reuse.Get(name).As<Napi::String>();
        struct bpf_map* map = bpf_object__find_map_by_name(obj_, name.c_str());
        if (!map) {
          Release();
          ThrowType(env, "reuseMaps: no map named '" + name + "' in " + path);
        }
        int fd = bpf_obj_get(pin.c_str());
        if (fd < 0) {
          int err = errno;
          Release();
          ThrowErrno(env, "reuseMaps: open " + pin, err);
        }
        int rc = bpf_map__reuse_fd(map, fd);  // dups fd
        close(fd);
        if (rc) {
          Release();
          ThrowErrno(env, "reuseMaps: reuse " + pin + " for " + name, rc);
        }
      }
    }
  }

  ~BpfObject() override { Release(); }

 private:
  struct bpf_object* obj_ = nullptr;
  bool loaded_ = false;

  // set(map, value) for each `name: value` of an option that names maps
  // (maxEntries, mapFlags); a name the object lacks, or libbpf's refusal,
  // releases the object and throws naming the option or the setting.
  template <typename Set>
  void SetPerMap(Napi::Env env, Napi::Object per_map, const std::string& option, const std::string& setting,
                 const std::string& path, Set set) {
    if (per_map.IsEmpty()) return;
    Napi::Array names = per_map.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>();
      struct bpf_map* map = bpf_object__find_map_by_name(obj_, name.c_str());
      if (!map) {
        Release();
        ThrowType(env, option + ": no map named '" + name + "' in " + path);
      }
      int rc = set(map, per_map.Get(name).As<Napi::Number>().Uint32Value());
      if (rc) {
        Release();
        ThrowErrno(env, "set " + setting + " of " + name, rc);
      }
    }
  }

  void Release() {
    if (obj_) bpf_object__close(obj_);
    obj_ = nullptr;
  }

  struct bpf_object* Live(Napi::Env env) {
    if (!obj_) throw Napi::Error::New(env, "BPF object is closed");
    return obj_;
  }

  struct bpf_object* Loaded(Napi::Env env) {
    struct bpf_object* obj = Live(env);
    if (!loaded_) throw Napi::Error::New(env, "BPF object is not loaded: call load() first");
    return obj;
  }

  Napi::Value Load(const Napi::CallbackInfo& info) {
    struct bpf_object* obj = Live(info.Env());
    if (loaded_) throw Napi::Error::New(info.Env(), "BPF object is already loaded");
    TakeLibbpfLog();
    int rc;
    {
      SignalsBlocked quiet;
      rc = bpf_object__load(obj);
    }
    if (rc) ThrowErrno(info.Env(), std::string("load ") + bpf_object__name(obj), rc);
    loaded_ = true;
    return info.Env().Undefined();
  }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct bpf_object* obj = Live(env);
    Napi::Array out = Napi::Array::New(env);
    struct bpf_program* prog;
    uint32_t i = 0;
    bpf_object__for_each_program(prog, obj) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("name", bpf_program__name(prog));
      p.Set("section", bpf_program__section_name(prog));
      p.Set("fd", loaded_ ? bpf_program__fd(prog) : -1);
      out.Set(i++, p);
    }
    return out;
  }

  Napi::Value Maps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct bpf_object* obj = Live(env);
    Napi::Array out = Napi::Array::New(env);
    struct bpf_map* map;
    uint32_t i = 0;
    bpf_object__for_each_map(map, obj) {
      Napi::Object m = Napi::Object::New(env);
      m.Set("name", bpf_map__name(map));
      m.Set("fd", loaded_ ? bpf_map__fd(map) : -1);
      m.Set("type", (uint32_t)bpf_map__type(map));
      m.Set("keySize", bpf_map__key_size(map));
      m.Set("valueSize", bpf_map__value_size(map));
      m.Set("maxEntries", bpf_map__max_entries(map));
      const char* pin = bpf_map__pin_path(map);
      if (pin) m.Set("pinPath", pin);
      out.Set(i++, m);
    }
    return out;
  }

  static std::string NameArg(const Napi::CallbackInfo& info, const char* what) {
    if (info.Length() < 1 || !info[0].IsString()) ThrowType(info.Env(), std::string(what) + ": name must be a string");
    return info[0].As<Napi::String>();
  }

  Napi::Value ProgramFd(const Napi::CallbackInfo& info) {
    std::string name = NameArg(info, "programFd");
    struct bpf_object* obj = Loaded(info.Env());
    struct bpf_program* prog = bpf_object__find_program_by_name(obj, name.c_str());
    if (!prog) ThrowErrno(info.Env(), "no program named '" + name + "'", ENOENT);
    return Napi::Number::New(info.Env(), bpf_program__fd(prog));
  }

  Napi::Value MapFd(const Napi::CallbackInfo& info) {
    std::string name = NameArg(info, "mapFd");
    struct bpf_object* obj = Loaded(info.Env());
    struct bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
    if (!map) ThrowErrno(info.Env(), "no map named '" + name + "'", ENOENT);
    return Napi::Number::New(info.Env(), bpf_map__fd(map));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::Value Loaded(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), obj_ && loaded_); }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), obj_ == nullptr); }
};

Napi::Object InitBpfObject(Napi::Env env, Napi::Object exports) {
  exports.Set("BpfObject", BpfObject::Define(env));
  return exports;
}

}  // namespace xvpc

// A map's key and value sizes as the kernel reports them, so that every map
// call checks its Buffers against them and a wrong size throws instead of
// reading past a buffer.
#pragma once
#include <napi.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <cerrno>
#include <string>

#include "errors.h"

namespace xvpc {

inline bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

struct MapShape {
  struct bpf_map_info info;
  uint32_t value_bytes;  // what a lookup returns: per-CPU maps hold one slot per possible CPU
};

inline MapShape Shape(Napi::Env env, int fd, const char* fn) {
  MapShape s = {};
  uint32_t len = sizeof(s.info);
  int rc = bpf_obj_get_info_by_fd(fd, &s.info, &len);
  if (rc) ThrowErrno(env, std::string(fn) + ": not a BPF map (fd " + std::to_string(fd) + ")", errno);
  s.value_bytes = s.info.value_size;
  if (IsPerCpu(s.info.type)) s.value_bytes = ((s.info.value_size + 7) / 8 * 8) * libbpf_num_possible_cpus();
  return s;
}

inline void CheckSize(Napi::Env env, const char* fn, const MapShape& s, const char* what, size_t got, size_t want) {
  if (got != want)
    ThrowErrno(env, std::string(fn) + ": " + what + " is " + std::to_string(got) + " bytes, map '" + s.info.name +
                        "' wants " + std::to_string(want),
               EINVAL);
}

}  // namespace xvpc

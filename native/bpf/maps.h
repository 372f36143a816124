/* maps: the state both data paths (xvpc.bpf.c on XDP, xvpc_tc.bpf.c on TC)
 * share. Every map is pinned by name under the host's pin directory, so the
 * two objects see the same records and counters; the loader picks the
 * directory per host. The XDP-only maps (interfaces, xdpcap_hook) live in
 * hook_xdp.h. */
#ifndef XVPC_MAPS_H
#define XVPC_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xvpc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVPC_DEFAULT_VPCS);
	__type(key, struct vpc_key);
	__type(value, struct vpc_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vpcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_NETWORKS);
	__type(key, struct network_key);
	__type(value, struct network_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} networks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_ENDPOINTS);
	__type(key, struct endpoint_key);
	__type(value, struct endpoint_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVPC_DEFAULT_SUBSTRATE);
	__type(key, __u32);
	__type(value, struct substrate_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} substrate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVPC_DEFAULT_AGENTS);
	__type(key, __u32);
	__type(value, struct agent_meta_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} agent_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct host_cfg_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} host_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVPC_DEFAULT_HOST_CACHE);
	__type(key, struct endpoint_key);
	__type(value, struct host_cache_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ep_host_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVPC_DEFAULT_SCALED_FLOWS);
	__type(key, struct scaled_flow_key);
	__type(value, struct scaled_flow_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} scaled_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVPC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* Verdicts inside the data path are XDP's (XDP_PASS, XDP_TX...) on both
 * hooks; the TC entry points translate them (hook_tc.h). */
static __always_inline int drop(__u32 reason)
{
	stat_inc(reason);
	return XDP_DROP;
}

#endif

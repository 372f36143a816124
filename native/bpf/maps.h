/* maps: the state both data paths (xvpc.bpf.c on XDP, xvpc_tc.bpf.c on TC)
 * share, the lookups of its records, and the counters with the verdicts
 * they count. Every map is pinned by name under the host's pin directory, so the
 * two objects see the same records and counters; the loader picks the
 * directory per host. The XDP-only maps (interfaces, xdpcap_hook) live in
 * hook_xdp.h.
 *
 * Maps only the control plane writes are BPF_F_NO_PREALLOC: they take memory per
 * record, not per slot (preallocated, vpcs, substrate and agent_meta held 36 MB
 * of kernel memory on every host whatever they held; docs/emulation.md). Maps
 * the programs write (the LRUs) stay preallocated: no allocation per packet. */
#ifndef XVPC_MAPS_H
#define XVPC_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xvpc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
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
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_SUBSTRATE);
	__type(key, __u32);
	__type(value, struct substrate_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} substrate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
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
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_SCALED);
	__type(key, struct endpoint_key);
	__type(value, struct xvpc_members);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} scaled_backends SEC(".maps");

/* Security groups (xvpc.h describes the records; policy.h, conntrack.h read them). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_SG_ATTACH);
	__type(key, struct endpoint_key);
	__type(value, struct sg_attach_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_attach SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_SG_GROUPS);
	__type(key, __u32);
	__type(value, struct sg_group_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_groups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_SG_CIDRS);
	__type(key, struct sg_cidr_key);
	__type(value, struct sg_cidr_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_cidrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVPC_DEFAULT_SG_PORTS);
	__type(key, struct sg_port_key);
	__type(value, struct sg_port_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVPC_DEFAULT_CONNTRACK);
	__type(key, struct ct_key);
	__type(value, struct ct_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} conntrack SEC(".maps");

/* The datagrams whose first fragment passed a policed endpoint's groups
 * (sg.h): a later fragment is judged with that fragment's ports. Pinned like
 * every sg map, so a restart keeps the datagrams in flight. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVPC_DEFAULT_SG_FRAGS);
	__type(key, struct sg_frag_key);
	__type(value, struct sg_frag_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_cfg_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_cfg SEC(".maps");

/* How many conntrack entries were inserted, capped at the capacity: the
 * kernel's LRU says nothing when it evicts, so an insert at capacity is
 * counted as one (conntrack.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ct_count SEC(".maps");

/* conntrack's epoch: moved by every insert into conntrack (where the LRU
 * evicts) and every change of an entry's state, so a copy of an entry taken
 * under one epoch (sg_flow_cache) is known to be still the table's. Pinned:
 * shared by every program that writes conntrack. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ct_epoch SEC(".maps");

/* The steady state's flow cache, per CPU, direct-mapped by a hash of the key
 * (conntrack.h sg_judge): a copy of a live conntrack entry and the epoch it
 * was taken under. The data path's own cache: not pinned, never read by the
 * loader. */
#define XVPC_SG_FLOW_CACHE_BITS 10
struct sg_flow_cache_value {
	struct ct_key key;
	__u32 _pad;
	__u64 epoch;
	struct ct_value ct;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << XVPC_SG_FLOW_CACHE_BITS);
	__type(key, __u32);
	__type(value, struct sg_flow_cache_value);
} sg_flow_cache SEC(".maps");

/* conntrack's clock, per CPU (conntrack.h ct_now): the coarse clock's
 * reading and the jiffy it was read in. The data path's own cache: not
 * pinned, never read by the loader. */
struct ct_clock_value {
	__u64 jiffies;
	__u64 ns;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_clock_value);
} ct_clock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVPC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* The reason (an XVPC_STAT_DROP_* index) of the last drop on this CPU: the
 * capture hook's DROP slot reads it, so a capture can say why a packet it
 * sees leave with XDP_DROP was dropped (xvpc flows). Every drop goes through
 * drop(), which sets it just before the program leaves. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} drop_reason SEC(".maps");

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
	__u32 zero = 0;
	__u32 *last = bpf_map_lookup_elem(&drop_reason, &zero);

	if (last)
		*last = reason;
	stat_inc(reason);
	return XDP_DROP;
}

/* A step of transit or the agent returns a verdict, or XVPC_NEXT: the packet
 * goes on to the next step. Never a verdict of its own. */
#define XVPC_NEXT (-1)

/* The verdict counters of each program are laid out RX, PASS, TX, REDIRECT, DROP. */
_Static_assert(XVPC_STAT_TRANSIT_DROP - XVPC_STAT_TRANSIT_RX == 4, "transit verdicts");
_Static_assert(XVPC_STAT_AGENT_PASS - XVPC_STAT_AGENT_RX == 1 &&
		       XVPC_STAT_AGENT_TX - XVPC_STAT_AGENT_RX == 2 &&
		       XVPC_STAT_AGENT_REDIRECT - XVPC_STAT_AGENT_RX == 3 &&
		       XVPC_STAT_AGENT_DROP - XVPC_STAT_AGENT_RX == 4,
	       "agent verdicts");

/* Count the verdict: rx is the program's RX counter (see the layout above).
 * Exactly one verdict per run, always: the program's RX counter is not
 * written but derived as the sum of the four (xvpc.h). */
static __always_inline void count_verdict(int act, __u32 rx)
{
	__u32 idx = rx + 4;

	if (act == XDP_PASS)
		idx = rx + 1;
	else if (act == XDP_TX)
		idx = rx + 2;
	else if (act == XDP_REDIRECT)
		idx = rx + 3;
	stat_inc(idx);
}

#define XVPC_LPM_HOST (32 + 32) /* vni + full IPv4 */

static __always_inline struct host_cfg_value *host_cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&host_cfg, &zero);
}

/* The network holding (vni, ip), by longest prefix. */
static __always_inline struct network_value *network_of(__u32 vni, __u32 ip)
{
	struct network_key k = { .prefixlen = XVPC_LPM_HOST, .vni = vni, .ip = ip };

	return bpf_map_lookup_elem(&networks, &k);
}

static __always_inline struct endpoint_value *endpoint_of(__u32 vni, __u32 ip)
{
	struct endpoint_key k = { .vni = vni, .ip = ip };

	return bpf_map_lookup_elem(&endpoints, &k);
}

#endif

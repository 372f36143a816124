/* counter: the smallest useful XDP program, and its TC twin. Each counts every
 * packet it sees and passes it on. Used by the foundation tests and by
 * bootstrap.sh to check that both hooks attach to a veth. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

static __always_inline void count_packet(void)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&packets, &zero);

	if (count)
		*count += 1;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	count_packet();
	return XDP_PASS;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	count_packet();
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

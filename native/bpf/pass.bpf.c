/* pass: XDP_PASS and nothing else. Attached to the receiving end of a veth
 * into which XDP frames are sent (XDP_TX or redirect from its peer): on this
 * kernel a veth only accepts XDP frames when it runs an XDP program of its
 * own; GRO alone was not enough (see test/func for the proof). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The TC build's floor in the bench's per-packet cost: TC_ACT_OK and nothing else. */
SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";

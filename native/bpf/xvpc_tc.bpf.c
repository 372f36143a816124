/* xvpc data plane on the TC hook: the same packet logic as xvpc.bpf.c
 * (transit.h, agent.h) as two clsact ingress programs, for hosts whose NIC and
 * endpoint links are veths: XDP on a veth turns GSO off on its peer and
 * copies every packet, TC keeps the stack's 64 KB aggregates whole from the
 * sending socket to the receiving one (hook_tc.h). Maps are shared with the
 * XDP build by pinning; counters are the same; the capture hook is tccap_hook.
 *
 *   tc_transit  ingress of eth0
 *   tc_agent    ingress of every endpoint's host-side veth
 *
 * Both first make direct-access what they read of an IPv4 frame (transit then
 * the rest of a Geneve packet's headers), no more: pulling copies.
 */
#define XVPC_HOOK_TC
#include "hook.h"
#include "maps.h"
#include "ipv4.h"
#include "transit.h"
#include "agent.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int tc_transit(struct __sk_buff *skb)
{
	int act;

	ctx_pull(skb, ipv4_headers_len(ctx_data(skb), ctx_data_end(skb)));
	act = transit_process(skb, false);
	count_verdict(act, XVPC_STAT_TRANSIT_RX);
	return tc_exit(skb, act);
}

SEC("tc")
int tc_agent(struct __sk_buff *skb)
{
	int act;

	ctx_pull(skb, ipv4_headers_len(ctx_data(skb), ctx_data_end(skb)));
	act = agent_process(skb);
	count_verdict(act, XVPC_STAT_AGENT_RX);
	return tc_exit(skb, act);
}

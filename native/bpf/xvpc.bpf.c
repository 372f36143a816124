/* xvpc data plane on the XDP hook: the two XDP programs of one host (packet
 * logic: transit.h, agent.h; the hook's operations: hook_xdp.h; the TC build
 * of the same logic: xvpc_tc.bpf.c).
 *
 *   xdp_transit  on eth0
 *   xdp_agent    on every endpoint's host-side veth
 *
 * Both count their verdict (RX is the sum of the verdicts: xvpc.h) and leave
 * through the capture hook (xdpcap.h).
 */
#define XVPC_HOOK_XDP
#include "hook.h"
#include "maps.h"
#include "transit.h"
#include "agent.h"

char LICENSE[] SEC("license") = "GPL";

/* Every type the TS side mirrors must be in the object's BTF. The maps carry
 * the records; the enums are only used as constants, so this function's
 * signature carries them. It is never called, so it is never loaded, and
 * unlike an anchor variable it adds no data section or map to the object. */
__attribute__((used, noinline)) int xvpc_btf_types(enum xvpc_stat stat, enum xvpc_ep_type type,
						     enum xvpc_sg_dir dir, enum xvpc_sg_proto proto,
						     enum xvpc_ct_state state)
{
	return stat + type + dir + proto + state;
}

SEC("xdp.frags")
int xdp_transit(struct xdp_md *ctx)
{
	int act;

	act = transit_process(ctx, false);
	count_verdict(act, XVPC_STAT_TRANSIT_RX);
	return xdpcap_exit(ctx, &xdpcap_hook, act);
}

SEC("xdp.frags")
int xdp_agent(struct xdp_md *ctx)
{
	int act;

	act = agent_process(ctx);
	count_verdict(act, XVPC_STAT_AGENT_RX);
	/* Transit run inline returns here: the hook sees the agent's final verdict once. */
	return xdpcap_exit(ctx, &xdpcap_hook, act);
}

/* encap: the outer Ethernet/IPv4/UDP/Geneve headers around an endpoint's
 * frame. The agent pushes them (encap_push); each overlay hop points them at
 * the next (outer_forward) and sends the packet on (outer_tx); the endpoint's
 * host strips them and delivers the inner frame (decap_deliver). Packets are
 * touched through the hook's ctx_* operations (hook.h). */
#ifndef XVPC_ENCAP_H
#define XVPC_ENCAP_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "wire.h"
#include "hook.h"
#include "maps.h"
#include "eth.h"
#include "csum.h"
#include "flowhash.h"
#include "geneve.h"

/* The outer TTL is the underlay's own, whatever the inner one: the inner TTL
 * belongs to the endpoints and the routers of the VPC. */
#define XVPC_OUTER_TTL 64

/* Write Ethernet/IPv4/UDP/Geneve+RTS (XVPC_ENCAP_LEN bytes, which the caller
 * checked are there) at eth, addressed to (daddr, dmac), in VNI vni, with
 * outer IPv4 length ip_len, UDP source port from the flow hash h, RTS flags
 * rts_flags. */
static __always_inline void encap_write(struct ethhdr *eth, const struct host_cfg_value *hc,
					__u32 vni, __u32 daddr, const __u8 *dmac, __u32 ip_len,
					__u32 h, __u8 rts_flags)
{
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct xvpc_geneve *gh = (void *)(udp + 1);

	mac_copy(eth->h_dest, dmac);
	mac_copy(eth->h_source, hc->mac);
	eth_set_proto(eth, bpf_htons(ETH_P_IP));

	*(__u8 *)ip = 0x45; /* version 4, IHL 5 */
	ip->tos = 0;
	ip->tot_len = bpf_htons(ip_len);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = XVPC_OUTER_TTL;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = hc->ip;
	ip->daddr = daddr;
	xvpc_ip_csum_set(ip);

	udp->source = bpf_htons(XVPC_SPORT_BASE + (h & XVPC_SPORT_MASK));
	udp->dest = bpf_htons(XVPC_GENEVE_PORT);
	udp->len = bpf_htons(ip_len - sizeof(*ip));
	udp->check = 0;

	geneve_build(gh, vni, hc->ip, hc->mac, rts_flags);
}

/* Prepend the outer headers (encap_write) around the frame. 0 on success,
 * else the (counted) drop verdict. */
static __always_inline int encap_push(xvpc_ctx *ctx, const struct host_cfg_value *hc, __u32 vni,
				      __u32 daddr, const __u8 *dmac, __u32 h, __u8 rts_flags)
{
	/* Outer lengths; an aggregate (GSO) may exceed 16 bits: it gets the
	 * largest, and each packet cut from it its own. */
	__u32 ip_len = ctx_len(ctx) + XVPC_ENCAP_LEN - sizeof(struct ethhdr);
	struct ethhdr *eth;

	if (ip_len > 0xffff)
		ip_len = 0xffff;
	if (ctx_push(ctx, XVPC_ENCAP_LEN))
		return drop(XVPC_STAT_DROP_ADJUST);
	eth = ctx_data(ctx);
	if ((void *)eth + XVPC_ENCAP_LEN > ctx_data_end(ctx))
		return drop(XVPC_STAT_DROP_TRUNCATED);
	encap_write(eth, hc, vni, daddr, dmac, ip_len, h, rts_flags);
	stat_inc(XVPC_STAT_ENCAP);
	return 0;
}

/* Point the outer headers at the next overlay hop. The outer source stays the
 * sending host's (the one in the RTS option), so the destination host can
 * check the option before it learns the sender (direct_path.h). The outer TTL
 * is the loop guard of the overlay: every hop decrements it; the caller
 * checked it is > 1. The IPv4 checksum is patched, not recomputed: the
 * header's must be valid (transit_outer checked it; a caller that changed
 * another field of it recomputes it first, as scaled_add_opt does). */
static __always_inline void outer_forward(struct ethhdr *eth, struct iphdr *ip,
					  const struct host_cfg_value *hc, __u32 daddr,
					  const __u8 *dmac)
{
	mac_copy(eth->h_dest, dmac);
	mac_copy(eth->h_source, hc->mac);
	xvpc_ip_set_daddr_dec_ttl(ip, daddr);
}

/* Send a forwarded Geneve packet on. XDP_TX in transit means "back out of the
 * interface it came in on". When the agent runs transit inline, that
 * interface is the endpoint's veth, so a forward must go out through eth0
 * instead. */
static __always_inline int outer_tx(xvpc_ctx *ctx, const struct host_cfg_value *hc, bool from_agent)
{
	if (from_agent)
		return ctx_redirect(ctx, hc->ifindex);
	return ctx_tx(ctx);
}

/* The endpoint lives here: strip the outer headers (outer_len bytes) and hand
 * the inner frame to its veth. */
static __always_inline int decap_deliver(xvpc_ctx *ctx, const struct endpoint_value *ep,
					 __u32 outer_len)
{
	__u32 ifindex = ep->hosted_ifindex;
	struct ethhdr *eth;
	int act;

	if (ctx_pop(ctx, outer_len))
		return drop(XVPC_STAT_DROP_ADJUST);
	eth = ctx_data(ctx);
	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return drop(XVPC_STAT_DROP_TRUNCATED);
	mac_copy(eth->h_dest, ep->mac);
	act = ctx_deliver(ctx, ifindex, ep->type == XVPC_EP_HOST);
	if (act == XDP_REDIRECT)
		stat_inc(XVPC_STAT_DECAP);
	return act;
}

#endif

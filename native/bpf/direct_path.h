/* direct_path: Mizar's direct path. A host that delivers a Geneve packet to
 * one of its endpoints learns where the sender's endpoint lives, from the
 * RTS option; the agents of that host then send to it straight, past the
 * switch. Per VPC (vpc_value.flags & XVPC_VPC_F_DIRECT_PATH). Steps:
 *
 *   direct_path_pick   agent: a cached destination host replaces the switch
 *   direct_path_learn  transit, before delivering here: remember the sender
 *   direct_path_stale  transit: a direct packet for an endpoint this host does
 *                      not know goes on through a switch of its network
 *
 * The cache cannot be poisoned from the underlay: a host learns only from a
 * packet whose outer source is a known host (substrate) and is the host the
 * RTS option names (switches and routers keep the outer source, encap.h).
 * It never lies for long: the control plane flushes an endpoint's entries on
 * every host of its VPC when the endpoint goes or moves, and a packet that
 * still arrives at the old host is sent on by direct_path_stale.
 */
#ifndef XVPC_DIRECT_PATH_H
#define XVPC_DIRECT_PATH_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

#include "xvpc.h"
#include "wire.h"
#include "hook.h"
#include "maps.h"
#include "eth.h"
#include "csum.h"
#include "flowhash.h"
#include "geneve.h"
#include "encap.h"

static __always_inline bool direct_path_on(__u32 vni)
{
	struct vpc_key vk = { .vni = vni };
	struct vpc_value *vpc = bpf_map_lookup_elem(&vpcs, &vk);

	return vpc && (vpc->flags & XVPC_VPC_F_DIRECT_PATH);
}

static __always_inline bool direct_path_in_net(const struct network_value *net, __u32 ip)
{
	__u32 mask = net->prefixlen >= 32 ? 0xffffffff
			: net->prefixlen == 0 ? 0 : ~((1u << (32 - net->prefixlen)) - 1);

	return (bpf_ntohl(ip) & mask) == bpf_ntohl(net->prefix);
}

/* Agent: the destination's host when the cache knows it. *net is the
 * endpoint's own network (looked up here, reused for the switch otherwise).
 * A destination in another network is routed here as a router would: inner
 * TTL - 1; a packet whose TTL would expire takes the switch and router, so
 * the router answers it. Returns true when o_hop/o_dmac were set. */
static __always_inline bool direct_path_pick(const struct host_cfg_value *hc,
					     const struct agent_meta_value *meta, struct iphdr *ip,
					     struct network_value **net, __u32 *o_hop, __u8 *o_dmac)
{
	struct host_cache_value *hcv;
	struct endpoint_key ck;

	if (!direct_path_on(meta->vni))
		return false;
	ck.vni = meta->vni;
	ck.ip = ip->daddr;
	hcv = bpf_map_lookup_elem(&ep_host_cache, &ck);
	if (!hcv || !hcv->host_ip || hcv->host_ip == hc->ip)
		return false;
	*net = network_of(meta->vni, meta->ip);
	if (!*net)
		return false;
	if (!direct_path_in_net(*net, ip->daddr)) {
		if (ip->ttl <= 1)
			return false;
		xvpc_ip_dec_ttl(ip);
	}
	*o_hop = hcv->host_ip;
	mac_copy(o_dmac, hcv->host_mac);
	stat_inc(XVPC_STAT_DIRECT_TX);
	return true;
}

/* The RTS option of a received packet, or NULL. */
static __always_inline struct xvpc_rts *direct_path_rts(const struct geneve_info *g,
							void *data_end)
{
	struct xvpc_rts *rts;

	if (g->rts_off < 0)
		return NULL;
	rts = g->opts + (g->rts_off & 0xff);
	if ((void *)(rts + 1) > data_end)
		return NULL;
	return rts;
}

/* Transit, delivering to a local endpoint: (vni, inner source) -> the
 * sender's host, when the packet may teach it (see the top of this file). */
static __always_inline void direct_path_learn(const struct host_cfg_value *hc,
					      const struct geneve_info *g, const struct iphdr *oip,
					      const struct iphdr *iip, void *data_end)
{
	struct xvpc_rts *rts = direct_path_rts(g, data_end);
	struct host_cache_value *old, val = {};
	struct substrate_value *sub;
	struct endpoint_key ck;
	__u32 sender;

	if (!rts || (rts->flags & XVPC_RTS_F_NO_LEARN))
		return;
	sender = rts->host_ip;
	if (sender != oip->saddr || sender == hc->ip)
		return;
	sub = bpf_map_lookup_elem(&substrate, &sender);
	if (!sub || !direct_path_on(g->vni))
		return;
	ck.vni = g->vni;
	ck.ip = iip->saddr;
	old = bpf_map_lookup_elem(&ep_host_cache, &ck);
	if (old && old->host_ip == sender && mac_equal(old->host_mac, sub->mac))
		return; /* known: no write per packet */
	val.host_ip = sender;
	mac_copy(val.host_mac, sub->mac); /* the underlay's word for its MAC, not the option's */
	if (bpf_map_update_elem(&ep_host_cache, &ck, &val, BPF_ANY) == 0)
		stat_inc(XVPC_STAT_DIRECT_LEARN);
}

/* Transit: a direct packet (RTS flag) for an endpoint this host has no record
 * of: its cache entry was stale. On through a switch of the endpoint's
 * network, as switched traffic (flag cleared, inner packet untouched).
 * XVPC_NEXT when it is not such a packet or this host is that switch. */
static __always_inline int direct_path_stale(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					     struct ethhdr *eth, struct iphdr *oip,
					     const struct geneve_info *g, const struct iphdr *iip,
					     void *data_end, bool from_agent)
{
	struct xvpc_rts *rts = direct_path_rts(g, data_end);
	struct substrate_value *sub;
	struct network_value *net;
	__u32 hop;

	if (from_agent || !rts || !(rts->flags & XVPC_RTS_F_DIRECT))
		return XVPC_NEXT;
	net = network_of(g->vni, iip->daddr);
	if (!net)
		return XVPC_NEXT;
	hop = xvpc_members_pick(&net->switches, ipv4_flowhash(iip, data_end));
	if (!hop || hop == hc->ip)
		return XVPC_NEXT;
	if (oip->ttl <= 1)
		return drop(XVPC_STAT_DROP_TTL);
	sub = bpf_map_lookup_elem(&substrate, &hop);
	if (!sub)
		return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
	rts->flags &= ~XVPC_RTS_F_DIRECT;
	outer_forward(eth, oip, hc, hop, sub->mac);
	stat_inc(XVPC_STAT_DIRECT_STALE);
	return outer_tx(ctx, hc, from_agent);
}

#endif

/* agent: every endpoint's host-side veth (one program, keyed by ingress
 * ifindex). One named step each:
 *
 *   agent_ipv4         IPv4 checked, spoof check, egress security groups
 *                      (sg_egress, sg.h), scaled-endpoint SNAT,
 *                      flow hash; direct_path_pick (direct_path.h) may
 *                      name the destination's host
 *   agent_arp          ARP requests answered here when this host knows the
 *                      answer (agent_arp_reply), else sent to a switch
 *   agent_pick_switch  one switch of the endpoint's own network
 *   agent_send         Geneve encapsulation, out eth0, or transit inline
 *                      when this host is the switch
 *
 * A step returns a verdict or XVPC_NEXT (maps.h). Decisions and drop
 * reasons: README.md beside this file.
 */
#ifndef XVPC_AGENT_H
#define XVPC_AGENT_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "wire.h"
#include "hook.h"
#include "maps.h"
#include "eth.h"
#include "arp.h"
#include "flowhash.h"
#include "encap.h"
#include "scaled.h"
#include "transit.h"
#include "direct_path.h"
#include "sg.h"

/* Where an endpoint's packet goes, as the steps decide it. */
struct agent_out {
	struct network_value *net; /* the endpoint's own network, once looked up */
	__u32 hop;                 /* next overlay host; 0 until chosen */
	__u8 dmac[ETH_ALEN];       /* its MAC on the underlay */
	__u32 h;                   /* flow hash */
	__u8 rts_flags;            /* XVPC_RTS_F_* for the RTS option */
};

/* IPv4 from the endpoint: checked, its source its own, leaving as a scaled
 * endpoint when it answers one's flow. */
static __always_inline int agent_ipv4(xvpc_ctx *ctx, const struct host_cfg_value *hc,
				      const struct agent_meta_value *meta, struct ethhdr *eth,
				      void *data_end, struct agent_out *o)
{
	struct iphdr *ip = (void *)(eth + 1);
	int err;

	if ((void *)(ip + 1) > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	if (ip->version != 4 || ip->ihl < 5)
		return drop(XVPC_STAT_DROP_BAD_IP);
	if ((void *)ip + ip->ihl * 4 > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	if (ip->saddr != meta->ip)
		return drop(XVPC_STAT_DROP_SPOOFED);
	err = sg_egress(ctx, meta, ip, data_end); /* security groups: before NAT and encapsulation */
	if (err != XVPC_NEXT)
		return err;
	err = scaled_agent_snat(ctx, meta, ip, data_end);
	if (err < 0)
		return drop(XVPC_STAT_DROP_ADJUST);
	if (err) {
		/* TC's checksum helper moved the packet: take the pointers again */
		data_end = ctx_data_end(ctx);
		eth = ctx_data(ctx);
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);
	}
	o->h = ipv4_flowhash(ip, data_end);
	if (ip->saddr != meta->ip) /* answered as a scaled endpoint: not where that lives */
		o->rts_flags = XVPC_RTS_F_NO_LEARN;
	else if (direct_path_pick(hc, meta, ip, &o->net, &o->hop, o->dmac))
		o->rts_flags = XVPC_RTS_F_DIRECT;
	return XVPC_NEXT;
}

static __always_inline int agent_arp_reply(xvpc_ctx *ctx, struct ethhdr *eth, struct xvpc_arp *arp,
					   const __u8 *mac)
{
	arp_make_reply(eth, arp, mac);
	stat_inc(XVPC_STAT_ARP_REPLY);
	return ctx_tx(ctx);
}

/* ARP request from the endpoint: answered here for its own network's
 * gateway, any endpoint record, or another network's gateway this host
 * holds; else it goes to a switch inside Geneve. */
static __always_inline int agent_arp(xvpc_ctx *ctx, const struct agent_meta_value *meta,
				     struct ethhdr *eth, void *data_end, struct agent_out *o)
{
	struct xvpc_arp *arp = (void *)(eth + 1);
	struct network_value *gw;
	struct endpoint_value *ep;
	__u32 spa, tpa;
	int err;

	if ((void *)(arp + 1) > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	err = arp_check(arp, XVPC_ARP_REQUEST);
	if (err)
		return drop(err);
	spa = arp_ip(arp->spa);
	tpa = arp_ip(arp->tpa);
	/* Probes and announcements for its own address: nobody to answer. */
	if (tpa == meta->ip)
		return drop(XVPC_STAT_DROP_UNSUPPORTED);
	if (spa != meta->ip && spa != 0)
		return drop(XVPC_STAT_DROP_SPOOFED);

	o->net = network_of(meta->vni, meta->ip);
	if (o->net && tpa == o->net->gw_ip)
		return agent_arp_reply(ctx, eth, arp, o->net->gw_mac);
	ep = endpoint_of(meta->vni, tpa);
	if (ep)
		return agent_arp_reply(ctx, eth, arp, ep->mac);
	/* Another network's gateway, when this host holds that network (as
	 * its switch, router or endpoint host): answered as its switch would,
	 * one hop sooner. */
	gw = network_of(meta->vni, tpa);
	if (gw && tpa == gw->gw_ip)
		return agent_arp_reply(ctx, eth, arp, gw->gw_mac);
	/* Unknown here: the switch answers inside Geneve. */
	o->h = xvpc_flowhash(bpf_ntohl(spa), bpf_ntohl(tpa), 0, 0, 0);
	return XVPC_NEXT;
}

/* One switch of the endpoint's own network, by the flow hash. */
static __always_inline int agent_pick_switch(const struct host_cfg_value *hc,
					     const struct agent_meta_value *meta,
					     struct agent_out *o)
{
	struct substrate_value *sub;
	struct network_value *net = o->net;

	if (!net)
		net = network_of(meta->vni, meta->ip);
	if (!net)
		return drop(XVPC_STAT_DROP_NO_SWITCH);
	o->hop = xvpc_members_pick(&net->switches, o->h);
	if (!o->hop)
		return drop(XVPC_STAT_DROP_NO_SWITCH);
	if (o->hop == hc->ip) {
		mac_copy(o->dmac, hc->mac);
		return XVPC_NEXT;
	}
	sub = bpf_map_lookup_elem(&substrate, &o->hop);
	if (!sub)
		return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
	mac_copy(o->dmac, sub->mac);
	return XVPC_NEXT;
}

/* Encapsulate to the chosen hop; out through eth0, or into transit inline
 * when this host is the switch. */
static __always_inline int agent_send(xvpc_ctx *ctx, const struct host_cfg_value *hc,
				      const struct agent_meta_value *meta, const struct agent_out *o)
{
	int err;

	err = encap_push(ctx, hc, meta->vni, o->hop, o->dmac, o->h, o->rts_flags);
	if (err)
		return err;
	if (o->hop == hc->ip) /* this host is the switch: run transit inline */
		return transit_process(ctx, true);
	return ctx_redirect(ctx, hc->ifindex);
}

static __always_inline int agent_process(xvpc_ctx *ctx)
{
	void *data = ctx_data(ctx);
	void *data_end = ctx_data_end(ctx);
	__u32 ifindex = ctx_ingress_ifindex(ctx);
	struct agent_out o = { .net = NULL, .hop = 0, .rts_flags = 0 };
	struct agent_meta_value *meta;
	struct host_cfg_value *hc;
	struct ethhdr *eth = data;
	int act;

	meta = bpf_map_lookup_elem(&agent_meta, &ifindex);
	if (!meta)
		return XDP_PASS;
	hc = host_cfg_get();
	if (!hc || !hc->ip)
		return drop(XVPC_STAT_DROP_NO_HOST_CFG);
	if ((void *)(eth + 1) > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);

	if (eth_proto(eth) == bpf_htons(ETH_P_IP))
		act = agent_ipv4(ctx, hc, meta, eth, data_end, &o);
	else if (eth_proto(eth) == bpf_htons(ETH_P_ARP))
		act = agent_arp(ctx, meta, eth, data_end, &o);
	else
		return drop(XVPC_STAT_DROP_UNSUPPORTED);
	if (act != XVPC_NEXT)
		return act;
	if (!o.hop) {
		act = agent_pick_switch(hc, meta, &o);
		if (act != XVPC_NEXT)
			return act;
	}
	return agent_send(ctx, hc, meta, &o);
}

#endif

/* transit: eth0's program. Geneve to this host is decided on (VNI, inner
 * destination); everything else passes untouched. One named step each:
 *
 *   transit_outer    is it ours? outer Ethernet/IPv4/UDP checked (TC: pulled)
 *   transit_geneve   Geneve header and options, inner Ethernet
 *   transit_arp      ARP: a switch's reply goes to the requester, a request
 *                    is answered in place (transit_arp_reply_*)
 *   transit_ipv4     inner IPv4 checked, then by destination:
 *     transit_local    endpoint hosted here: ingress security groups
 *                      (sg_ingress, sg.h), learn the sender
 *                      (direct_path_learn), decapsulate and deliver
 *     transit_switch   endpoint elsewhere: forward to its host (scaled
 *                      endpoints: scaled_switch in scaled.h)
 *     direct_path_stale  no endpoint, but sent here by a stale cache:
 *                      on to a switch of its network
 *     transit_route    no endpoint: router, to a switch of the network
 *                      (transit_route_net) or a router of the VPC
 *                      (transit_route_vpc)
 *
 * A step returns a verdict or XVPC_NEXT (maps.h). The agent runs
 * transit_process inline (from_agent) when this host is the switch.
 * Decisions and drop reasons: README.md beside this file.
 */
#ifndef XVPC_TRANSIT_H
#define XVPC_TRANSIT_H

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
#include "arp.h"
#include "encap.h"
#include "scaled.h"
#include "direct_path.h"
#include "icmp.h"
#include "sg.h"

/* A Geneve packet to this host, as the steps have checked it so far. */
struct transit_pkt {
	void *data_end;
	struct ethhdr *eth;   /* outer */
	struct iphdr *ip;     /* outer */
	struct udphdr *udp;   /* outer */
	struct geneve_info g;
	__u32 outer_len;      /* everything before the inner frame */
	struct ethhdr *ieth;  /* inner */
};

/* UDP to this host with IP options or fragmented (off the fast path): what is
 * not Geneve passes; Geneve is dropped, since the outer header must be plain.
 * A later fragment shows no port, so it passes. */
static __always_inline int transit_odd_ip(struct iphdr *ip, void *data_end)
{
	__u32 ihl = ip->ihl;
	struct udphdr *udp;

	if (ihl < 5)
		return drop(XVPC_STAT_DROP_BAD_IP);
	if (ip->frag_off & bpf_htons(XVPC_IP_OFFSET))
		return XDP_PASS;
	udp = (void *)ip + ihl * 4;
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(XVPC_GENEVE_PORT))
		return XDP_PASS;
	if (ip->frag_off & bpf_htons(XVPC_IP_MF))
		return drop(XVPC_STAT_DROP_FRAGMENT);
	return drop(XVPC_STAT_DROP_IP_OPTIONS);
}

/* Only Geneve to this host's address is ours; the rest passes. Fills the
 * outer pointers of *p. */
static __always_inline int transit_outer(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					 struct transit_pkt *p)
{
	void *data = ctx_data(ctx);
	void *data_end = ctx_data_end(ctx);
	struct ethhdr *eth = data;
	struct udphdr *udp;
	struct iphdr *ip;
	__u32 tot;

	if (!hc || !hc->ip)
		return XDP_PASS;
	ip = data + sizeof(*eth);
	if ((void *)(ip + 1) > data_end || eth_proto(eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->daddr != hc->ip || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(XVPC_IP_MF | XVPC_IP_OFFSET)))
		return transit_odd_ip(ip, data_end);
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(XVPC_GENEVE_PORT))
		return XDP_PASS;

	/* Geneve to us from here on: malformed means dropped. Only now is the
	 * rest of the headers made direct-access (TC; a no-op on XDP), so
	 * traffic that is not ours is not pulled; pointers are taken again. A
	 * header cut short by a wrong length fails a bounds check below. */
	if (ctx_pull(ctx, geneve_headers_len(data, data_end))) {
		data = ctx_data(ctx);
		data_end = ctx_data_end(ctx);
		eth = data;
		ip = data + sizeof(*eth);
		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);
	}
	/* The lengths describe the whole frame, fragments included (xdp.frags:
	 * data_end only ends the linear part). A TC aggregate longer than 16
	 * bits says 0xffff (encap_push); it is never a wire packet. */
	tot = ctx_len(ctx) - sizeof(*eth);
	if (tot > 0xffff)
		tot = 0xffff;
	if (ip->version != 4 || tot != bpf_ntohs(ip->tot_len) || bpf_ntohs(udp->len) != tot - sizeof(*ip) ||
	    !xvpc_ip_csum_ok(ip))
		return drop(XVPC_STAT_DROP_BAD_IP);
	p->data_end = data_end;
	p->eth = eth;
	p->ip = ip;
	p->udp = udp;
	return XVPC_NEXT;
}

/* The Geneve header and its options, then the inner Ethernet header. */
static __always_inline int transit_geneve(struct transit_pkt *p)
{
	int err;

	err = geneve_parse((void *)(p->udp + 1), p->data_end, &p->g);
	if (err)
		return drop(err);
	p->outer_len = XVPC_OUTER_L2L4 + sizeof(struct xvpc_geneve) + p->g.opt_bytes;
	p->ieth = p->g.opts + p->g.opt_bytes;
	if ((void *)(p->ieth + 1) > p->data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	return XVPC_NEXT;
}

/* Transit run inline from the agent: the requester is behind the veth this
 * came in on, so the reply leaves there without its outer headers. */
static __always_inline int transit_arp_reply_inline(xvpc_ctx *ctx, const struct transit_pkt *p,
						    const __u8 *mac)
{
	struct xvpc_arp *arp;
	struct ethhdr *ieth;

	if (ctx_pop(ctx, p->outer_len))
		return drop(XVPC_STAT_DROP_ADJUST);
	ieth = ctx_data(ctx);
	arp = (void *)(ieth + 1);
	if ((void *)(arp + 1) > ctx_data_end(ctx))
		return drop(XVPC_STAT_DROP_TRUNCATED);
	arp_make_reply(ieth, arp, mac);
	stat_inc(XVPC_STAT_ARP_REPLY);
	return ctx_tx(ctx);
}

/* Send the reply back the way the request came: reverse the outer headers,
 * and this host becomes the sender in the RTS option. */
static __always_inline int transit_arp_reply_back(xvpc_ctx *ctx, const struct host_cfg_value *hc,
						  const struct transit_pkt *p,
						  struct xvpc_arp *arp, const __u8 *mac)
{
	struct ethhdr *eth = p->eth;
	struct iphdr *ip = p->ip;

	arp_make_reply(p->ieth, arp, mac);
	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, hc->mac);
	ip->daddr = ip->saddr;
	ip->saddr = hc->ip;
	ip->ttl = XVPC_ARP_TTL;
	xvpc_ip_csum_set(ip);
	if (p->g.rts_off >= 0) {
		struct xvpc_rts *rts = p->g.opts + (p->g.rts_off & 0xff);

		if ((void *)(rts + 1) > p->data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);
		rts->host_ip = hc->ip;
		mac_copy(rts->host_mac, hc->mac);
	}
	stat_inc(XVPC_STAT_ARP_REPLY);
	return ctx_tx(ctx);
}

/* Inner ARP: a switch's reply goes on to the requester's endpoint; a request
 * for an endpoint (any record) or a network's gateway is answered. */
static __always_inline int transit_arp(xvpc_ctx *ctx, const struct host_cfg_value *hc,
				       const struct transit_pkt *p, bool from_agent)
{
	struct xvpc_arp *arp = (void *)(p->ieth + 1);
	struct endpoint_value *ep;
	struct network_value *net;
	__u8 mac[ETH_ALEN];
	__u32 tpa;
	int err;

	if ((void *)(arp + 1) > p->data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	tpa = arp_ip(arp->tpa);
	if (arp_check(arp, XVPC_ARP_REPLY) == 0) {
		/* A switch's answer coming back to the requester's host. */
		ep = endpoint_of(p->g.vni, tpa);
		if (!ep || ep->hosted_ifindex < 0)
			return drop(XVPC_STAT_DROP_NO_ENDPOINT);
		return decap_deliver(ctx, ep, p->outer_len);
	}
	err = arp_check(arp, XVPC_ARP_REQUEST);
	if (err)
		return drop(err);

	/* Answer from endpoints, or for the network's gateway. */
	ep = endpoint_of(p->g.vni, tpa);
	if (ep) {
		mac_copy(mac, ep->mac);
	} else {
		net = network_of(p->g.vni, tpa);
		if (!net || net->gw_ip != tpa)
			return drop(XVPC_STAT_DROP_NO_ENDPOINT);
		mac_copy(mac, net->gw_mac);
	}
	if (from_agent)
		return transit_arp_reply_inline(ctx, p, mac);
	return transit_arp_reply_back(ctx, hc, p, arp, mac);
}

/* The endpoint is hosted here: decapsulate and deliver. A scaled endpoint's
 * flow (option 0x49) is remembered first: its answers go out as that
 * endpoint. */
static __always_inline int transit_local(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					 const struct transit_pkt *p,
					 const struct endpoint_value *ep, struct iphdr *iip,
					 bool from_agent)
{
	__u32 vip = scaled_opt_vip(p->g.opts, p->g.scaled_off, p->data_end);
	int act;

	act = sg_ingress(ctx, p->g.vni, iip->daddr, iip, p->data_end, p->outer_len + sizeof(struct ethhdr));
	if (act != XVPC_NEXT)
		return act;
	if (!from_agent)
		direct_path_learn(hc, &p->g, p->ip, iip, p->data_end);

	if (vip)
		scaled_remember(p->g.vni, iip, p->data_end, iip->daddr, vip, ep->hosted_ifindex);
	return decap_deliver(ctx, ep, p->outer_len);
}

/* Switch: the destination endpoint is known. */
static __always_inline int transit_switch(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					  const struct transit_pkt *p,
					  const struct endpoint_value *ep, struct iphdr *iip,
					  bool from_agent)
{
	if (ep->type == XVPC_EP_SCALED)
		return scaled_switch(ctx, hc, p->g.vni, p->ieth, iip, p->ip, p->outer_len,
				     from_agent);
	if (ep->hosted_ifindex >= 0)
		return transit_local(ctx, hc, p, ep, iip, from_agent);
	if (ep->host_ip == hc->ip) /* claims to live here, but no veth */
		return drop(XVPC_STAT_DROP_NO_ENDPOINT);
	if (p->ip->ttl <= 1)
		return drop(XVPC_STAT_DROP_TTL);
	outer_forward(p->eth, p->ip, hc, ep->host_ip, ep->host_mac);
	stat_inc(XVPC_STAT_SWITCH_FWD);
	return outer_tx(ctx, hc, from_agent);
}

/* Router, the destination's network known: to one of its switches, routed
 * (inner TTL - 1, from the network's gateway); a packet whose TTL runs out
 * here is answered with ICMP time exceeded (icmp.h). */
static __always_inline int transit_route_net(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					     const struct transit_pkt *p,
					     const struct network_value *net, struct iphdr *iip,
					     __u32 h, bool from_agent)
{
	struct substrate_value *sub;
	__u32 hop;

	hop = xvpc_members_pick(&net->switches, h);
	if (!hop)
		return drop(XVPC_STAT_DROP_NO_SWITCH);
	if (hop == hc->ip) /* we are its switch and do not know it */
		return drop(XVPC_STAT_DROP_NO_ENDPOINT);
	if (p->ip->ttl <= 1)
		return drop(XVPC_STAT_DROP_TTL);
	if (iip->ttl <= 1) /* this hop would take its last: answer it */
		return icmp_time_exceeded(ctx, hc, p->g.vni, p->ip->saddr, p->ieth, iip, p->data_end,
					  net, from_agent);
	sub = bpf_map_lookup_elem(&substrate, &hop);
	if (!sub)
		return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
	xvpc_ip_dec_ttl(iip);
	mac_copy(p->ieth->h_source, net->gw_mac); /* routed: from the gateway */
	outer_forward(p->eth, p->ip, hc, hop, sub->mac);
	stat_inc(XVPC_STAT_ROUTER_NET_FWD);
	return outer_tx(ctx, hc, from_agent);
}

/* Router, no network known here: to one of the VPC's routers. Inner TTL
 * untouched: the router that finds the network routes. */
static __always_inline int transit_route_vpc(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					     const struct transit_pkt *p, __u32 h, bool from_agent)
{
	struct substrate_value *sub;
	struct vpc_value *vpc;
	struct vpc_key vk;
	__u32 hop;

	vk.vni = p->g.vni;
	vpc = bpf_map_lookup_elem(&vpcs, &vk);
	if (!vpc)
		return drop(XVPC_STAT_DROP_NO_ROUTE);
	hop = xvpc_members_pick(&vpc->routers, h);
	if (!hop || hop == hc->ip)
		return drop(XVPC_STAT_DROP_NO_ROUTE);
	if (p->ip->ttl <= 1)
		return drop(XVPC_STAT_DROP_TTL);
	sub = bpf_map_lookup_elem(&substrate, &hop);
	if (!sub)
		return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
	outer_forward(p->eth, p->ip, hc, hop, sub->mac);
	stat_inc(XVPC_STAT_ROUTER_VPC_FWD);
	return outer_tx(ctx, hc, from_agent);
}

/* Router: the destination's network, else the VPC. */
static __always_inline int transit_route(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					 const struct transit_pkt *p, struct iphdr *iip,
					 bool from_agent)
{
	__u32 h = ipv4_flowhash(iip, p->data_end);
	struct network_value *net = network_of(p->g.vni, iip->daddr);

	if (net)
		return transit_route_net(ctx, hc, p, net, iip, h, from_agent);
	return transit_route_vpc(ctx, hc, p, h, from_agent);
}

/* Inner IPv4: checked, then delivered, switched or routed. */
static __always_inline int transit_ipv4(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					const struct transit_pkt *p, bool from_agent)
{
	struct iphdr *iip = (void *)(p->ieth + 1);
	struct endpoint_value *ep;
	int act;

	if ((void *)(iip + 1) > p->data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	if (iip->version != 4 || iip->ihl < 5)
		return drop(XVPC_STAT_DROP_BAD_IP);
	if ((void *)iip + iip->ihl * 4 > p->data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	ep = endpoint_of(p->g.vni, iip->daddr);
	if (ep)
		return transit_switch(ctx, hc, p, ep, iip, from_agent);
	act = direct_path_stale(ctx, hc, p->eth, p->ip, &p->g, iip, p->data_end, from_agent);
	if (act != XVPC_NEXT)
		return act;
	return transit_route(ctx, hc, p, iip, from_agent);
}

static __always_inline int transit_process(xvpc_ctx *ctx, bool from_agent)
{
	struct host_cfg_value *hc = host_cfg_get();
	struct transit_pkt p;
	int act;

	act = transit_outer(ctx, hc, &p);
	if (act != XVPC_NEXT)
		return act;
	act = transit_geneve(&p);
	if (act != XVPC_NEXT)
		return act;
	if (eth_proto(p.ieth) == bpf_htons(ETH_P_ARP))
		return transit_arp(ctx, hc, &p, from_agent);
	if (eth_proto(p.ieth) == bpf_htons(ETH_P_IP))
		return transit_ipv4(ctx, hc, &p, from_agent);
	return drop(XVPC_STAT_DROP_UNSUPPORTED);
}

#endif

/* scaled: scaled endpoints (one IP served by several backends).
 *
 *   switch  dst is a scaled endpoint: pick a backend by flow hash, rewrite the
 *           inner destination to it (DNAT), add Geneve option 0x49 carrying
 *           the scaled endpoint's IP, forward to the backend's host (or
 *           deliver, when the backend lives on the switch host): scaled_switch.
 *   transit on the backend's host: option 0x49 -> remember the flow in
 *           scaled_flows, flag the backend's veth in agent_meta, decapsulate:
 *           scaled_opt_vip, scaled_remember.
 *   agent   a packet from a flagged backend that matches a remembered flow
 *           leaves with the scaled endpoint's IP as its source (SNAT), so the
 *           client only ever talks to the scaled endpoint: scaled_agent_snat.
 * Flows are keyed by 5-tuple; ICMP by addresses alone. Fragments after the
 * first carry no ports, so they may reach another backend: not supported.
 */
#ifndef XVPC_SCALED_H
#define XVPC_SCALED_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/if_ether.h>
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
#include "ipv4.h"
#include "flowhash.h"
#include "verifier.h"
#include "encap.h"
#include "sg.h"

/* Option 0x49: class, type, length 1 word, then the scaled endpoint's IP. */
struct xvpc_scaled_opt {
	struct xvpc_geneve_opt hdr;
	__u32 vip;
};
#define XVPC_SCALED_OPT_LEN sizeof(struct xvpc_scaled_opt)
#define XVPC_GENEVE_BASE_END (XVPC_OUTER_L2L4 + sizeof(struct xvpc_geneve))

/* Replace an inner address (saddr or daddr) and patch both checksums; the
 * L4 one goes through the hook (ctx_l4_csum_addr), since on TC it may be a
 * CHECKSUM_PARTIAL seed. 0: done; 1: done, packet pointers must be taken
 * again; -1: the checksum could not be patched (drop the packet). */
static __always_inline int inner_addr_set(xvpc_ctx *ctx, struct iphdr *ip, __be32 *field,
					  __u32 to, const struct l4_ref *l4)
{
	__u32 from = *field;

	ip->check = xvpc_csum_replace4(ip->check, from, to);
	*field = to;
	if (!l4->check)
		return 0;
	return ctx_l4_csum_addr(ctx, l4->check, from, to, l4->udp);
}

static __always_inline void scaled_flow_key_of(struct scaled_flow_key *k, __u32 vni,
					       __u32 client, __u32 backend, __u8 proto,
					       __u16 client_port, __u16 backend_port)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->vni = vni;
	k->client_ip = client;
	k->backend_ip = backend;
	k->client_port = client_port;
	k->backend_port = backend_port;
	k->proto = proto;
}

/* On the backend's host: remember the flow (from iip's client to backend)
 * and flag the backend's veth. */
static __always_inline void scaled_remember(__u32 vni, struct iphdr *iip, void *data_end,
					    __u32 backend, __u32 vip, __s32 ifindex)
{
	struct l4_ref l4 = l4_of(iip, data_end);
	struct scaled_flow_value v = { .vip = vip };
	struct agent_meta_value *meta;
	struct scaled_flow_key k;
	__u32 idx = ifindex;

	scaled_flow_key_of(&k, vni, iip->saddr, backend, iip->protocol,
			   l4.sport ? *l4.sport : 0, l4.dport ? *l4.dport : 0);
	bpf_map_update_elem(&scaled_flows, &k, &v, BPF_ANY);
	meta = bpf_map_lookup_elem(&agent_meta, &idx);
	if (meta && !(meta->flags & XVPC_AGENT_F_SCALED_BACKEND))
		meta->flags |= XVPC_AGENT_F_SCALED_BACKEND;
}

/* In the agent: a backend's packet of a remembered flow leaves as the scaled
 * endpoint. Only for veths flagged as backends, so others pay nothing.
 * Returns as inner_addr_set(). */
static __always_inline int scaled_agent_snat(xvpc_ctx *ctx, const struct agent_meta_value *meta,
					     struct iphdr *ip, void *data_end)
{
	struct scaled_flow_value *v;
	struct scaled_flow_key k;
	struct l4_ref l4;

	if (!(meta->flags & XVPC_AGENT_F_SCALED_BACKEND))
		return 0;
	l4 = l4_of(ip, data_end);
	scaled_flow_key_of(&k, meta->vni, ip->daddr, ip->saddr, ip->protocol,
			   l4.dport ? *l4.dport : 0, l4.sport ? *l4.sport : 0);
	v = bpf_map_lookup_elem(&scaled_flows, &k);
	if (!v)
		return 0;
	stat_inc(XVPC_STAT_SCALED_SNAT);
	return inner_addr_set(ctx, ip, &ip->saddr, v->vip, &l4);
}

/* Option 0x49 of a received Geneve packet: the scaled endpoint's IP, or 0. */
static __always_inline __u32 scaled_opt_vip(void *opts, int scaled_off, void *data_end)
{
	__u32 *vip;

	if (scaled_off < 0)
		return 0;
	vip = opts + (scaled_off & 0xff);
	if ((void *)(vip + 1) > data_end)
		return 0;
	return *vip;
}

/* Grow the Geneve header by option 0x49 right after its base header (options
 * may come in any order): the 50 bytes before it move 8 bytes to the front. */
static __always_inline int scaled_add_opt(xvpc_ctx *ctx, __u32 vip)
{
	struct xvpc_scaled_opt *opt;
	struct xvpc_geneve *gh;
	struct udphdr *udp;
	struct iphdr *ip;
	void *data, *data_end;
	__u32 tot;

	if (ctx_open_gap(ctx, XVPC_GENEVE_BASE_END, XVPC_SCALED_OPT_LEN))
		return XVPC_STAT_DROP_ADJUST;
	data = ctx_data(ctx);
	data_end = ctx_data_end(ctx);
	if (data + XVPC_GENEVE_BASE_END + XVPC_SCALED_OPT_LEN > data_end)
		return XVPC_STAT_DROP_TRUNCATED;

	ip = data + sizeof(struct ethhdr);
	udp = (void *)(ip + 1);
	gh = (void *)(udp + 1);
	opt = (void *)(gh + 1);
	opt->hdr.opt_class = bpf_htons(XVPC_GENEVE_OPT_CLASS);
	opt->hdr.type = XVPC_OPT_SCALED;
	opt->hdr.len = sizeof(opt->vip) / 4;
	opt->vip = vip;
	gh->ver_optlen += XVPC_SCALED_OPT_LEN / 4;
	/* As encap_push sets them: an aggregate (TC) gets at most 0xffff, and a
	 * bridge that checks IPv4 lengths trims to what is written here. */
	tot = ctx_len(ctx) - sizeof(struct ethhdr);
	if (tot > 0xffff)
		tot = 0xffff;
	ip->tot_len = bpf_htons(tot);
	udp->len = bpf_htons(tot - sizeof(*ip));
	xvpc_ip_csum_set(ip); /* valid again: outer_forward() only patches it */
	return 0;
}

/* The destination is a scaled endpoint: hand the flow to one of its
 * backends, on this host (decapsulate) or another (forward with option 0x49).
 * ip is the outer IPv4 header, iip the inner one. */
static __always_inline int scaled_switch(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					 __u32 vni, struct ethhdr *ieth, struct iphdr *iip, struct iphdr *ip,
					 __u32 outer_len, bool from_agent)
{
	void *data_end = ctx_data_end(ctx);
	struct endpoint_key k = { .vni = vni, .ip = iip->daddr };
	__u32 vip = iip->daddr, bip;
	struct xvpc_members *backends;
	struct endpoint_value *bep;
	struct ethhdr *eth;
	struct l4_ref l4;
	int err;

	/* Consistent: the slot table of its backends, by the flow hash. */
	backends = bpf_map_lookup_elem(&scaled_backends, &k);
	if (!backends)
		return drop(XVPC_STAT_DROP_NO_BACKEND);
	bip = xvpc_members_pick(backends, ipv4_flowhash(iip, data_end));
	if (!bip)
		return drop(XVPC_STAT_DROP_NO_BACKEND);
	bep = endpoint_of(vni, bip);
	if (!bep || bep->type == XVPC_EP_SCALED)
		return drop(XVPC_STAT_DROP_NO_BACKEND);
	if (bep->hosted_ifindex < 0 && ip->ttl <= 1)
		return drop(XVPC_STAT_DROP_TTL);
	l4 = l4_of(iip, data_end);
	mac_copy(ieth->h_dest, bep->mac);
	stat_inc(XVPC_STAT_SCALED_DNAT);
	if (bep->hosted_ifindex >= 0) {
		/* the backend is here: its ingress security groups, as itself */
		err = sg_ingress(ctx, vni, bip, iip, data_end, outer_len + sizeof(struct ethhdr));
		if (err != XVPC_NEXT)
			return err;
		scaled_remember(vni, iip, data_end, bip, vip, bep->hosted_ifindex);
	}
	/* Last touch through these pointers: on TC the checksum helper moves the packet. */
	if (inner_addr_set(ctx, iip, &iip->daddr, bip, &l4) < 0)
		return drop(XVPC_STAT_DROP_ADJUST);
	if (bep->hosted_ifindex >= 0)
		return decap_deliver(ctx, bep, outer_len);
	err = scaled_add_opt(ctx, vip);
	if (err)
		return drop(err);
	eth = ctx_data(ctx);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > ctx_data_end(ctx))
		return drop(XVPC_STAT_DROP_TRUNCATED);
	outer_forward(eth, ip, hc, bep->host_ip, bep->host_mac);
	stat_inc(XVPC_STAT_SWITCH_FWD);
	return outer_tx(ctx, hc, from_agent);
}

_Static_assert(sizeof(struct xvpc_scaled_opt) == 8, "scaled option");

#endif

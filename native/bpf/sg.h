/* sg: where security groups meet the packet path, on the endpoint's own host.
 *
 *   sg_egress   agent, after the spoof check, before any NAT or
 *               encapsulation: the endpoint's packet, local = its own IP
 *   sg_ingress  transit, before delivery into a hosted endpoint (local =
 *               the endpoint, which for a scaled endpoint's backend is the
 *               backend's IP, the packet still addressed to the scaled one)
 *
 * An endpoint without an sg_attach entry pays one hash lookup. With one,
 * the packet becomes a struct sg_flow (ports, TCP flags, or for an ICMP error
 * the flow it quotes) and conntrack.h judges it. A later IPv4 fragment has no
 * ports to judge by: dropped (counted) for a policed endpoint.
 */
#ifndef XVPC_SG_H
#define XVPC_SG_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "wire.h"
#include "hook.h"
#include "maps.h"
#include "conntrack.h"

#define XVPC_ICMP_ECHO_REPLY 0
#define XVPC_ICMP_DEST_UNREACH 3
#define XVPC_ICMP_SOURCE_QUENCH 4
#define XVPC_ICMP_ECHO 8
#define XVPC_ICMP_TIME_EXCEEDED_T 11
#define XVPC_ICMP_PARAM_PROBLEM 12

static __always_inline bool sg_icmp_is_error(__u8 type)
{
	return type == XVPC_ICMP_DEST_UNREACH || type == XVPC_ICMP_SOURCE_QUENCH ||
	       type == XVPC_ICMP_TIME_EXCEEDED_T || type == XVPC_ICMP_PARAM_PROBLEM;
}

static __always_inline bool sg_has_groups(__u32 vni, __u32 ip)
{
	struct endpoint_key ek = { .vni = vni, .ip = ip };
	struct sg_attach_value *a = bpf_map_lookup_elem(&sg_attach, &ek);

	return a && a->count;
}

/* An ICMP error: the key of the flow it quotes (the IPv4 header and 8 bytes
 * that follow the ICMP header at frame offset off), from the endpoint's side,
 * whichever way the quoted packet went. A quote of neither side's flow keeps
 * a key that matches nothing. */
static __always_inline int sg_quoted_flow(xvpc_ctx *ctx, __u32 off, struct sg_flow *f)
{
	struct iphdr q;
	__u8 l4[8];
	__u32 local = f->key.local_ip;
	__u16 sport, dport;

	if (ctx_load(ctx, off, &q, sizeof(q)))
		return XVPC_STAT_DROP_TRUNCATED;
	if (q.ihl < 5)
		return XVPC_STAT_DROP_BAD_IP;
	if (ctx_load(ctx, off + q.ihl * 4, l4, sizeof(l4)))
		return XVPC_STAT_DROP_TRUNCATED;
	f->kind = XVPC_SG_ICMP_ERR;
	f->key.proto = q.protocol;
	if (q.protocol == IPPROTO_ICMP) {
		sport = *(__u16 *)(l4 + 4); /* the echo id */
		dport = 0;
	} else if (q.protocol == IPPROTO_TCP || q.protocol == IPPROTO_UDP) {
		sport = *(__u16 *)l4;
		dport = *(__u16 *)(l4 + 2);
	} else {
		sport = 0;
		dport = 0;
	}
	if (q.saddr == local) { /* it quotes what the endpoint sent */
		f->key.remote_ip = q.daddr;
		f->key.local_port = sport;
		f->key.remote_port = dport;
	} else { /* what the endpoint received (or nothing of its own) */
		f->key.remote_ip = q.saddr;
		f->key.local_port = q.protocol == IPPROTO_ICMP ? sport : dport;
		f->key.remote_port = q.protocol == IPPROTO_ICMP ? 0 : sport;
		if (q.daddr != local)
			f->key.local_ip = 0;
	}
	return 0;
}

/* The packet (its IPv4 header at ip, frame offset ip_off) as a flow of the
 * endpoint local, crossing it in direction dir. 0, or the drop reason. */
static __always_inline int sg_flow_of(xvpc_ctx *ctx, struct iphdr *ip, void *data_end, __u32 ip_off,
				      __u32 vni, __u32 local, __u8 dir, struct sg_flow *f)
{
	__u32 ihl = ip->ihl * 4;
	__u8 *l4 = (void *)ip + ihl;

	__builtin_memset(f, 0, sizeof(*f));
	f->key.vni = vni;
	f->key.local_ip = local;
	f->key.remote_ip = dir == XVPC_SG_EGRESS ? ip->daddr : ip->saddr;
	f->key.proto = ip->protocol;
	f->dir = dir;
	if (ip->frag_off & bpf_htons(XVPC_IP_OFFSET))
		return XVPC_STAT_DROP_SG_FRAGMENT;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		__u16 sport, dport;

		if (l4 + 8 > (__u8 *)data_end)
			return XVPC_STAT_DROP_TRUNCATED;
		sport = *(__u16 *)l4;
		dport = *(__u16 *)(l4 + 2);
		if (ip->protocol == IPPROTO_TCP) {
			if (l4 + 14 > (__u8 *)data_end)
				return XVPC_STAT_DROP_TRUNCATED;
			f->tcp_flags = l4[13];
		}
		f->dport = bpf_ntohs(dport);
		f->key.local_port = dir == XVPC_SG_EGRESS ? sport : dport;
		f->key.remote_port = dir == XVPC_SG_EGRESS ? dport : sport;
	} else if (ip->protocol == IPPROTO_ICMP) {
		if (l4 + 8 > (__u8 *)data_end)
			return XVPC_STAT_DROP_TRUNCATED;
		if (sg_icmp_is_error(l4[0]))
			return sg_quoted_flow(ctx, ip_off + ihl + 8, f);
		/* echo and the rest: keyed by the identifier word */
		f->key.local_port = *(__u16 *)(l4 + 4);
	}
	return 0;
}

/* Agent: the endpoint's own packet, before NAT and encapsulation. */
static __always_inline int sg_egress(xvpc_ctx *ctx, const struct agent_meta_value *meta,
				     struct iphdr *ip, void *data_end)
{
	struct sg_flow f;
	int err;

	if (!sg_has_groups(meta->vni, meta->ip))
		return XVPC_NEXT;
	err = sg_flow_of(ctx, ip, data_end, sizeof(struct ethhdr), meta->vni, meta->ip,
			 XVPC_SG_EGRESS, &f);
	if (!err)
		err = sg_judge(&f);
	return err ? drop(err) : XVPC_NEXT;
}

/* Transit: a packet for endpoint (vni, local) hosted here, before delivery;
 * iip is the inner IPv4 header at frame offset ip_off. */
static __always_inline int sg_ingress(xvpc_ctx *ctx, __u32 vni, __u32 local, struct iphdr *iip,
				      void *data_end, __u32 ip_off)
{
	struct sg_flow f;
	int err;

	if (!sg_has_groups(vni, local))
		return XVPC_NEXT;
	err = sg_flow_of(ctx, iip, data_end, ip_off, vni, local, XVPC_SG_INGRESS, &f);
	if (!err)
		err = sg_judge(&f);
	return err ? drop(err) : XVPC_NEXT;
}

#endif

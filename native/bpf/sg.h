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
 * the flow it quotes) and conntrack.h judges it. The rules always see the
 * packet itself: the endpoint and its real peer (the source on ingress, the
 * destination on egress), never an address of an ICMP error's quote; a quote
 * of no flow of the endpoint's matches no conntrack entry.
 *
 * IPv4 fragments: a first fragment (MF, offset 0) carries the L4 header and
 * is judged like any packet; when it passes, its datagram (vni, addresses, IP
 * id, protocol) goes into sg_frags with its ports as it carries them (TCP,
 * UDP, ICMP echo; not an ICMP error). A later fragment has no L4 header: it
 * is judged as its datagram's flow with those ports (TCP flags 0), so a
 * tracked flow passes; with no record (first fragment never seen here, or
 * denied) it is dropped as drop_sg_fragment.
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
 * whichever way the quoted packet went. The endpoint's side is its own
 * address or addr, the address the outer packet names it by (a scaled
 * endpoint's, when local is one of its backends). A quote of neither side's
 * flow is ICMP_STRAY: no key, never looked up in conntrack; the rules judge
 * it (with the rest, from self_ip and peer_ip, which this leaves alone). */
static __always_inline int sg_quoted_flow(xvpc_ctx *ctx, __u32 off, __u32 addr, struct sg_flow *f)
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
	if (q.saddr == local || q.saddr == addr) { /* it quotes what the endpoint sent */
		f->key.remote_ip = q.daddr;
		f->key.local_port = sport;
		f->key.remote_port = dport;
	} else if (q.daddr == local || q.daddr == addr) { /* what the endpoint received */
		f->key.remote_ip = q.saddr;
		f->key.local_port = q.protocol == IPPROTO_ICMP ? sport : dport;
		f->key.remote_port = q.protocol == IPPROTO_ICMP ? 0 : sport;
	} else { /* nothing of its own */
		f->kind = XVPC_SG_ICMP_STRAY;
		f->key.proto = IPPROTO_ICMP;
	}
	return 0;
}

/* sg_flow.first_frag of a first fragment: what sg_frag_note does once it is judged. */
#define SG_FRAG_RECORD 1 /* TCP, UDP, ICMP echo: recorded if it passes */
#define SG_FRAG_FORGET 2 /* other ICMP (errors): its datagram forgotten */

/* The key of the datagram an IPv4 fragment belongs to (sg_frags). */
static __always_inline void sg_frag_key_of(const struct iphdr *ip, __u32 vni, struct sg_frag_key *k)
{
	k->vni = vni;
	k->saddr = ip->saddr;
	k->daddr = ip->daddr;
	k->id = ip->id;
	k->proto = ip->protocol;
	k->_pad = 0;
}

/* A later fragment (offset != 0, no L4 header): the flow of its datagram,
 * from the ports its first fragment carried (sg_frag_note), TCP flags 0;
 * conntrack, which that fragment went through, decides. A datagram whose
 * first fragment did not pass here (or was never seen, or is an ICMP error)
 * has no record: dropped. So is a TCP fragment at offset 1, which could only
 * overwrite the first's ports or flags when reassembled (RFC 1858). */
static __always_inline int sg_frag_later(const struct iphdr *ip, struct sg_flow *f)
{
	struct sg_frag_value *v;
	struct sg_frag_key k;
	__u16 sport, dport;

	if (ip->protocol == IPPROTO_TCP && (ip->frag_off & bpf_htons(XVPC_IP_OFFSET)) == bpf_htons(1))
		return XVPC_STAT_DROP_SG_FRAGMENT;
	sg_frag_key_of(ip, f->key.vni, &k);
	v = bpf_map_lookup_elem(&sg_frags, &k);
	if (!v)
		return XVPC_STAT_DROP_SG_FRAGMENT;
	sport = v->sport;
	dport = v->dport;
	if (ip->protocol == IPPROTO_ICMP) {
		f->key.local_port = sport; /* the echo id */
		return 0;
	}
	f->dport = bpf_ntohs(dport);
	f->key.local_port = f->dir == XVPC_SG_EGRESS ? sport : dport;
	f->key.remote_port = f->dir == XVPC_SG_EGRESS ? dport : sport;
	return 0;
}

/* A first fragment (MF, offset 0) was judged (err: 0 if it passed). Of TCP,
 * UDP or ICMP echo (SG_FRAG_RECORD) that passed: its datagram's later
 * fragments will be judged with its ports, stored as the packet carries them
 * (not from the endpoint's side), so the sender's egress and the receiver's
 * ingress on one host read them alike. Else (denied, an ICMP error, other
 * ICMP) its datagram is forgotten: a record left by an earlier datagram of
 * the same addresses, IP id and protocol passes nothing of this one. */
static __always_inline void sg_frag_note(const struct iphdr *ip, const struct sg_flow *f, int err)
{
	struct sg_frag_value v = {}, *cur;
	struct sg_frag_key k;

	sg_frag_key_of(ip, f->key.vni, &k);
	if (err || f->first_frag != SG_FRAG_RECORD) {
		bpf_map_delete_elem(&sg_frags, &k);
		return;
	}
	if (f->key.proto == IPPROTO_ICMP) {
		v.sport = f->key.local_port; /* the echo id */
	} else {
		v.sport = f->dir == XVPC_SG_EGRESS ? f->key.local_port : f->key.remote_port;
		v.dport = f->dir == XVPC_SG_EGRESS ? f->key.remote_port : f->key.local_port;
	}
	cur = bpf_map_lookup_elem(&sg_frags, &k);
	if (cur && cur->sport == v.sport && cur->dport == v.dport)
		return; /* judged twice on this host: recorded by the first judgment */
	bpf_map_update_elem(&sg_frags, &k, &v, BPF_ANY);
}

/* The packet (its IPv4 header at ip, frame offset ip_off) as a flow of the
 * endpoint local, crossing it in direction dir. 0, or the drop reason. */
static __always_inline int sg_flow_of(xvpc_ctx *ctx, struct iphdr *ip, void *data_end, __u32 ip_off,
				      __u32 vni, __u32 local, __u8 dir, struct sg_flow *f)
{
	__u32 ihl = ip->ihl * 4;
	__u8 *l4 = (void *)ip + ihl;
	__u32 peer = dir == XVPC_SG_EGRESS ? ip->daddr : ip->saddr;
	__u16 frag = ip->frag_off & bpf_htons(XVPC_IP_MF | XVPC_IP_OFFSET);

	__builtin_memset(f, 0, sizeof(*f));
	f->key.vni = vni;
	f->key.local_ip = local;
	f->key.remote_ip = peer;
	f->key.proto = ip->protocol;
	f->self_ip = local;
	f->peer_ip = peer;
	f->dir = dir;
	if (frag & bpf_htons(XVPC_IP_OFFSET))
		return sg_frag_later(ip, f);
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
		f->first_frag = frag ? SG_FRAG_RECORD : 0;
	} else if (ip->protocol == IPPROTO_ICMP) {
		if (l4 + 8 > (__u8 *)data_end)
			return XVPC_STAT_DROP_TRUNCATED;
		if (sg_icmp_is_error(l4[0])) { /* its later fragments: no record, dropped */
			f->first_frag = frag ? SG_FRAG_FORGET : 0;
			return sg_quoted_flow(ctx, ip_off + ihl + 8,
					      dir == XVPC_SG_EGRESS ? ip->saddr : ip->daddr, f);
		}
		/* echo and the rest: keyed by the identifier word */
		f->key.local_port = *(__u16 *)(l4 + 4);
		if (frag)
			f->first_frag = l4[0] == XVPC_ICMP_ECHO || l4[0] == XVPC_ICMP_ECHO_REPLY ?
						SG_FRAG_RECORD : SG_FRAG_FORGET;
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
	if (f.first_frag)
		sg_frag_note(ip, &f, err);
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
	if (f.first_frag)
		sg_frag_note(iip, &f, err);
	return err ? drop(err) : XVPC_NEXT;
}

#endif

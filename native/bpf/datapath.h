/* datapath: the packet logic of one host, written once for both hooks.
 *
 *   transit_process  eth0's program: Geneve to this host -> decap / switch /
 *                    router / ARP; everything else passes untouched.
 *   agent_process    every endpoint's host-side veth (one program, keyed by
 *                    ingress ifindex): ARP answers, spoof check, Geneve encap,
 *                    out eth0 (or straight into transit when this host is
 *                    the switch).
 *
 * Include after hook_xdp.h or hook_tc.h: packets are touched through their
 * ctx_* operations, and verdicts are XDP's on both hooks. Layouts live in
 * xvpc.h, wire formats in wire.h, the flow hash in flowhash.h. Packet path
 * decisions are summarised in README.md beside this file.
 */
#ifndef XVPC_DATAPATH_H
#define XVPC_DATAPATH_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "wire.h"
#include "csum.h"
#include "flowhash.h"

#define XVPC_IP_MF 0x2000
#define XVPC_IP_OFFSET 0x1fff
#define XVPC_ARP_TTL 64 /* outer TTL of encapsulated ARP and of ARP replies */
#define XVPC_LPM_HOST (32 + 32) /* vni + full IPv4 */
/* The longest run of headers transit reads: outer Ethernet/IPv4/UDP, Geneve
 * with the most options, inner Ethernet, inner IPv4 with options, TCP up to
 * its checksum (14 + 20 + 8 + 8 + 252 + 14 + 60 + 18). */
#define XVPC_HEADERS_MAX 394
/* What transit reads behind the inner IPv4 header: ports, TCP up to its checksum. */
#define XVPC_INNER_L4_READ 20

/* The verdict counters of each program are laid out RX, PASS, TX, REDIRECT, DROP. */
_Static_assert(XVPC_STAT_TRANSIT_DROP - XVPC_STAT_TRANSIT_RX == 4, "transit verdicts");
_Static_assert(XVPC_STAT_AGENT_PASS - XVPC_STAT_AGENT_RX == 1 &&
		       XVPC_STAT_AGENT_TX - XVPC_STAT_AGENT_RX == 2 &&
		       XVPC_STAT_AGENT_REDIRECT - XVPC_STAT_AGENT_RX == 3 &&
		       XVPC_STAT_AGENT_DROP - XVPC_STAT_AGENT_RX == 4,
	       "agent verdicts");

/* ---- small helpers ---- */

/* Count the verdict: rx is the program's RX counter (see the layout above). */
static __always_inline void count_verdict(int act, __u32 rx)
{
	__u32 idx = rx + 4;

	if (act == XDP_PASS)
		idx = rx + 1;
	else if (act == XDP_TX)
		idx = rx + 2;
	else if (act == XDP_REDIRECT)
		idx = rx + 3;
	stat_inc(idx);
}

static __always_inline struct host_cfg_value *host_cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&host_cfg, &zero);
}

static __always_inline struct network_value *network_of(__u32 vni, __u32 ip)
{
	struct network_key k = { .prefixlen = XVPC_LPM_HOST, .vni = vni, .ip = ip };

	return bpf_map_lookup_elem(&networks, &k);
}

static __always_inline struct endpoint_value *endpoint_of(__u32 vni, __u32 ip)
{
	struct endpoint_key k = { .vni = vni, .ip = ip };

	return bpf_map_lookup_elem(&endpoints, &k);
}

/* Word access to bytes that are also touched as bytes (MACs inside packed
 * headers): may_alias keeps the optimiser honest. The verifier allows the
 * unaligned accesses on CPUs that do (x86-64, arm64). */
typedef __u32 __attribute__((may_alias)) xvpc_u32_a;
typedef __u16 __attribute__((may_alias)) xvpc_u16_a;

/* MACs move as one 4-byte and one 2-byte access (ethhdr is packed, so
 * memcpy would go byte by byte). */
static __always_inline void mac_copy(void *dst, const void *src)
{
	__u32 a = *(const xvpc_u32_a *)src;
	__u16 b = *(const xvpc_u16_a *)(src + 4);

	*(xvpc_u32_a *)dst = a;
	*(xvpc_u16_a *)(dst + 4) = b;
}

static __always_inline __be16 eth_proto(const struct ethhdr *eth)
{
	return *(const xvpc_u16_a *)((const void *)eth + offsetof(struct ethhdr, h_proto));
}

static __always_inline void eth_set_proto(struct ethhdr *eth, __be16 proto)
{
	*(xvpc_u16_a *)((void *)eth + offsetof(struct ethhdr, h_proto)) = proto;
}

static __always_inline __u32 arp_ip(const __u8 *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, 4);
	return v;
}

/* Ethernet/IPv4 ARP with the given op (the only ARP handled), or the drop reason. */
static __always_inline int arp_check(const struct xvpc_arp *arp, __u16 op)
{
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != ETH_ALEN || arp->plen != 4 || arp->op != bpf_htons(op))
		return XVPC_STAT_DROP_UNSUPPORTED;
	return 0;
}

/* Turn a request for arp->tpa into the reply "tpa is at mac", in place. */
static __always_inline void arp_make_reply(struct ethhdr *eth, struct xvpc_arp *arp,
					   const __u8 *mac)
{
	__u8 spa[4];

	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, mac);
	arp->op = bpf_htons(XVPC_ARP_REPLY);
	__builtin_memcpy(spa, arp->spa, 4);
	mac_copy(arp->tha, arp->sha);
	__builtin_memcpy(arp->spa, arp->tpa, 4);
	__builtin_memcpy(arp->tpa, spa, 4);
	mac_copy(arp->sha, mac);
}

/* Flow hash of an inner IPv4 packet (definition in flowhash.h). */
static __always_inline __u32 ipv4_flowhash(const struct iphdr *ip, void *data_end)
{
	__u32 sport = 0, dport = 0;

	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) &&
	    !(ip->frag_off & bpf_htons(XVPC_IP_MF | XVPC_IP_OFFSET))) {
		const __be16 *ports = (const void *)ip + ip->ihl * 4;

		if ((const void *)(ports + 2) <= data_end) {
			sport = bpf_ntohs(ports[0]);
			dport = bpf_ntohs(ports[1]);
		}
	}
	return xvpc_flowhash(bpf_ntohl(ip->saddr), bpf_ntohl(ip->daddr), ip->protocol, sport,
			     dport);
}

/* ---- transit ---- */

/* Walk the Geneve options: 0 when acceptable, else the drop reason. *rts_off
 * gets the offset of the RTS option's data from the start of the options, or
 * -1. The caller has checked that opt_bytes of options lie inside the packet. */
static __always_inline int geneve_walk(void *opts, __u32 opt_bytes, void *data_end, int *rts_off,
				       int *scaled_off)
{
	__u32 off = 0;

	*rts_off = -1;
	*scaled_off = -1;
	for (int i = 0; i < XVPC_MAX_GENEVE_OPTS; i++) {
		struct xvpc_geneve_opt *o;
		__u32 len;
		bool ours;

		if (off >= opt_bytes)
			return 0;
		xvpc_opaque(off);
		if (off > 0xfc) /* opt_bytes <= 252: a bound the verifier can see */
			return XVPC_STAT_DROP_GENEVE_OPT;
		o = opts + off;
		if ((void *)(o + 1) > data_end)
			return XVPC_STAT_DROP_TRUNCATED;
		len = sizeof(*o) + XVPC_GENEVE_OPT_LEN(o);
		if (len > opt_bytes - off)
			return XVPC_STAT_DROP_GENEVE_OPT;
		ours = o->opt_class == bpf_htons(XVPC_GENEVE_OPT_CLASS);
		if (ours && o->type == XVPC_OPT_RTS) {
			if (len != sizeof(*o) + sizeof(struct xvpc_rts))
				return XVPC_STAT_DROP_GENEVE_OPT;
			*rts_off = off + sizeof(*o);
		} else if (ours && o->type == XVPC_OPT_SCALED) {
			if (len != sizeof(*o) + sizeof(__u32))
				return XVPC_STAT_DROP_GENEVE_OPT;
			*scaled_off = off + sizeof(*o);
		} else if (o->type & XVPC_GENEVE_OPT_CRITICAL) {
			return XVPC_STAT_DROP_GENEVE_OPT;
		}
		off += len;
	}
	return off >= opt_bytes ? 0 : XVPC_STAT_DROP_GENEVE_OPT;
}

/* XDP_TX in transit means "back out of the interface it came in on". When the
 * agent runs transit inline, that interface is the endpoint's veth, so a
 * forward must go out through eth0 instead. */
static __always_inline int transit_tx(xvpc_ctx *ctx, const struct host_cfg_value *hc, bool from_agent)
{
	if (from_agent)
		return ctx_redirect(ctx, hc->ifindex);
	return ctx_tx(ctx);
}

/* Point the outer headers at the next overlay hop. The outer TTL is the loop
 * guard of the overlay: every hop decrements it; the caller checked it is > 1. */
static __always_inline void outer_forward(struct ethhdr *eth, struct iphdr *ip,
					  const struct host_cfg_value *hc, __u32 daddr,
					  const __u8 *dmac)
{
	mac_copy(eth->h_dest, dmac);
	mac_copy(eth->h_source, hc->mac);
	ip->saddr = hc->ip;
	ip->daddr = daddr;
	ip->ttl--;
	xvpc_ip_csum_set(ip);
}

/* The endpoint lives here: strip the outer headers and hand the inner frame to
 * its veth. */
static __always_inline int transit_decap(xvpc_ctx *ctx, const struct endpoint_value *ep,
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

#include "scaled.h"

/* The destination is a scaled endpoint: hand the flow to one of its backends. */
static __always_inline int transit_scaled(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					  const struct endpoint_value *ep, __u32 vni,
					  struct ethhdr *ieth, struct iphdr *iip, struct iphdr *ip,
					  __u32 outer_len, bool from_agent)
{
	void *data_end = ctx_data_end(ctx);
	__u32 n = ep->backend_count, vip = iip->daddr, bip, idx;
	struct endpoint_value *bep;
	struct ethhdr *eth;
	struct l4_ref l4;
	int err;

	if (n == 0 || n > XVPC_MAX_BACKENDS)
		return drop(XVPC_STAT_DROP_NO_BACKEND);
	idx = ipv4_flowhash(iip, data_end) % n;
	xvpc_opaque(idx); /* keep the mask below: clang knows idx < 16, the verifier does not */
	bip = ep->backends[idx & (XVPC_MAX_BACKENDS - 1)];
	bep = endpoint_of(vni, bip);
	if (!bep || bep->type == XVPC_EP_SCALED)
		return drop(XVPC_STAT_DROP_NO_BACKEND);
	if (bep->hosted_ifindex < 0 && ip->ttl <= 1)
		return drop(XVPC_STAT_DROP_TTL);
	l4 = l4_of(iip, data_end);
	mac_copy(ieth->h_dest, bep->mac);
	stat_inc(XVPC_STAT_SCALED_DNAT);
	if (bep->hosted_ifindex >= 0)
		scaled_remember(vni, iip, data_end, bip, vip, bep->hosted_ifindex);
	/* Last touch through these pointers: on TC the checksum helper moves the packet. */
	if (inner_addr_set(ctx, iip, &iip->daddr, bip, &l4) < 0)
		return drop(XVPC_STAT_DROP_ADJUST);
	if (bep->hosted_ifindex >= 0)
		return transit_decap(ctx, bep, outer_len);
	err = scaled_add_opt(ctx, vip);
	if (err)
		return drop(err);
	eth = ctx_data(ctx);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > ctx_data_end(ctx))
		return drop(XVPC_STAT_DROP_TRUNCATED);
	outer_forward(eth, ip, hc, bep->host_ip, bep->host_mac);
	stat_inc(XVPC_STAT_SWITCH_FWD);
	return transit_tx(ctx, hc, from_agent);
}

/* How many leading bytes an IPv4 frame's readers need: Ethernet, IPv4 with
 * its options (20 at least: an ARP body fits too) and its L4 ports and
 * checksum; the most an IPv4 header can have while its first byte is not yet
 * direct-access. Both programs' first look at a packet. */
static __always_inline __u32 ipv4_headers_len(void *data, void *data_end)
{
	__u8 *ip = data + sizeof(struct ethhdr);
	__u32 ihl = 60;

	if ((void *)(ip + 1) <= data_end)
		ihl = (*ip & 0xf) * 4;
	if (ihl < sizeof(struct iphdr))
		ihl = sizeof(struct iphdr);
	return sizeof(struct ethhdr) + ihl + XVPC_INNER_L4_READ;
}

/* How many leading bytes transit reads of a Geneve packet: the outer headers
 * with this packet's options, then the inner frame's as ipv4_headers_len()
 * counts them; XVPC_HEADERS_MAX while the Geneve header is not yet
 * direct-access. So a TC aggregate, whose first bytes hold exactly these
 * headers, is not pulled (copied) for the worst case. */
static __always_inline __u32 geneve_headers_len(void *data, void *data_end)
{
	struct xvpc_geneve *gh = data + XVPC_OUTER_L2L4;
	__u32 outer;

	if ((void *)(gh + 1) > data_end)
		return XVPC_HEADERS_MAX;
	outer = XVPC_OUTER_L2L4 + sizeof(*gh) + XVPC_GENEVE_OPT_BYTES(gh);
	return outer + ipv4_headers_len(data + outer, data_end);
}

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

static __always_inline int transit_process(xvpc_ctx *ctx, bool from_agent)
{
	void *data = ctx_data(ctx);
	void *data_end = ctx_data_end(ctx);
	struct host_cfg_value *hc = host_cfg_get();
	struct ethhdr *eth = data;
	struct endpoint_value *ep;
	struct network_value *net;
	struct xvpc_geneve *gh;
	struct ethhdr *ieth;
	struct udphdr *udp;
	struct iphdr *ip;
	__u32 tot, opt_bytes, outer_len, vni;
	void *opts;
	int rts_off, scaled_off, err;

	/* 1. Only Geneve to this host's address is ours; the rest passes. */
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
	 * bits says 0xffff (agent_encap); it is never a wire packet. */
	tot = ctx_len(ctx) - sizeof(*eth);
	if (tot > 0xffff)
		tot = 0xffff;
	if (ip->version != 4 || tot != bpf_ntohs(ip->tot_len) || bpf_ntohs(udp->len) != tot - sizeof(*ip) ||
	    !xvpc_ip_csum_ok(ip))
		return drop(XVPC_STAT_DROP_BAD_IP);

	/* 2. Geneve header and options. */
	gh = (void *)(udp + 1);
	if ((void *)(gh + 1) > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	if (XVPC_GENEVE_VER(gh) != 0)
		return drop(XVPC_STAT_DROP_GENEVE_VERSION);
	if (gh->proto != bpf_htons(XVPC_ETH_P_TEB))
		return drop(XVPC_STAT_DROP_GENEVE_PROTO);
	if (gh->flags & XVPC_GENEVE_F_OAM)
		return drop(XVPC_STAT_DROP_UNSUPPORTED); /* control packet: not for forwarding */
	opt_bytes = XVPC_GENEVE_OPT_BYTES(gh);
	opts = (void *)(gh + 1);
	if (opts + opt_bytes > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);
	err = geneve_walk(opts, opt_bytes, data_end, &rts_off, &scaled_off);
	if (err)
		return drop(err);
	vni = ((__u32)gh->vni[0] << 16) | ((__u32)gh->vni[1] << 8) | gh->vni[2];
	outer_len = XVPC_OUTER_L2L4 + sizeof(*gh) + opt_bytes;

	/* 3. Inner frame. */
	ieth = opts + opt_bytes;
	if ((void *)(ieth + 1) > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);

	if (eth_proto(ieth) == bpf_htons(ETH_P_ARP)) {
		struct xvpc_arp *arp = (void *)(ieth + 1);
		__u8 mac[ETH_ALEN];
		__u32 tpa;

		if ((void *)(arp + 1) > data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);
		tpa = arp_ip(arp->tpa);
		if (arp_check(arp, XVPC_ARP_REPLY) == 0) {
			/* A switch's answer coming back to the requester's host. */
			ep = endpoint_of(vni, tpa);
			if (!ep || ep->hosted_ifindex < 0)
				return drop(XVPC_STAT_DROP_NO_ENDPOINT);
			return transit_decap(ctx, ep, outer_len);
		}
		err = arp_check(arp, XVPC_ARP_REQUEST);
		if (err)
			return drop(err);

		/* 5. Answer from endpoints, or for the network's gateway. */
		ep = endpoint_of(vni, tpa);
		if (ep) {
			mac_copy(mac, ep->mac);
		} else {
			net = network_of(vni, tpa);
			if (!net || net->gw_ip != tpa)
				return drop(XVPC_STAT_DROP_NO_ENDPOINT);
			mac_copy(mac, net->gw_mac);
		}

		if (from_agent) {
			/* The requester is behind the veth this came in on. */
			if (ctx_pop(ctx, outer_len))
				return drop(XVPC_STAT_DROP_ADJUST);
			ieth = ctx_data(ctx);
			arp = (void *)(ieth + 1);
			if ((void *)(arp + 1) > ctx_data_end(ctx))
				return drop(XVPC_STAT_DROP_TRUNCATED);
			arp_make_reply(ieth, arp, mac);
			stat_inc(XVPC_STAT_ARP_REPLY);
			return ctx_tx(ctx);
		}

		arp_make_reply(ieth, arp, mac);
		/* Send it back the way it came: reverse the outer headers. */
		mac_copy(eth->h_dest, eth->h_source);
		mac_copy(eth->h_source, hc->mac);
		ip->daddr = ip->saddr;
		ip->saddr = hc->ip;
		ip->ttl = XVPC_ARP_TTL;
		xvpc_ip_csum_set(ip);
		if (rts_off >= 0) {
			/* This host is now the sender. */
			struct xvpc_rts *rts = opts + (rts_off & 0xff);

			if ((void *)(rts + 1) > data_end)
				return drop(XVPC_STAT_DROP_TRUNCATED);
			rts->host_ip = hc->ip;
			mac_copy(rts->host_mac, hc->mac);
		}
		stat_inc(XVPC_STAT_ARP_REPLY);
		return ctx_tx(ctx);
	}

	if (eth_proto(ieth) == bpf_htons(ETH_P_IP)) {
		struct iphdr *iip = (void *)(ieth + 1);
		struct vpc_value *vpc;
		struct substrate_value *sub;
		struct vpc_key vk;
		__u32 hop, h;

		if ((void *)(iip + 1) > data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);
		if (iip->version != 4 || iip->ihl < 5)
			return drop(XVPC_STAT_DROP_BAD_IP);
		if ((void *)iip + iip->ihl * 4 > data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);

		/* 4a/4b. Switch: the destination endpoint is known. */
		ep = endpoint_of(vni, iip->daddr);
		if (ep) {
			if (ep->type == XVPC_EP_SCALED)
				return transit_scaled(ctx, hc, ep, vni, ieth, iip, ip, outer_len,
						      from_agent);
			if (ep->hosted_ifindex >= 0) {
				__u32 vip = scaled_opt_vip(opts, scaled_off, data_end);

				if (vip) /* a scaled endpoint's flow: its answers go out as vip */
					scaled_remember(vni, iip, data_end, iip->daddr, vip,
							ep->hosted_ifindex);
				return transit_decap(ctx, ep, outer_len);
			}
			if (ep->host_ip == hc->ip) /* claims to live here, but no veth */
				return drop(XVPC_STAT_DROP_NO_ENDPOINT);
			if (ip->ttl <= 1)
				return drop(XVPC_STAT_DROP_TTL);
			outer_forward(eth, ip, hc, ep->host_ip, ep->host_mac);
			stat_inc(XVPC_STAT_SWITCH_FWD);
			return transit_tx(ctx, hc, from_agent);
		}

		/* 4c. Router: the destination's network, else the VPC. */
		h = ipv4_flowhash(iip, data_end);
		net = network_of(vni, iip->daddr);
		if (net) {
			hop = xvpc_members_pick(&net->switches, h);
			if (!hop)
				return drop(XVPC_STAT_DROP_NO_SWITCH);
			if (hop == hc->ip) /* we are its switch and do not know it */
				return drop(XVPC_STAT_DROP_NO_ENDPOINT);
			if (iip->ttl <= 1 || ip->ttl <= 1)
				return drop(XVPC_STAT_DROP_TTL);
			sub = bpf_map_lookup_elem(&substrate, &hop);
			if (!sub)
				return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
			xvpc_ip_dec_ttl(iip);
			mac_copy(ieth->h_source, net->gw_mac); /* routed: from the gateway */
			outer_forward(eth, ip, hc, hop, sub->mac);
			stat_inc(XVPC_STAT_ROUTER_NET_FWD);
			return transit_tx(ctx, hc, from_agent);
		}

		vk.vni = vni;
		vpc = bpf_map_lookup_elem(&vpcs, &vk);
		if (!vpc)
			return drop(XVPC_STAT_DROP_NO_ROUTE);
		hop = xvpc_members_pick(&vpc->routers, h);
		if (!hop || hop == hc->ip)
			return drop(XVPC_STAT_DROP_NO_ROUTE);
		if (ip->ttl <= 1)
			return drop(XVPC_STAT_DROP_TTL);
		sub = bpf_map_lookup_elem(&substrate, &hop);
		if (!sub)
			return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
		/* Inner TTL untouched: the router that finds the network routes. */
		outer_forward(eth, ip, hc, hop, sub->mac);
		stat_inc(XVPC_STAT_ROUTER_VPC_FWD);
		return transit_tx(ctx, hc, from_agent);
	}

	return drop(XVPC_STAT_DROP_UNSUPPORTED);
}

/* ---- agent ---- */

/* Prepend Ethernet/IPv4/UDP/Geneve+RTS addressed to (daddr, dmac).
 * 0 on success, else the (counted) drop verdict. */
static __always_inline int agent_encap(xvpc_ctx *ctx, const struct host_cfg_value *hc,
				       const struct agent_meta_value *meta, __u32 daddr,
				       const __u8 *dmac, __u32 h, __u8 ttl)
{
	/* Outer lengths; an aggregate (GSO) may exceed 16 bits: it gets the
	 * largest, and each packet cut from it its own. */
	__u32 ip_len = ctx_len(ctx) + XVPC_ENCAP_LEN - sizeof(struct ethhdr);
	struct xvpc_geneve_opt *opt;
	struct xvpc_geneve *gh;
	struct xvpc_rts *rts;
	struct udphdr *udp;
	struct ethhdr *eth;
	struct iphdr *ip;
	void *data_end;
	__u32 vni = meta->vni;

	if (ip_len > 0xffff)
		ip_len = 0xffff;
	if (ctx_push(ctx, XVPC_ENCAP_LEN))
		return drop(XVPC_STAT_DROP_ADJUST);
	eth = ctx_data(ctx);
	data_end = ctx_data_end(ctx);
	ip = (void *)(eth + 1);
	udp = (void *)(ip + 1);
	gh = (void *)(udp + 1);
	opt = (void *)(gh + 1);
	rts = (void *)(opt + 1);
	if ((void *)(rts + 1) > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);

	mac_copy(eth->h_dest, dmac);
	mac_copy(eth->h_source, hc->mac);
	eth_set_proto(eth, bpf_htons(ETH_P_IP));

	*(__u8 *)ip = 0x45; /* version 4, IHL 5 */
	ip->tos = 0;
	ip->tot_len = bpf_htons(ip_len);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = ttl;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = hc->ip;
	ip->daddr = daddr;
	xvpc_ip_csum_set(ip);

	udp->source = bpf_htons(XVPC_SPORT_BASE + (h & XVPC_SPORT_MASK));
	udp->dest = bpf_htons(XVPC_GENEVE_PORT);
	udp->len = bpf_htons(ip_len - sizeof(*ip));
	udp->check = 0;

	gh->ver_optlen = XVPC_ENCAP_OPT_BYTES / 4; /* version 0 */
	gh->flags = 0;
	gh->proto = bpf_htons(XVPC_ETH_P_TEB);
	gh->vni[0] = vni >> 16;
	gh->vni[1] = vni >> 8;
	gh->vni[2] = vni;
	gh->rsvd = 0;

	opt->opt_class = bpf_htons(XVPC_GENEVE_OPT_CLASS);
	opt->type = XVPC_OPT_RTS;
	opt->len = XVPC_RTS_WORDS;
	rts->host_ip = hc->ip;
	mac_copy(rts->host_mac, hc->mac);
	rts->zero[0] = 0;
	rts->zero[1] = 0;

	stat_inc(XVPC_STAT_ENCAP);
	return 0;
}

static __always_inline int agent_process(xvpc_ctx *ctx)
{
	void *data = ctx_data(ctx);
	void *data_end = ctx_data_end(ctx);
	__u32 ifindex = ctx_ingress_ifindex(ctx);
	struct agent_meta_value *meta;
	struct host_cfg_value *hc;
	struct network_value *net = NULL;
	struct ethhdr *eth = data;
	__u8 dmac[ETH_ALEN];
	__u32 hop, h;
	__u8 ttl;
	int err;

	meta = bpf_map_lookup_elem(&agent_meta, &ifindex);
	if (!meta)
		return XDP_PASS;
	hc = host_cfg_get();
	if (!hc || !hc->ip)
		return drop(XVPC_STAT_DROP_NO_HOST_CFG);
	if ((void *)(eth + 1) > data_end)
		return drop(XVPC_STAT_DROP_TRUNCATED);

	if (eth_proto(eth) == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct host_cache_value *hcv;
		struct endpoint_key ck;

		if ((void *)(ip + 1) > data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);
		if (ip->version != 4 || ip->ihl < 5)
			return drop(XVPC_STAT_DROP_BAD_IP);
		if ((void *)ip + ip->ihl * 4 > data_end)
			return drop(XVPC_STAT_DROP_TRUNCATED);
		if (ip->saddr != meta->ip)
			return drop(XVPC_STAT_DROP_SPOOFED);
		err = scaled_agent_snat(ctx, meta, ip, data_end);
		if (err < 0)
			return drop(XVPC_STAT_DROP_ADJUST);
		if (err) {
			/* TC's checksum helper moved the packet: take the pointers again */
			data = ctx_data(ctx);
			data_end = ctx_data_end(ctx);
			eth = data;
			ip = (void *)(eth + 1);
			if ((void *)(ip + 1) > data_end)
				return drop(XVPC_STAT_DROP_TRUNCATED);
		}
		h = ipv4_flowhash(ip, data_end);
		ttl = ip->ttl;

		/* Direct path: a cached destination host skips the switch. Off
		 * unless the control plane enables it (saves a lookup per packet). */
		if (hc->flags & XVPC_HOST_F_DIRECT_PATH) {
			ck.vni = meta->vni;
			ck.ip = ip->daddr;
			hcv = bpf_map_lookup_elem(&ep_host_cache, &ck);
			if (hcv && hcv->host_ip && hcv->host_ip != hc->ip) {
				hop = hcv->host_ip;
				mac_copy(dmac, hcv->host_mac);
				goto encap;
			}
		}
	} else if (eth_proto(eth) == bpf_htons(ETH_P_ARP)) {
		struct xvpc_arp *arp = (void *)(eth + 1);
		struct network_value *gw;
		struct endpoint_value *ep;
		__u32 spa, tpa;

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

		net = network_of(meta->vni, meta->ip);
		if (net && tpa == net->gw_ip) {
			arp_make_reply(eth, arp, net->gw_mac);
			stat_inc(XVPC_STAT_ARP_REPLY);
			return ctx_tx(ctx);
		}
		ep = endpoint_of(meta->vni, tpa);
		if (ep) {
			arp_make_reply(eth, arp, ep->mac);
			stat_inc(XVPC_STAT_ARP_REPLY);
			return ctx_tx(ctx);
		}
		/* Another network's gateway, when this host holds that network (as
		 * its switch, router or endpoint host): answered as its switch would,
		 * one hop sooner. */
		gw = network_of(meta->vni, tpa);
		if (gw && tpa == gw->gw_ip) {
			arp_make_reply(eth, arp, gw->gw_mac);
			stat_inc(XVPC_STAT_ARP_REPLY);
			return ctx_tx(ctx);
		}
		/* Unknown here: the switch answers inside Geneve. */
		h = xvpc_flowhash(bpf_ntohl(spa), bpf_ntohl(tpa), 0, 0, 0);
		ttl = XVPC_ARP_TTL;
	} else {
		return drop(XVPC_STAT_DROP_UNSUPPORTED);
	}

	/* One switch of the endpoint's own network. */
	if (!net)
		net = network_of(meta->vni, meta->ip);
	if (!net)
		return drop(XVPC_STAT_DROP_NO_SWITCH);
	hop = xvpc_members_pick(&net->switches, h);
	if (!hop)
		return drop(XVPC_STAT_DROP_NO_SWITCH);
	if (hop == hc->ip) {
		mac_copy(dmac, hc->mac);
	} else {
		struct substrate_value *sub = bpf_map_lookup_elem(&substrate, &hop);

		if (!sub)
			return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
		mac_copy(dmac, sub->mac);
	}

encap:
	err = agent_encap(ctx, hc, meta, hop, dmac, h, ttl);
	if (err)
		return err;
	if (hop == hc->ip) /* this host is the switch: run transit inline */
		return transit_process(ctx, true);
	return ctx_redirect(ctx, hc->ifindex);
}

#endif

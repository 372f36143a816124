/* icmp: a router's answer to a packet whose TTL runs out on it: ICMP time
 * exceeded (RFC 792, type 11 code 0) from the gateway address of the
 * sender's network, so traceroute shows the gateway as the hop. The packet
 * is rewritten in place into the answer: Geneve back to the sending host
 * (the outer source, which every hop keeps), or, for transit run inline from
 * the agent, the bare frame back into the endpoint.
 */
#ifndef XVPC_ICMP_H
#define XVPC_ICMP_H

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
#include "eth.h"
#include "csum.h"
#include "flowhash.h"
#include "encap.h"

#define XVPC_ICMP_TIME_EXCEEDED 11
#define XVPC_ICMP_ECHO_REPLY 0
#define XVPC_ICMP_ECHO 8
/* What the answer quotes: the expired packet's IPv4 header (no options) and
 * its first 8 bytes of payload. */
#define XVPC_ICMP_QUOTE 28
/* The answer's inner frame: Ethernet, IPv4, ICMP header, quote. */
#define XVPC_ICMP_FRAME (sizeof(struct ethhdr) + sizeof(struct iphdr) + 8 + XVPC_ICMP_QUOTE)

/* Whether an expired packet gets an answer: a first fragment or a whole
 * packet, no IP options, long enough to quote, and not itself an ICMP error
 * (of ICMP, only echo request and reply are answered). */
static __always_inline bool icmp_answers(const struct iphdr *iip, void *data_end)
{
	const __u8 *l4 = (const void *)(iip + 1);

	if (iip->ihl != 5 || (iip->frag_off & bpf_htons(XVPC_IP_OFFSET)))
		return false;
	if ((const void *)iip + XVPC_ICMP_QUOTE > data_end)
		return false;
	if (iip->protocol == IPPROTO_ICMP && l4[0] != XVPC_ICMP_ECHO && l4[0] != XVPC_ICMP_ECHO_REPLY)
		return false;
	return true;
}

/* One's-complement checksum of the ICMP message (header + quote). */
static __always_inline __u16 icmp_csum(const __u16 *w)
{
	__u32 s = 0;

#pragma unroll
	for (int i = 0; i < (8 + XVPC_ICMP_QUOTE) / 2; i++)
		s += w[i];
	return (__u16)~xvpc_csum_fold32(s);
}

/* Rewrite the expired packet (inner IPv4 iip, inner Ethernet ieth; the
 * sending host sender_host) into the answer and send it. dst_net: the
 * network it was routed to, whose gateway answers if the sender's network
 * is unknown here. A packet that gets no answer is dropped as TTL. */
static __always_inline int icmp_time_exceeded(xvpc_ctx *ctx, const struct host_cfg_value *hc,
					      __u32 vni, __u32 sender_host, struct ethhdr *ieth,
					      struct iphdr *iip, void *data_end,
					      const struct network_value *dst_net, bool from_agent)
{
	__u32 outer = from_agent ? 0 : XVPC_ENCAP_LEN;
	const struct network_value *snet;
	__u8 quote[XVPC_ICMP_QUOTE];
	__u8 ep_mac[ETH_ALEN], gw_mac[ETH_ALEN], host_mac[ETH_ALEN];
	struct substrate_value *sub;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u8 *icmp;
	void *data;
	__u32 to, gw_ip;

	if (!icmp_answers(iip, data_end))
		return drop(XVPC_STAT_DROP_TTL);
	__builtin_memcpy(quote, iip, XVPC_ICMP_QUOTE);
	mac_copy(ep_mac, ieth->h_source);
	to = iip->saddr;
	snet = network_of(vni, to);
	if (!snet)
		snet = dst_net;
	gw_ip = snet->gw_ip;
	mac_copy(gw_mac, snet->gw_mac);
	if (!from_agent) {
		sub = bpf_map_lookup_elem(&substrate, &sender_host);
		if (!sub)
			return drop(XVPC_STAT_DROP_NO_SUBSTRATE);
		mac_copy(host_mac, sub->mac);
	}

	if (ctx_set_len(ctx, outer + XVPC_ICMP_FRAME))
		return drop(XVPC_STAT_DROP_ADJUST);
	data = ctx_data(ctx);
	if (data + outer + XVPC_ICMP_FRAME > ctx_data_end(ctx))
		return drop(XVPC_STAT_DROP_TRUNCATED);
	if (!from_agent) /* its inner source is a gateway, living nowhere: not to be learned */
		encap_write(data, hc, vni, sender_host, host_mac, XVPC_ENCAP_LEN + XVPC_ICMP_FRAME - sizeof(*eth),
			    xvpc_flowhash(bpf_ntohl(gw_ip), bpf_ntohl(to), IPPROTO_ICMP, 0, 0),
			    XVPC_RTS_F_NO_LEARN);

	eth = data + outer;
	ip = (void *)(eth + 1);
	icmp = (void *)(ip + 1);
	mac_copy(eth->h_dest, ep_mac);
	mac_copy(eth->h_source, gw_mac);
	eth_set_proto(eth, bpf_htons(ETH_P_IP));
	*(__u8 *)ip = 0x45;
	ip->tos = 0xc0; /* internetwork control, as routers send their errors */
	ip->tot_len = bpf_htons(XVPC_ICMP_FRAME - sizeof(*eth));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = XVPC_OUTER_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = gw_ip;
	ip->daddr = to;
	xvpc_ip_csum_set(ip);
	icmp[0] = XVPC_ICMP_TIME_EXCEEDED;
	icmp[1] = 0; /* TTL exceeded in transit */
	*(__u16 *)(icmp + 2) = 0;
	*(__u32 *)(icmp + 4) = 0;
	__builtin_memcpy(icmp + 8, quote, XVPC_ICMP_QUOTE);
	*(__u16 *)(icmp + 2) = icmp_csum((const __u16 *)icmp);
	stat_inc(XVPC_STAT_ICMP_TIME_EXCEEDED);
	return ctx_tx(ctx);
}

#endif

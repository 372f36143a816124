/* arp: Ethernet/IPv4 ARP (wire.h's struct xvpc_arp): reading addresses,
 * accepting only what the data plane answers, and turning a request into its
 * reply in place. Who answers what: transit.h and agent.h. */
#ifndef XVPC_ARP_H
#define XVPC_ARP_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "wire.h"
#include "eth.h"

#define XVPC_ARP_TTL 64 /* outer TTL of encapsulated ARP and of ARP replies */

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

#endif

/* ipv4: reading an IPv4 packet's headers: how many leading bytes its readers
 * need (what TC makes direct-access first), and where its L4 ports and
 * checksum are. Header checksums: csum.h; the flow hash: flowhash.h. */
#ifndef XVPC_IPV4_H
#define XVPC_IPV4_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "wire.h"

/* What transit reads behind the inner IPv4 header: ports, TCP up to its checksum. */
#define XVPC_INNER_L4_READ 20

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

/* Where the L4 checksum and ports of an inner IPv4 packet are, if it has them. */
struct l4_ref {
	__u16 *check;     /* NULL: no checksum to patch */
	__be16 *sport;    /* NULL for ICMP and later fragments */
	__be16 *dport;
	bool udp;
};

static __always_inline struct l4_ref l4_of(struct iphdr *ip, void *data_end)
{
	struct l4_ref r = {};
	void *l4 = (void *)ip + ip->ihl * 4;

	if (ip->frag_off & bpf_htons(XVPC_IP_OFFSET))
		return r;
	if (ip->protocol == IPPROTO_TCP && l4 + 18 <= data_end) {
		r.sport = l4;
		r.dport = l4 + 2;
		r.check = l4 + 16;
	} else if (ip->protocol == IPPROTO_UDP && l4 + 8 <= data_end) {
		r.sport = l4;
		r.dport = l4 + 2;
		r.check = l4 + 6;
		r.udp = true;
	} else if (ip->protocol == IPPROTO_ICMP && l4 + 4 <= data_end) {
		/* ICMP's checksum covers no pseudo-header: nothing to patch. */
	}
	return r;
}

#endif

/* flowhash: the inner-flow hash that picks a switch or router (a slot of the table)
 * and the outer UDP source port. TS tests recompute it, so it is exact:
 *
 *   fmix(x) = murmur3's 32-bit finalizer, all arithmetic mod 2^32:
 *             x ^= x >> 16; x *= 0x85ebca6b; x ^= x >> 13; x *= 0xc2b2ae35; x ^= x >> 16
 *   h = fmix(saddr ^ 0x9e3779b9)
 *   h = fmix(h ^ daddr)
 *   h = fmix(h ^ ((sport << 16) | dport))
 *   h = fmix(h ^ proto)
 *
 * saddr/daddr/ports are the numeric, host-order values (10.0.0.1 = 0x0a000001).
 * Ports are 0 unless proto is TCP or UDP, the packet is not a fragment (MF
 * clear and offset 0) and the L4 header is present. ARP hashes as
 * (spa, tpa, proto 0, ports 0).
 *
 *   member   = members[slots[h % XVPC_SLOT_TABLE_SIZE]]
 *   udp sport = 49152 + (h & 0x3fff)
 */
#ifndef XVPC_FLOWHASH_H
#define XVPC_FLOWHASH_H

#include <linux/types.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "wire.h"
#include "verifier.h"

_Static_assert((XVPC_MAX_SWITCHES & (XVPC_MAX_SWITCHES - 1)) == 0,
	       "member index mask needs a power of two");

#define XVPC_FLOWHASH_SEED 0x9e3779b9u
#define XVPC_SPORT_BASE 49152
#define XVPC_SPORT_MASK 0x3fff

static __always_inline __u32 xvpc_fmix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static __always_inline __u32 xvpc_flowhash(__u32 saddr, __u32 daddr, __u32 proto,
					   __u32 sport, __u32 dport)
{
	__u32 h = xvpc_fmix(saddr ^ XVPC_FLOWHASH_SEED);

	h = xvpc_fmix(h ^ daddr);
	h = xvpc_fmix(h ^ ((sport << 16) | dport));
	return xvpc_fmix(h ^ proto);
}

/* Flow hash of an inner IPv4 packet (the definition above). */
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

/* Consistent-hash choice: the member's IPv4 (network order), or 0 when the
 * list is empty or the table points outside it. */
static __always_inline __u32 xvpc_members_pick(const struct xvpc_members *m, __u32 h)
{
	__u32 count = m->count;
	__u32 slot = h % XVPC_SLOT_TABLE_SIZE;
	__u32 idx;

	if (count == 0 || count > XVPC_MAX_SWITCHES)
		return 0;
	xvpc_opaque(slot);
	if (slot >= XVPC_SLOT_TABLE_SIZE)
		return 0;
	idx = m->slots[slot];
	if (idx >= count)
		return 0;
	xvpc_opaque(idx);
	idx &= XVPC_MAX_SWITCHES - 1;
	return m->members[idx];
}

#endif

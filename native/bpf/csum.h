/* csum: IPv4 header checksum (RFC 1071) for the 20-byte, option-less headers
 * the data plane builds, verifies and rewrites, and the RFC 1624 incremental
 * updates for a TTL decrement and for a changed 32-bit word. */
#ifndef XVPC_CSUM_H
#define XVPC_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>

static __always_inline __u32 xvpc_csum_fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s;
}

/* 32-bit access to header words (an IPv4 header sits at offset 14: not
 * 4-aligned; the verifier allows it on CPUs that do, as eth.h's MAC words). */
typedef __u32 __attribute__((may_alias)) xvpc_csum_u32_a;

/* One's-complement sum of the ten 16-bit words of a 20-byte header, folded.
 * Summed as five 32-bit words into 64 bits and folded down: the same
 * one's-complement sum in half the loads and adds (the switch path verifies
 * every outer header with it). Never 0: the first byte is 0x45. */
static __always_inline __u32 xvpc_ip_sum20(const struct iphdr *ip)
{
	const xvpc_csum_u32_a *w = (const xvpc_csum_u32_a *)ip;
	__u64 s = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];

	s = (s & 0xffffffff) + (s >> 32); /* <= 2^32 + 4 */
	s = (s & 0xffffffff) + (s >> 32); /* < 2^32 */
	return xvpc_csum_fold32(s);
}

/* A received header is intact when its words, checksum included, sum to 0xffff. */
static __always_inline int xvpc_ip_csum_ok(const struct iphdr *ip)
{
	return xvpc_ip_sum20(ip) == 0xffff;
}

/* Recompute the checksum of a 20-byte header in place. */
static __always_inline void xvpc_ip_csum_set(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = (__u16)~xvpc_ip_sum20(ip);
}

/* Decrement the TTL and patch the checksum (the TTL sits in the high byte of
 * its 16-bit word, so the word drops by 0x0100 and the checksum rises by it). */
static __always_inline void xvpc_ip_dec_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xffff));
	ip->ttl--;
}

/* RFC 1624: the checksum after a 32-bit word of the summed data changed. */
static __always_inline __u16 xvpc_csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 s = (__u16)~check;

	s += (~from & 0xffff) + (~from >> 16);
	s += (to & 0xffff) + (to >> 16);
	return (__u16)~xvpc_csum_fold32(s);
}

/* Re-address a header whose checksum is valid (transit checked it on the
 * way in) and whose TTL is above 1 to the next hop: new destination, TTL - 1,
 * checksum patched by RFC 1624 (HC' = ~(~HC + ~m + m')) for the three changed
 * 16-bit words in one sum and one fold (every switched packet takes it). The
 * TTL word m' = m - 0x0100 (no borrow: TTL >= 2), so ~m + m' = 0xfeff. The
 * result is the one a full recomputation gives (both land in 0..0xfffe). */
static __always_inline void xvpc_ip_set_daddr_dec_ttl(struct iphdr *ip, __be32 daddr)
{
	__u32 from = ip->daddr;
	__u32 s = (__u16)~ip->check;

	s += (~from & 0xffff) + (~from >> 16);
	s += (daddr & 0xffff) + (daddr >> 16);
	s += bpf_htons(0xfeff);
	ip->check = (__u16)~xvpc_csum_fold32(s);
	ip->daddr = daddr;
	ip->ttl--;
}

#endif

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

/* One's-complement sum of the ten 16-bit words of a 20-byte header, folded. */
static __always_inline __u32 xvpc_ip_sum20(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 s = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		s += w[i];
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

#endif

/* eth: Ethernet header access. MACs and the type sit inside packed headers,
 * so they move as words through may_alias types rather than byte by byte. */
#ifndef XVPC_ETH_H
#define XVPC_ETH_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

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

static __always_inline int mac_equal(const void *a, const void *b)
{
	return *(const xvpc_u32_a *)a == *(const xvpc_u32_a *)b &&
	       *(const xvpc_u16_a *)(a + 4) == *(const xvpc_u16_a *)(b + 4);
}

static __always_inline __be16 eth_proto(const struct ethhdr *eth)
{
	return *(const xvpc_u16_a *)((const void *)eth + offsetof(struct ethhdr, h_proto));
}

static __always_inline void eth_set_proto(struct ethhdr *eth, __be16 proto)
{
	*(xvpc_u16_a *)((void *)eth + offsetof(struct ethhdr, h_proto)) = proto;
}

#endif

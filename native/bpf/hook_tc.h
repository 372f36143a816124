/* hook_tc: the data path on the TC hook (xvpc_tc.bpf.c): the same packet
 * logic (transit.h, agent.h) on socket buffers, so the stack's GSO aggregates cross
 * every hop whole. Encapsulation goes through bpf_skb_adjust_room with the
 * tunnel flags, which records the inner headers and marks the aggregate
 * UDP-tunnel GSO: it is cut into wire packets only where a device cannot take
 * it (a veth and a bridge take it whole). Included through hook.h. */
#ifndef XVPC_HOOK_TC_H
#define XVPC_HOOK_TC_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "maps.h"
#include "xdpcap.h"

typedef struct __sk_buff xvpc_ctx;

/* The capture hook of the TC build: like xdpcap_hook (xdpcap.h), one slot per
 * data-path verdict, holding SCHED_CLS programs that return the TC verdict
 * of their slot. */
XVPC_CAPTURE_HOOK(tccap_hook);

#define XVPC_TC_ENCAP_FLAGS                                                                       \
	(BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |   \
	 BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(ETH_HLEN))

static __always_inline void *ctx_data(const struct __sk_buff *skb)
{
	return (void *)(long)skb->data;
}

static __always_inline void *ctx_data_end(const struct __sk_buff *skb)
{
	return (void *)(long)skb->data_end;
}

static __always_inline __u32 ctx_len(struct __sk_buff *skb)
{
	return skb->len;
}

static __always_inline __u32 ctx_ingress_ifindex(const struct __sk_buff *skb)
{
	return skb->ifindex; /* on the ingress hook: the receiving device */
}

/* Make the first len bytes (or the whole packet) direct-access. True when
 * it pulled, which invalidates every packet pointer taken before. */
static __always_inline bool ctx_pull(struct __sk_buff *skb, __u32 len)
{
	__u32 want = skb->len < len ? skb->len : len;

	if (ctx_data(skb) + want <= ctx_data_end(skb))
		return false;
	bpf_skb_pull_data(skb, want);
	return true;
}

/* Encapsulation: the frame grows by len at the front and continues at offset
 * len. IPv4 opens the room behind the Ethernet header with the tunnel flags
 * (GSO kept), then moves that header to where the inner frame starts; ARP
 * (refused by adjust_room) is a small frame and simply gets a new head. */
static __always_inline int ctx_push(struct __sk_buff *skb, __u32 len)
{
	void *data;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return bpf_skb_change_head(skb, len, 0);
	if (bpf_skb_adjust_room(skb, len, BPF_ADJ_ROOM_MAC, XVPC_TC_ENCAP_FLAGS)) {
		/* The flags refuse a packet that is a tunnel packet already (the
		 * endpoint runs its own, with checksum offload). A single packet
		 * needs no tunnel GSO metadata; an aggregate would, so it stays
		 * refused (endpoints do not send those: plumbing.ts). */
		if (skb->gso_size ||
		    bpf_skb_adjust_room(skb, len, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO))
			return -1;
	}
	data = ctx_data(skb);
	if (data + len + ETH_HLEN > ctx_data_end(skb))
		return -1;
	__builtin_memcpy(data + len, data, ETH_HLEN);
	return 0;
}

/* Decapsulation: the frame from offset len on becomes the whole frame. The
 * inner Ethernet header moves to the front, then the bytes behind it go;
 * gso_size stays (it counts inner payload). Only an IPv4 skb can shrink so:
 * a non-IP one would be our own ARP, encapsulated by ctx_push a moment ago
 * for transit inline, and the agent answers every ARP request transit could
 * before encapsulating. (6.18 cannot clear the aggregate's tunnel marks
 * here: see TC_UNCARRIED_GSO in src/transitd/plumbing.ts.) */
static __always_inline int ctx_pop(struct __sk_buff *skb, __u32 len)
{
	void *data;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -1;
	data = ctx_data(skb);
	/* both bounds: the verifier does not relate a variable offset to the start */
	if (data + ETH_HLEN > ctx_data_end(skb) || data + len + ETH_HLEN > ctx_data_end(skb))
		return -1;
	__builtin_memcpy(data, data + len, ETH_HLEN);
	return bpf_skb_adjust_room(skb, -(int)len, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO);
}

/* len bytes open at offset off; the off bytes before it move to the front. */
static __always_inline int ctx_open_gap(struct __sk_buff *skb, __u32 off, __u32 len)
{
	void *data;

	if (bpf_skb_adjust_room(skb, len, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO))
		return -1;
	data = ctx_data(skb);
	if (data + off + len > ctx_data_end(skb))
		return -1;
	/* adjust_room opened the gap behind the Ethernet header */
	__builtin_memmove(data + ETH_HLEN, data + ETH_HLEN + len, off - ETH_HLEN);
	return 0;
}

/* The frame becomes len bytes long, all of it direct-access; which bytes go
 * or come is unspecified (the caller rewrites the whole frame). Not
 * bpf_skb_change_tail: it refuses an skb marked as a tunnel packet, which
 * ours are from the first agent on; adjust_room behind the Ethernet header
 * takes them, at most 0xfff bytes a call. Not for an aggregate. 0, or -1. */
static __always_inline int ctx_set_len(struct __sk_buff *skb, __u32 len)
{
	if (skb->gso_size)
		return -1;
	for (int i = 0; i < 4 && skb->len != len; i++) {
		__s32 diff = (__s32)len - (__s32)skb->len;

		if (diff > 0xfff)
			diff = 0xfff;
		if (diff < -0xfff)
			diff = -0xfff;
		if (bpf_skb_adjust_room(skb, diff, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO))
			return -1;
	}
	if (skb->len != len)
		return -1;
	return bpf_skb_pull_data(skb, len) ? -1 : 0;
}

/* Patch an L4 checksum for a changed 4-byte word of its pseudo-header (an
 * address). A packet a local socket sent carries only the pseudo-header sum
 * there (CHECKSUM_PARTIAL), which moves the other way; the kernel's helper
 * knows which it is (and keeps a UDP 0 as 0). 1: done, and every packet
 * pointer is invalid; -1: the helper failed. */
static __always_inline int ctx_l4_csum_addr(struct __sk_buff *skb, __u16 *check, __u32 from,
					    __u32 to, bool udp)
{
	__u32 off = (void *)check - ctx_data(skb);

	if (bpf_l4_csum_replace(skb, off, from, to,
				BPF_F_PSEUDO_HDR | sizeof(to) | (udp ? BPF_F_MARK_MANGLED_0 : 0)))
		return -1;
	return 1;
}

static __always_inline int ctx_redirect(struct __sk_buff *skb, __u32 ifindex)
{
	bpf_redirect(ifindex, 0);
	return XDP_REDIRECT;
}

/* Straight into the endpoint's namespace: the ingress of the veth's peer,
 * without another pass through a backlog queue. The kernel takes that path
 * only into another namespace (not for a host endpoint, host_ns), and it
 * keeps skb->protocol as it is, so a frame whose type changed on
 * decapsulation (ARP out of an IPv4 packet) goes out of the veth instead,
 * where the peer reads its type again. */
static __always_inline int ctx_deliver(struct __sk_buff *skb, __u32 ifindex, bool host_ns)
{
	struct ethhdr *eth = ctx_data(skb);

	if (!host_ns && (void *)(eth + 1) <= ctx_data_end(skb) && eth->h_proto == skb->protocol)
		bpf_redirect_peer(ifindex, 0);
	else
		bpf_redirect(ifindex, 0);
	return XDP_REDIRECT;
}

static __always_inline int ctx_tx(struct __sk_buff *skb)
{
	bpf_redirect(skb->ifindex, 0);
	return XDP_TX;
}

/* The data path's verdict as TC's. */
static __always_inline int tc_verdict(int act)
{
	if (act == XDP_PASS)
		return TC_ACT_OK;
	if (act == XDP_TX || act == XDP_REDIRECT)
		return TC_ACT_REDIRECT;
	return TC_ACT_SHOT;
}

/* Leave through the capture hook: an empty slot falls through. A redirect
 * target set before the tail call stays set for the kernel. */
static __always_inline int tc_exit(struct __sk_buff *skb, int act)
{
#ifndef XVPC_NO_XDPCAP
	bpf_tail_call(skb, &tccap_hook, act);
#endif
	return tc_verdict(act);
}

/* Copy len bytes at offset off of the frame into buf, wherever they lie
 * (beyond what the headers' pull made direct-access, in a fragment): 0, or
 * <0 when the frame is shorter. Packet pointers stay valid. */
static __always_inline int ctx_load(const struct __sk_buff *ctx, __u32 off, void *buf, __u32 len)
{
	return bpf_skb_load_bytes((struct __sk_buff *)ctx, off, buf, len);
}

#endif

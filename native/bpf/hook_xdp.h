/* hook_xdp: the data path on the XDP hook (xvpc.bpf.c). The packet logic is
 * written against the ctx_* operations below; hook_tc.h has the same set for
 * TC. Verdicts are XDP's on both hooks. Included through hook.h. */
#ifndef XVPC_HOOK_XDP_H
#define XVPC_HOOK_XDP_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "csum.h"
#include "xdpcap.h"

typedef struct xdp_md xvpc_ctx;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XVPC_DEFAULT_AGENTS);
	__type(key, __u32);
	__type(value, __u32);
	/* Not LIBBPF_PIN_BY_NAME: the kernel adds BPF_F_RDONLY_PROG to every
	 * devmap, which libbpf 1.1's reuse check takes for a mismatch. The
	 * loader (src/dataplane/host.ts) pins and reuses it itself. */
} interfaces SEC(".maps");

/* The capture hook: one slot per XDP action (see xdpcap.h). Empty unless a
 * capture runs; libbpf 1.1 reuses the pinned PROG_ARRAY as it is. */
XVPC_CAPTURE_HOOK(xdpcap_hook);

static __always_inline void *ctx_data(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ctx_data_end(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data_end;
}

/* The whole frame, fragments included (xdp.frags: data_end only ends the
 * linear part, which always holds the headers). */
static __always_inline __u32 ctx_len(struct xdp_md *ctx)
{
	return bpf_xdp_get_buff_len(ctx);
}

static __always_inline __u32 ctx_ingress_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

/* Headers are always in the linear part of an XDP frame: nothing to pull,
 * no pointer to take again. */
static __always_inline bool ctx_pull(struct xdp_md *ctx, __u32 len)
{
	return false;
}

/* Encapsulation: the frame grows by len at the front and continues at offset len. */
static __always_inline int ctx_push(struct xdp_md *ctx, __u32 len)
{
	return bpf_xdp_adjust_head(ctx, -(int)len);
}

/* Decapsulation: the frame from offset len on becomes the whole frame. */
static __always_inline int ctx_pop(struct xdp_md *ctx, __u32 len)
{
	return bpf_xdp_adjust_head(ctx, len);
}

/* len bytes open at offset off; the off bytes before it move to the front. */
static __always_inline int ctx_open_gap(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data;

	if (bpf_xdp_adjust_head(ctx, -(int)len))
		return -1;
	data = ctx_data(ctx);
	if (data + off + len > ctx_data_end(ctx))
		return -1;
	__builtin_memmove(data, data + len, off);
	return 0;
}

/* The frame becomes len bytes long, cut or grown at its end (grown bytes
 * are the caller's to write). 0, or -1 when the kernel refuses. */
static __always_inline int ctx_set_len(struct xdp_md *ctx, __u32 len)
{
	return bpf_xdp_adjust_tail(ctx, (int)len - (int)bpf_xdp_get_buff_len(ctx)) ? -1 : 0;
}

/* Patch an L4 checksum for a changed 4-byte word of its pseudo-header (an
 * address): an XDP frame's checksums are complete, so RFC 1624 in place; a
 * UDP checksum of 0 (none) stays 0 and a computed 0 becomes 0xffff. 0:
 * packet pointers stay valid (hook_tc.h's may return 1 or -1). */
static __always_inline int ctx_l4_csum_addr(struct xdp_md *ctx, __u16 *check, __u32 from, __u32 to,
					    bool udp)
{
	__u16 c;

	if (udp && *check == 0)
		return 0;
	c = xvpc_csum_replace4(*check, from, to);
	*check = (udp && c == 0) ? 0xffff : c;
	return 0;
}

/* Out of another interface, through the devmap; a missing entry is a loader bug, counted. */
static __always_inline int ctx_redirect(struct xdp_md *ctx, __u32 ifindex)
{
	if (bpf_redirect_map(&interfaces, ifindex, 0) != XDP_REDIRECT)
		return drop(XVPC_STAT_DROP_NO_IFACE);
	return XDP_REDIRECT;
}

/* Into an endpoint's host-side veth, so that its endpoint receives it
 * (host_ns: the endpoint is the host's own namespace; only TC cares). */
static __always_inline int ctx_deliver(struct xdp_md *ctx, __u32 ifindex, bool host_ns)
{
	return ctx_redirect(ctx, ifindex);
}

/* Back out of the interface it came in on. */
static __always_inline int ctx_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

/* Copy len bytes at offset off of the frame into buf, wherever they lie
 * (beyond what the headers' pull made direct-access, in a fragment): 0, or
 * <0 when the frame is shorter. Packet pointers stay valid. */
static __always_inline int ctx_load(const struct xdp_md *ctx, __u32 off, void *buf, __u32 len)
{
	return bpf_xdp_load_bytes((struct xdp_md *)ctx, off, buf, len);
}

#endif

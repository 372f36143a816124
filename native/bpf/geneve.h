/* geneve: the Geneve header (wire.h) as the data plane reads and writes it:
 * how far a received packet's headers reach, checking the base header and
 * walking its options (RTS 0x48 and scaled 0x49 are ours; an unknown critical
 * option is refused), and writing the base header with the one RTS option
 * the agent sends. */
#ifndef XVPC_GENEVE_H
#define XVPC_GENEVE_H

#include <stdbool.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "wire.h"
#include "eth.h"
#include "ipv4.h"
#include "verifier.h"

/* The longest run of headers transit reads: outer Ethernet/IPv4/UDP, Geneve
 * with the most options, inner Ethernet, inner IPv4 with options, TCP up to
 * its checksum (14 + 20 + 8 + 8 + 252 + 14 + 60 + 18). */
#define XVPC_HEADERS_MAX 394

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

/* Walk the Geneve options: 0 when acceptable, else the drop reason. *rts_off
 * gets the offset of the RTS option's data from the start of the options, or
 * -1, and *scaled_off that of option 0x49. The caller has checked that
 * opt_bytes of options lie inside the packet. */
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

/* The options are exactly the one RTS option an agent writes (geneve_build:
 * class, type, length 3 words, reserved bits 0): what nearly every packet
 * carries. geneve_walk would accept it with the same offsets; one 32-bit
 * compare spares the switch path the walk. */
static __always_inline bool geneve_only_rts(void *opts, __u32 opt_bytes, void *data_end)
{
	const struct xvpc_geneve_opt rts = {
		.opt_class = bpf_htons(XVPC_GENEVE_OPT_CLASS),
		.type = XVPC_OPT_RTS,
		.len = XVPC_RTS_WORDS,
	};

	if (opt_bytes != XVPC_ENCAP_OPT_BYTES || opts + sizeof(rts) > data_end)
		return false;
	return *(const xvpc_u32_a *)opts == *(const xvpc_u32_a *)&rts;
}

/* A received Geneve header, checked, with its options walked. */
struct geneve_info {
	void *opts;      /* the first option */
	__u32 opt_bytes; /* all options; the inner frame follows them */
	__u32 vni;
	int rts_off;     /* data of the RTS option from opts, or -1 */
	int scaled_off;  /* data of option 0x49 from opts, or -1 */
};

/* Check the Geneve header at gh (version 0, Ethernet inside, not a control
 * packet, options inside the packet and acceptable): 0 with *g filled, else
 * the drop reason. */
static __always_inline int geneve_parse(struct xvpc_geneve *gh, void *data_end,
					struct geneve_info *g)
{
	int err;

	if ((void *)(gh + 1) > data_end)
		return XVPC_STAT_DROP_TRUNCATED;
	if (XVPC_GENEVE_VER(gh) != 0)
		return XVPC_STAT_DROP_GENEVE_VERSION;
	if (gh->proto != bpf_htons(XVPC_ETH_P_TEB))
		return XVPC_STAT_DROP_GENEVE_PROTO;
	if (gh->flags & XVPC_GENEVE_F_OAM)
		return XVPC_STAT_DROP_UNSUPPORTED; /* control packet: not for forwarding */
	g->opt_bytes = XVPC_GENEVE_OPT_BYTES(gh);
	g->opts = (void *)(gh + 1);
	if (g->opts + g->opt_bytes > data_end)
		return XVPC_STAT_DROP_TRUNCATED;
	if (geneve_only_rts(g->opts, g->opt_bytes, data_end)) {
		g->rts_off = sizeof(struct xvpc_geneve_opt);
		g->scaled_off = -1;
	} else {
		err = geneve_walk(g->opts, g->opt_bytes, data_end, &g->rts_off, &g->scaled_off);
		if (err)
			return err;
	}
	/* VNI: the 24 high bits of the word it shares with the reserved byte (one load). */
	g->vni = bpf_ntohl(*(const xvpc_u32_a *)gh->vni) >> 8;
	return 0;
}

/* Write the base header and the one RTS option (this host as the sender,
 * XVPC_RTS_F_* flags) the agent sends: XVPC_ENCAP_OPT_BYTES of options. */
static __always_inline void geneve_build(struct xvpc_geneve *gh, __u32 vni, __u32 host_ip,
					 const __u8 *host_mac, __u8 rts_flags)
{
	struct xvpc_geneve_opt *opt = (void *)(gh + 1);
	struct xvpc_rts *rts = (void *)(opt + 1);

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
	rts->host_ip = host_ip;
	mac_copy(rts->host_mac, host_mac);
	rts->flags = rts_flags;
	rts->zero = 0;
}

#endif

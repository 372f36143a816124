/* wire: on-wire layouts the programs parse and build that the kernel UAPI
 * headers do not define (Geneve, Ethernet/IPv4 ARP, IPv4 fragment bits), and
 * the size of the outer headers the agent prepends. */
#ifndef XVPC_WIRE_H
#define XVPC_WIRE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#define XVPC_ETH_P_TEB 0x6558 /* Geneve protocol: transparent Ethernet bridging */

/* IPv4 frag_off: more fragments, and the fragment offset (host order). */
#define XVPC_IP_MF 0x2000
#define XVPC_IP_OFFSET 0x1fff

/* Geneve base header (RFC 8926 section 3.4). */
struct xvpc_geneve {
	__u8 ver_optlen; /* version (2 bits, must be 0) | option length in 4-byte words (6 bits) */
	__u8 flags;      /* O (0x80) control packet | C (0x40) critical options present */
	__be16 proto;
	__u8 vni[3];
	__u8 rsvd;
};

#define XVPC_GENEVE_F_OAM 0x80
#define XVPC_GENEVE_VER(g) ((g)->ver_optlen >> 6)
#define XVPC_GENEVE_OPT_BYTES(g) (((__u32)(g)->ver_optlen & 0x3f) << 2)

/* Geneve option header; `len` counts the option data in 4-byte words. */
struct xvpc_geneve_opt {
	__be16 opt_class;
	__u8 type;     /* 0x80: critical */
	__u8 len;      /* 3 reserved bits | 5-bit length */
};

#define XVPC_GENEVE_OPT_CRITICAL 0x80
#define XVPC_GENEVE_OPT_LEN(o) (((__u32)(o)->len & 0x1f) << 2)

/* "Return to sender" option data (class XVPC_GENEVE_OPT_CLASS, type XVPC_OPT_RTS). */
struct xvpc_rts {
	__be32 host_ip;
	__u8 host_mac[6];
	__u8 flags; /* XVPC_RTS_F_* */
	__u8 zero;
};

/* xvpc_rts.flags */
#define XVPC_RTS_F_DIRECT 0x1   /* sent straight to a cached host, past the switch */
#define XVPC_RTS_F_NO_LEARN 0x2 /* the inner source is not the sender's endpoint (scaled reply) */

#define XVPC_RTS_WORDS (sizeof(struct xvpc_rts) / 4)
#define XVPC_MAX_GENEVE_OPTS 8 /* options walked per packet; more -> dropped */

/* Ethernet/IPv4 ARP (RFC 826): the only ARP the data plane answers. */
struct xvpc_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
};

#define XVPC_ARP_REQUEST 1
#define XVPC_ARP_REPLY 2

/* What the agent prepends: Ethernet, IPv4 (no options), UDP, Geneve base and
 * the one RTS option (4-byte header + 12 bytes of data) = 66 bytes. */
#define XVPC_OUTER_L2L4 (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define XVPC_ENCAP_OPT_BYTES (sizeof(struct xvpc_geneve_opt) + sizeof(struct xvpc_rts))
#define XVPC_ENCAP_LEN (XVPC_OUTER_L2L4 + sizeof(struct xvpc_geneve) + XVPC_ENCAP_OPT_BYTES)

_Static_assert(sizeof(struct xvpc_geneve) == 8, "geneve header");
_Static_assert(sizeof(struct xvpc_geneve_opt) == 4, "geneve option header");
_Static_assert(sizeof(struct xvpc_rts) == 12, "rts option");
_Static_assert(sizeof(struct xvpc_arp) == 28, "arp");
_Static_assert(XVPC_ENCAP_LEN == 66, "encap overhead");

#endif

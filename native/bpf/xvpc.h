/* xvpc: every map and record the XDP programs share.
 *
 * src/abi/ (layout.ts, codecs.ts) mirrors these layouts byte for byte;
 * test/btf.test.ts compares every size and member offset with the object's BTF.
 *
 * Conventions: IPv4 addresses are stored in network byte order (as they sit in
 * the packet); VNIs, counts and ifindexes in host byte order.
 */
#ifndef XVPC_H
#define XVPC_H

#include <linux/types.h>

#define XVPC_MAX_SWITCHES 16 /* switches per network, routers per VPC */
#define XVPC_SLOT_TABLE_SIZE 251 /* consistent-hash table slots (prime) */
#define XVPC_MAX_BACKENDS 16 /* backends of a scaled endpoint */

#define XVPC_GENEVE_PORT 6081
#define XVPC_GENEVE_OPT_CLASS 0x0111
#define XVPC_OPT_RTS 0x48    /* return to sender: host IPv4 + MAC */
#define XVPC_OPT_SCALED 0x49 /* scaled endpoint: flow modification */

/* Capacities; the loader may raise or lower them before load. */
#define XVPC_DEFAULT_ENDPOINTS (1 << 20)
#define XVPC_DEFAULT_NETWORKS 65536
#define XVPC_DEFAULT_VPCS 65536
#define XVPC_DEFAULT_SUBSTRATE 65536
#define XVPC_DEFAULT_AGENTS 65536
#define XVPC_DEFAULT_HOST_CACHE 65536

enum xvpc_ep_type {
	XVPC_EP_SIMPLE = 0,
	XVPC_EP_SCALED = 1,
	XVPC_EP_HOST = 2,
	XVPC_EP_GATEWAY = 3,
};

/* A consistent-hash member list: slots[slot] indexes members[] (filled by
 * rendezvous hashing per slot: src/abi/slot-table.ts). */
struct xvpc_members {
	__u32 count;
	__u32 members[XVPC_MAX_SWITCHES]; /* IPv4s: switch or router hosts; a scaled endpoint's backends */
	__u8 slots[XVPC_SLOT_TABLE_SIZE];
	__u8 _pad[1];
};

/* vpcs: vni -> routers */
struct vpc_key {
	__u32 vni;
};
struct vpc_value {
	struct xvpc_members routers;
	__u32 flags; /* XVPC_VPC_F_* */
};

/* vpc_value.flags */
#define XVPC_VPC_F_DIRECT_PATH 0x1 /* agents use ep_host_cache; transit learns into it */

/* networks: LPM on (vni, prefix). prefixlen counts the 32 VNI bits too. */
struct network_key {
	__u32 prefixlen;
	__u32 vni;
	__u32 ip; /* network byte order */
};
struct network_value {
	__u32 vni;
	__u32 net_id;
	__u32 prefix;    /* network byte order */
	__u32 prefixlen; /* CIDR length, 0..32 */
	__u32 gw_ip;     /* network byte order */
	__u8 gw_mac[6];
	__u8 _pad[2];
	struct xvpc_members switches;
};

/* endpoints: (vni, ip) -> where it lives */
struct endpoint_key {
	__u32 vni;
	__u32 ip; /* network byte order */
};
struct endpoint_value {
	__u8 type; /* enum xvpc_ep_type */
	__u8 backend_count;
	__u8 mac[6];
	__u32 host_ip; /* network byte order */
	__u8 host_mac[6];
	__u8 _pad[2];
	__s32 hosted_ifindex; /* host-side veth on this host, or -1 */
	__u32 net_id;
	__u32 backends[XVPC_MAX_BACKENDS]; /* scaled endpoints: backend IPs */
};

/* substrate: underlay ip -> mac */
struct substrate_value {
	__u8 mac[6];
	__u8 _pad[2];
};

/* agent_meta: host-side veth ifindex -> the endpoint behind it */
struct agent_meta_value {
	__u32 vni;
	__u32 ip; /* network byte order */
	__u8 mac[6];
	__u8 flags; /* XVPC_AGENT_F_*, set by the data plane itself */
	__u8 _pad;
	__u32 net_id;
};

/* agent_meta.flags */
#define XVPC_AGENT_F_SCALED_BACKEND 0x1 /* has served a scaled endpoint: check scaled_flows */

/* scaled_flows: on a backend's host, a flow a switch sent it on behalf of a
 * scaled endpoint; the agent answers such flows as the scaled endpoint. */
struct scaled_flow_key {
	__u32 vni;
	__u32 client_ip;     /* network byte order */
	__u32 backend_ip;    /* network byte order */
	__u16 client_port;   /* network byte order; 0 for ICMP */
	__u16 backend_port;  /* network byte order; 0 for ICMP */
	__u8 proto;
	__u8 _pad[3];
};
struct scaled_flow_value {
	__u32 vip; /* the scaled endpoint's IP, network byte order */
};
#define XVPC_DEFAULT_SCALED_FLOWS 65536

/* scaled_backends: a scaled endpoint (vni, ip) -> its backends' IPs as a
 * slot table, so adding a backend moves about 1/n of the flows and removing
 * one moves only its own. Written by the loader with the endpoint record. */
#define XVPC_DEFAULT_SCALED 65536
_Static_assert(XVPC_MAX_BACKENDS == XVPC_MAX_SWITCHES, "a slot table holds the backends");

/* host_cfg: index 0 -> this host's underlay identity */
struct host_cfg_value {
	__u32 ip; /* network byte order */
	__u8 mac[6];
	__u8 _pad[2];
	__u32 ifindex; /* eth0 */
	__u32 flags;   /* reserved, 0 */
};

/* ep_host_cache: (vni, ip) -> host (direct path), learned by transit from the
 * RTS option of packets it delivers (direct_path.h) */
struct host_cache_value {
	__u32 host_ip;
	__u8 host_mac[6];
	__u8 _pad[2];
};

/* Security groups (policy.h, conntrack.h). A group is compiled by the loader
 * into two LPM tries per direction ("table" = group id * 2 + direction):
 *   sg_cidrs  (table, remote prefix) -> that prefix's length and which
 *             protocols have rules at exactly that prefix
 *   sg_ports  (table, prefix, proto, port bits) -> allow; a port range is
 *             cut into aligned blocks (port bits are the LPM's last bits)
 * A lookup walks from the longest matching prefix to its shorter ones (at
 * most XVPC_SG_MAX_DEPTH nested prefixes per table). sg_groups keeps each
 * group's definition as written (read back by Dump); sg_attach the groups of
 * an endpoint. */
#define XVPC_SG_MAX_GROUPS 16  /* groups attached to one endpoint */
#define XVPC_SG_MAX_RULES 1024 /* rules of one group, both directions */
#define XVPC_SG_MAX_DEPTH 8    /* nested prefixes per group and direction */
#define XVPC_SG_NAME_LEN 64    /* a group's name, NUL-padded */
#define XVPC_DEFAULT_SG_GROUPS 4096
#define XVPC_DEFAULT_SG_ATTACH 65536
#define XVPC_DEFAULT_SG_CIDRS 262144
#define XVPC_DEFAULT_SG_PORTS 262144
#define XVPC_DEFAULT_CONNTRACK 262144

enum xvpc_sg_dir {
	XVPC_SG_INGRESS = 0,
	XVPC_SG_EGRESS = 1,
};

/* sg_rule.proto; sg_cidr_value.protos has bit (1 << proto_bit) per protocol */
enum xvpc_sg_proto {
	XVPC_SG_ANY = 0, /* sg_port_key.proto 0: any protocol */
	XVPC_SG_ICMP = 1,
	XVPC_SG_TCP = 6,
	XVPC_SG_UDP = 17,
};
#define XVPC_SG_PB_ANY 0x1
#define XVPC_SG_PB_ICMP 0x2
#define XVPC_SG_PB_TCP 0x4
#define XVPC_SG_PB_UDP 0x8

/* sg_attach: (vni, ip) of an endpoint -> its groups */
struct sg_attach_value {
	__u32 count;
	__u32 groups[XVPC_SG_MAX_GROUPS];
};

/* sg_groups: group id -> its definition (for Dump; the data path reads the tries) */
struct sg_rule {
	__u32 ip;     /* remote prefix, network byte order */
	__u8 len;     /* its length */
	__u8 proto;   /* enum xvpc_sg_proto */
	__u8 dir;     /* enum xvpc_sg_dir */
	__u8 _pad;
	__u16 port_lo; /* host order; 0..65535 (tcp/udp), 0 and 65535 when all */
	__u16 port_hi;
};
struct sg_group_value {
	__u32 vni;
	__u32 count; /* rules used */
	char name[XVPC_SG_NAME_LEN];
	struct sg_rule rules[XVPC_SG_MAX_RULES];
};

/* sg_cidrs: LPM; prefixlen = 32 + the prefix's length */
struct sg_cidr_key {
	__u32 prefixlen;
	__u32 table; /* group id * 2 + direction */
	__u32 ip;    /* network byte order */
};
struct sg_cidr_value {
	__u8 len;    /* this prefix's length */
	__u8 protos; /* XVPC_SG_PB_*: protocols with a rule at exactly this prefix */
	__u8 _pad[2];
};

/* sg_ports: LPM; prefixlen = 80 + port bits (80: every port, and ICMP/any) */
struct sg_port_key {
	__u32 prefixlen;
	__u32 table;
	__u32 ip;
	__u8 len;
	__u8 proto;
	__u8 port[2]; /* big-endian, so its high bits come first */
};
#define XVPC_SG_PORT_KEY_FIXED 80 /* table + ip + len + proto */
struct sg_port_value {
	__u32 allow; /* 1 */
};

/* conntrack: a connection of a policed endpoint, keyed from its side */
struct ct_key {
	__u32 vni;
	__u32 local_ip;  /* network byte order */
	__u32 remote_ip; /* network byte order */
	__u16 local_port;  /* network byte order; ICMP: the echo id */
	__u16 remote_port; /* network byte order; ICMP: 0 */
	__u8 proto;
	__u8 _pad[3];
};
enum xvpc_ct_state {
	XVPC_CT_NEW = 0,         /* opened, no answer yet (TCP: half-open) */
	XVPC_CT_ESTABLISHED = 1, /* both sides spoke */
	XVPC_CT_CLOSING = 2,     /* TCP: a FIN seen */
	XVPC_CT_CLOSED = 3,      /* TCP: RST, or FIN from both sides */
};
struct ct_value {
	__u64 expires; /* bpf_ktime_get_coarse_ns() deadline */
	__u8 state;    /* enum xvpc_ct_state */
	__u8 origin;   /* enum xvpc_sg_dir of the packet that opened it */
	__u8 fins;     /* TCP: bit 0 FIN from local, bit 1 FIN from remote */
	__u8 gen;      /* sg_cfg's gen (its low 8 bits) when hold was written */
	__u32 hold;    /* while now + (hold << XVPC_CT_HOLD_SHIFT) ns <= expires, a packet that
			* changes nothing needs no write (0: check; conntrack.h) */
};
#define XVPC_CT_HOLD_SHIFT 20 /* hold counts units of 2^20 ns (~1 ms) */

/* sg_frags: an IPv4 datagram whose first fragment (TCP, UDP, ICMP echo) a
 * policed endpoint's security groups passed -> its ports as that fragment
 * carried them, so its later fragments (no L4 header) are judged as that
 * flow (sg.h). Written by the programs, never by the loader. */
#define XVPC_DEFAULT_SG_FRAGS 4096
struct sg_frag_key {
	__u32 vni;
	__u32 saddr; /* network byte order, as the packet carries them */
	__u32 daddr;
	__u16 id;    /* the IP identification, network byte order */
	__u8 proto;
	__u8 _pad;   /* 0 */
};
struct sg_frag_value {
	__u16 sport; /* network byte order, as the first fragment carried it; ICMP: the echo id */
	__u16 dport; /* ICMP: 0 */
};

/* sg_cfg: index 0 -> conntrack timeouts (ns; 0: the default below) and the
 * conntrack capacity (the loader writes it: an insert at capacity counts an
 * eviction). */
struct sg_cfg_value {
	__u64 tcp_new;
	__u64 tcp_established;
	__u64 tcp_closing;
	__u64 tcp_closed;
	__u64 udp;
	__u64 icmp;
	__u64 other;
	__u32 ct_capacity;
	__u32 gen; /* moves with every change of the timeouts (conntrack.h: an entry's hold) */
};
#define XVPC_NS 1000000000ull
#define XVPC_CT_TCP_NEW_DEFAULT (30 * XVPC_NS)
#define XVPC_CT_TCP_ESTABLISHED_DEFAULT (6 * 3600 * XVPC_NS)
#define XVPC_CT_TCP_CLOSING_DEFAULT (30 * XVPC_NS)
#define XVPC_CT_TCP_CLOSED_DEFAULT (10 * XVPC_NS)
#define XVPC_CT_UDP_DEFAULT (60 * XVPC_NS)
#define XVPC_CT_ICMP_DEFAULT (30 * XVPC_NS)
#define XVPC_CT_OTHER_DEFAULT (60 * XVPC_NS)

/* stats: one per-CPU counter per verdict and drop reason.
 * src/abi/stats.ts lists the same names in the same order;
 * test/btf.test.ts checks them against this enum in BTF.
 * The RX slots (TRANSIT_RX, AGENT_RX) are never written: every run of a
 * program counts exactly one verdict (count_verdict, maps.h), so a
 * program's RX is the sum of its four verdicts, which the reader derives
 * (STAT_DERIVED in src/abi/stats.ts). One per-CPU update less per packet;
 * the slots stay so every other counter keeps its index. */
enum xvpc_stat {
	XVPC_STAT_TRANSIT_RX = 0,
	XVPC_STAT_TRANSIT_PASS,
	XVPC_STAT_TRANSIT_TX,
	XVPC_STAT_TRANSIT_REDIRECT,
	XVPC_STAT_TRANSIT_DROP,
	XVPC_STAT_AGENT_RX,
	XVPC_STAT_AGENT_PASS,
	XVPC_STAT_AGENT_TX,
	XVPC_STAT_AGENT_REDIRECT,
	XVPC_STAT_AGENT_DROP,
	XVPC_STAT_SWITCH_FWD,
	XVPC_STAT_ROUTER_NET_FWD,
	XVPC_STAT_ROUTER_VPC_FWD,
	XVPC_STAT_DECAP,
	XVPC_STAT_ENCAP,
	XVPC_STAT_ARP_REPLY,
	XVPC_STAT_DROP_TRUNCATED,
	XVPC_STAT_DROP_GENEVE_VERSION,
	XVPC_STAT_DROP_GENEVE_PROTO,
	XVPC_STAT_DROP_GENEVE_OPT,
	XVPC_STAT_DROP_IP_OPTIONS,
	XVPC_STAT_DROP_FRAGMENT,
	XVPC_STAT_DROP_BAD_IP,
	XVPC_STAT_DROP_TTL,
	XVPC_STAT_DROP_NO_ENDPOINT,
	XVPC_STAT_DROP_NO_ROUTE,
	XVPC_STAT_DROP_NO_SUBSTRATE,
	XVPC_STAT_DROP_NO_SWITCH,
	XVPC_STAT_DROP_SPOOFED,
	XVPC_STAT_DROP_UNSUPPORTED,
	XVPC_STAT_DROP_NO_HOST_CFG,
	XVPC_STAT_DROP_ADJUST,
	XVPC_STAT_DROP_NO_IFACE, /* redirect target missing from the interfaces devmap */
	XVPC_STAT_SCALED_DNAT,      /* a switch sent a flow to a scaled endpoint's backend */
	XVPC_STAT_SCALED_SNAT,      /* a backend's reply left as the scaled endpoint */
	XVPC_STAT_DROP_NO_BACKEND,  /* scaled endpoint without a known backend */
	XVPC_STAT_DIRECT_TX,        /* the agent sent straight to a cached host */
	XVPC_STAT_DIRECT_LEARN,     /* transit wrote a new or changed ep_host_cache entry */
	XVPC_STAT_DIRECT_STALE,     /* a direct packet for an endpoint not here, sent to a switch */
	XVPC_STAT_ICMP_TIME_EXCEEDED, /* a router answered an expired packet */
	XVPC_STAT_DROP_SG_INGRESS,    /* a new flow no ingress rule allows */
	XVPC_STAT_DROP_SG_EGRESS,     /* a new flow no egress rule allows */
	XVPC_STAT_DROP_SG_UNSOLICITED, /* TCP that opens nothing (not a SYN), untracked, not allowed */
	XVPC_STAT_DROP_SG_ICMP_ERROR, /* an ICMP error about no tracked flow, not allowed */
	XVPC_STAT_DROP_SG_FRAGMENT,   /* a later IPv4 fragment to or from a policed endpoint */
	XVPC_STAT_SG_CT_NEW,          /* a connection tracked */
	XVPC_STAT_SG_CT_EXPIRED,      /* a tracked connection found timed out (judged anew) */
	XVPC_STAT_SG_CT_EVICT,        /* an insert into a full conntrack (LRU dropped its oldest) */
	XVPC_STAT_SG_ICMP_RELATED,    /* an ICMP error about a tracked flow passed */
	XVPC_STAT_MAX,
};

#endif

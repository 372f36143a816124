/* policy: does a rule of an endpoint's security groups allow a new flow?
 *
 * Each group is compiled by the loader (src/abi/sg-compile.ts) into two LPM
 * tries per direction (xvpc.h): sg_cidrs finds the longest rule prefix
 * holding the remote address, sg_ports says whether that prefix has a rule
 * for the protocol and port (a port range is a few aligned blocks, so one LPM
 * lookup answers any range). A shorter rule prefix also holds the address,
 * so the walk goes on to the next shorter one (a lookup capped below the
 * current length), at most XVPC_SG_MAX_DEPTH of them. Groups are tried in
 * turn; the first allowing rule wins. Only new flows get here: conntrack.h
 * passes the rest.
 *
 * xvpc_sg_allows is a global (not inlined) function: the verifier checks it
 * once, not at every call site of both programs.
 */
#ifndef XVPC_POLICY_H
#define XVPC_POLICY_H

#include <stdbool.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "maps.h"

/* A new flow as the rules see it, from the policed endpoint's side. */
struct sg_query {
	__u32 vni;
	__u32 local_ip;  /* the policed endpoint, network byte order */
	__u32 remote_ip; /* network byte order */
	__u16 port;      /* host order: the destination port of the opening packet (TCP/UDP) */
	__u8 proto;      /* IP protocol */
	__u8 dir;        /* enum xvpc_sg_dir */
};

static __always_inline __u8 sg_proto_bit(__u8 proto)
{
	if (proto == XVPC_SG_TCP)
		return XVPC_SG_PB_TCP;
	if (proto == XVPC_SG_UDP)
		return XVPC_SG_PB_UDP;
	if (proto == XVPC_SG_ICMP)
		return XVPC_SG_PB_ICMP;
	return 0; /* other protocols: only an "any" rule allows them */
}

static __always_inline __u32 sg_mask(__u8 len)
{
	return len == 0 ? 0 : bpf_htonl(0xffffffffu << (32 - len)); /* len 1..32 */
}

/* One group's table (group * 2 + direction): a rule for (remote, proto, port)? */
static __always_inline bool sg_table_allows(__u32 table, const struct sg_query *q)
{
	struct sg_cidr_key ck = { .prefixlen = 64, .table = table, .ip = q->remote_ip };
	__u8 pbit = sg_proto_bit(q->proto);
	struct sg_cidr_value *cv;
	struct sg_port_key pk;

	for (int d = 0; d < XVPC_SG_MAX_DEPTH; d++) {
		__u8 len, protos;

		cv = bpf_map_lookup_elem(&sg_cidrs, &ck);
		if (!cv)
			return false;
		len = cv->len;
		protos = cv->protos;
		if (len > 32)
			return false;
		if (protos & (pbit | XVPC_SG_PB_ANY)) {
			__builtin_memset(&pk, 0, sizeof(pk));
			pk.table = table;
			pk.ip = q->remote_ip & sg_mask(len);
			pk.len = len;
			if (protos & pbit) {
				pk.prefixlen = XVPC_SG_PORT_KEY_FIXED + 16;
				pk.proto = q->proto;
				pk.port[0] = q->port >> 8;
				pk.port[1] = q->port & 0xff;
				if (bpf_map_lookup_elem(&sg_ports, &pk))
					return true;
			}
			if (protos & XVPC_SG_PB_ANY) {
				pk.prefixlen = XVPC_SG_PORT_KEY_FIXED;
				pk.proto = XVPC_SG_ANY;
				pk.port[0] = 0;
				pk.port[1] = 0;
				if (bpf_map_lookup_elem(&sg_ports, &pk))
					return true;
			}
		}
		if (len == 0)
			return false;
		ck.prefixlen = 32 + len - 1; /* the next shorter rule prefix holding it */
	}
	return false;
}

/* 1 when a rule of one of the endpoint's groups allows the flow (or it has
 * no group), else 0. */
__attribute__((noinline)) int xvpc_sg_allows(struct sg_query *q)
{
	struct sg_attach_value *a;
	struct endpoint_key ek;
	__u32 count;

	if (!q)
		return 0;
	ek.vni = q->vni;
	ek.ip = q->local_ip;
	a = bpf_map_lookup_elem(&sg_attach, &ek);
	if (!a || !a->count)
		return 1;
	count = a->count;
	for (int i = 0; i < XVPC_SG_MAX_GROUPS; i++) {
		if (i >= count)
			break;
		if (sg_table_allows(a->groups[i] * 2 + (q->dir & 1), q))
			return 1;
	}
	return 0;
}

#endif

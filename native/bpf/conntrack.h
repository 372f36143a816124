/* conntrack: stateful security groups. Every packet to or from an endpoint
 * with security groups is judged here (xvpc_sg_judge), keyed from that
 * endpoint's side (struct ct_key), so its egress at the agent and its ingress
 * at transit share one entry:
 *
 *   tracked, live      passes (either direction: replies of allowed flows),
 *                      state and deadline move on
 *   ICMP error         passes when the endpoint's flow it quotes is tracked
 *                      (a quote of no flow of the endpoint's is looked up
 *                      nowhere); else the rules judge it as what it is, ICMP
 *                      between the endpoint and its sender (ingress) or
 *                      addressee (egress), and it opens nothing
 *   untracked          the rules decide (policy.h); allowed opens an entry
 *                      (TCP: a SYN opens NEW; any other allowed segment is
 *                      picked up as ESTABLISHED; RST opens nothing)
 *
 * The rules always see the endpoint and the packet's real peer (sg_flow's
 * self_ip, peer_ip), never the conntrack key, which for an ICMP error holds
 * the quoted flow. A later IPv4 fragment comes here as its datagram's flow,
 * with its first fragment's ports (sg.h), TCP flags 0.
 *
 * TCP by state: NEW (half-open) and CLOSED have short timeouts, CLOSING
 * (a FIN seen) a short one, ESTABLISHED a long one; a SYN on a CLOSED entry
 * is judged anew. UDP, ICMP and the rest by timeout alone. Timeouts come
 * from sg_cfg (0: the defaults in xvpc.h), so tests can make them short;
 * time is the coarse clock (ct_now: tick resolution).
 *
 * sg_judge is what the path calls: the steady state (a live tracked flow
 * whose packet changes nothing: no SYN, FIN or RST, no first answer, no
 * deadline to move) passes inline, reading and writing nothing but its
 * lookup; every other packet goes to the global xvpc_sg_judge, which decides
 * it from the start. A denial returns its drop reason; the caller drops
 * through drop(), which counts it and shows it to capture.
 *
 * The steady state's lookup is first tried in a per-CPU flow cache
 * (sg_flow_cache): a copy of the entry and the ct_epoch it was taken under.
 * The epoch moves after every insert (the only time the LRU evicts, even when
 * the insert then fails) and after every change of an entry's state, written
 * whole first. Without an epoch move an entry only sees its deadline move
 * later (the copy's earlier one is the stricter) or new timeouts (the copy's
 * old gen fails ct_unchanged), so a copy under the current epoch never passes
 * what the table would not. No write of conntrack happens elsewhere: the
 * loader only reads it, and after it replaced the programs of an older build
 * (which move no epoch) it moves the epoch itself.
 *
 * Taking a copy needs the epoch read before the entry, and a writer's state
 * before its epoch move, as x86-64 keeps them (loads in order, a locked add
 * after the stores); BPF has no load-acquire before clang 20, so on other
 * architectures the Makefile compiles the cache out (XVPC_NO_SG_FLOW_CACHE)
 * and every steady-state packet reads the table.
 */
#ifndef XVPC_CONNTRACK_H
#define XVPC_CONNTRACK_H

#include <stdbool.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvpc.h"
#include "maps.h"
#include "policy.h"

#define XVPC_TCP_FIN 0x01
#define XVPC_TCP_SYN 0x02
#define XVPC_TCP_RST 0x04
#define XVPC_TCP_ACK 0x10

enum xvpc_sg_kind {
	XVPC_SG_PKT = 0,        /* a packet of its own flow */
	XVPC_SG_ICMP_ERR = 1,   /* an ICMP error; key: the endpoint's flow it quotes */
	XVPC_SG_ICMP_STRAY = 2, /* an ICMP error quoting no flow of the endpoint: no key */
};

/* A packet to judge, from the policed endpoint's side (sg.h fills it). The
 * conntrack key and what the rules see are apart: for an ICMP error the key
 * is the flow it quotes, but the rules judge the error itself, an ICMP packet
 * between the endpoint and the packet's real peer (never an address of the
 * quote). */
struct sg_flow {
	struct ct_key key; /* its conntrack entry (ICMP_STRAY: none, never looked up) */
	__u32 self_ip;  /* the rules' local: the policed endpoint */
	__u32 peer_ip;  /* the rules' remote: the packet's source on ingress, destination on egress */
	__u16 dport;    /* host order: the packet's destination port (TCP/UDP) */
	__u8 dir;       /* enum xvpc_sg_dir: leaving (egress) or reaching (ingress) it */
	__u8 tcp_flags;
	__u8 kind;      /* enum xvpc_sg_kind */
	__u8 first_frag; /* a first IPv4 fragment: what sg.h does with sg_frags once it is judged */
	__u8 _pad[2];
};

/* Now, in bpf_ktime_get_coarse_ns() time. That clock moves once a tick, when
 * jiffies do, so each CPU keeps its reading with the jiffy it was taken in
 * and calls the helper again only when jiffies moved: jiffies64 is a load
 * (the verifier inlines it), where the helper call cost ~10 ns a packet on
 * XDP decapsulation (bench/README.md). A reading taken as jiffies had just
 * moved but the clock not yet is at most a tick behind, as coarse as the
 * clock itself. */
static __always_inline __u64 ct_now(void)
{
	struct ct_clock_value *c;
	__u32 zero = 0;
	__u64 j = bpf_jiffies64();

	c = bpf_map_lookup_elem(&ct_clock, &zero);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j) {
		c->ns = bpf_ktime_get_coarse_ns();
		c->jiffies = j;
	}
	return c->ns;
}

/* Every copy in sg_flow_cache is stale from now on. */
static __always_inline void ct_epoch_move(void)
{
	__u32 zero = 0;
	__u64 *e = bpf_map_lookup_elem(&ct_epoch, &zero);

	if (e)
		__sync_fetch_and_add(e, 1);
}

static __always_inline __u64 ct_pick(__u64 configured, __u64 dflt)
{
	return configured ? configured : dflt;
}

static __always_inline __u64 ct_timeout(const struct sg_cfg_value *c, __u8 proto, __u8 state)
{
	if (proto == XVPC_SG_TCP) {
		if (state == XVPC_CT_ESTABLISHED)
			return ct_pick(c ? c->tcp_established : 0, XVPC_CT_TCP_ESTABLISHED_DEFAULT);
		if (state == XVPC_CT_CLOSING)
			return ct_pick(c ? c->tcp_closing : 0, XVPC_CT_TCP_CLOSING_DEFAULT);
		if (state == XVPC_CT_CLOSED)
			return ct_pick(c ? c->tcp_closed : 0, XVPC_CT_TCP_CLOSED_DEFAULT);
		return ct_pick(c ? c->tcp_new : 0, XVPC_CT_TCP_NEW_DEFAULT);
	}
	if (proto == XVPC_SG_UDP)
		return ct_pick(c ? c->udp : 0, XVPC_CT_UDP_DEFAULT);
	if (proto == XVPC_SG_ICMP)
		return ct_pick(c ? c->icmp : 0, XVPC_CT_ICMP_DEFAULT);
	return ct_pick(c ? c->other : 0, XVPC_CT_OTHER_DEFAULT);
}

/* How long before its deadline an entry of timeout t may be left as it is:
 * the deadline moves only by more than t/16, so until now + (t - t/16)
 * passes it. In units of 2^XVPC_CT_HOLD_SHIFT ns, rounded up (so the inline
 * test is never looser than ct_refresh's); 0 (always check) past 32 bits. */
static __always_inline __u32 ct_hold(__u64 t)
{
	__u64 h = (t - (t >> 4) + (1ull << XVPC_CT_HOLD_SHIFT) - 1) >> XVPC_CT_HOLD_SHIFT;

	return h > 0xffffffffull ? 0 : (__u32)h;
}

static __always_inline __u8 ct_gen(const struct sg_cfg_value *c)
{
	return c ? (__u8)c->gen : 0;
}

/* A live entry sees another packet: state, FINs, deadline. The deadline is
 * written only when it moves by more than 1/16 of the timeout, so a busy
 * flow does not write its entry with every packet; hold says, for the
 * inline steady state, how long that lasts. */
static __always_inline void ct_refresh(struct ct_value *ct, const struct sg_flow *f,
				       const struct sg_cfg_value *c, __u64 now)
{
	__u8 state = ct->state, fins = ct->fins;
	__u64 t, exp;

	if (f->key.proto == XVPC_SG_TCP) {
		if (f->tcp_flags & XVPC_TCP_RST) {
			state = XVPC_CT_CLOSED;
		} else if (f->tcp_flags & XVPC_TCP_FIN) {
			fins |= f->dir == XVPC_SG_EGRESS ? 1 : 2;
			state = fins == 3 ? XVPC_CT_CLOSED : XVPC_CT_CLOSING;
		} else if (state == XVPC_CT_NEW && f->dir != ct->origin) {
			state = XVPC_CT_ESTABLISHED;
		}
	} else if (state == XVPC_CT_NEW && f->dir != ct->origin) {
		state = XVPC_CT_ESTABLISHED;
	}
	t = ct_timeout(c, f->key.proto, state);
	exp = now + t;
	if (state != ct->state || fins != ct->fins) {
		/* The whole new entry first, then the epoch: a copy taken under the new epoch has all of it. */
		ct->state = state;
		ct->fins = fins;
		ct->expires = exp;
		ct->hold = ct_hold(t);
		ct->gen = ct_gen(c);
		ct_epoch_move();
		return;
	}
	if (exp > ct->expires + (t >> 4))
		ct->expires = exp; /* later: a copy's earlier deadline is the stricter one */
	if (ct->hold != ct_hold(t) || ct->gen != ct_gen(c)) { /* new timeouts: a copy's old gen fails ct_unchanged */
		ct->hold = ct_hold(t);
		ct->gen = ct_gen(c);
	}
}

/* A new entry. *replace: an entry of this key is there (timed out or
 * closed): rewritten in place, no insert. Else an insert, counted against
 * the capacity: at capacity the LRU drops its oldest entry, counted as an
 * eviction. */
static __always_inline void ct_open(const struct sg_flow *f, const struct sg_cfg_value *c,
				    __u64 now, bool replace)
{
	struct ct_value v = {};
	__u32 zero = 0;
	__u64 *n;
	long err;

	v.origin = f->dir;
	v.state = XVPC_CT_NEW;
	if (f->key.proto == XVPC_SG_TCP && !(f->tcp_flags & XVPC_TCP_SYN))
		v.state = XVPC_CT_ESTABLISHED; /* picked up mid-stream (allowed all the same) */
	v.expires = now + ct_timeout(c, f->key.proto, v.state);
	v.hold = ct_hold(ct_timeout(c, f->key.proto, v.state));
	v.gen = ct_gen(c);
	err = bpf_map_update_elem(&conntrack, &f->key, &v, BPF_ANY);
	ct_epoch_move(); /* the insert may have evicted entries copies hold, even when it then failed */
	if (err)
		return; /* untracked: its replies are judged by the rules */
	stat_inc(XVPC_STAT_SG_CT_NEW);
	if (replace)
		return;
	n = bpf_map_lookup_elem(&ct_count, &zero);
	if (!n)
		return;
	if (c && c->ct_capacity && *n >= c->ct_capacity)
		stat_inc(XVPC_STAT_SG_CT_EVICT);
	else
		__sync_fetch_and_add(n, 1);
}

static __always_inline bool sg_rules_allow(const struct sg_flow *f, __u8 proto, __u16 port)
{
	struct sg_query q = {
		.vni = f->key.vni,
		.local_ip = f->self_ip,
		.remote_ip = f->peer_ip,
		.port = port,
		.proto = proto,
		.dir = f->dir,
	};

	return xvpc_sg_allows(&q);
}

/* 0: the packet passes; else the drop reason. Global (not inlined): checked
 * once by the verifier, shared by every call site. */
__attribute__((noinline)) int xvpc_sg_judge(struct sg_flow *f)
{
	struct sg_cfg_value *c;
	struct ct_value *ct;
	__u32 zero = 0;
	bool replace = false, syn_only;
	__u64 now;

	if (!f)
		return XVPC_STAT_DROP_UNSUPPORTED;
	c = bpf_map_lookup_elem(&sg_cfg, &zero);
	now = ct_now();

	if (f->kind != XVPC_SG_PKT) {
		/* An ICMP error: related to a live entry of the endpoint's own, or
		 * judged as what it is, ICMP between the endpoint and its sender. */
		if (f->kind == XVPC_SG_ICMP_ERR) {
			ct = bpf_map_lookup_elem(&conntrack, &f->key);
			if (ct && ct->expires > now) {
				stat_inc(XVPC_STAT_SG_ICMP_RELATED);
				return 0;
			}
		}
		if (sg_rules_allow(f, XVPC_SG_ICMP, 0))
			return 0; /* ICMP allowed as such; an error opens nothing */
		return XVPC_STAT_DROP_SG_ICMP_ERROR;
	}

	ct = bpf_map_lookup_elem(&conntrack, &f->key);
	syn_only = f->key.proto == XVPC_SG_TCP &&
		   (f->tcp_flags & (XVPC_TCP_SYN | XVPC_TCP_ACK | XVPC_TCP_RST)) == XVPC_TCP_SYN;
	if (ct) {
		if (ct->expires > now && !(syn_only && ct->state == XVPC_CT_CLOSED)) {
			ct_refresh(ct, f, c, now);
			return 0;
		}
		if (ct->expires <= now)
			stat_inc(XVPC_STAT_SG_CT_EXPIRED);
		replace = true;
	}

	if (!sg_rules_allow(f, f->key.proto, f->dport)) {
		if (f->key.proto == XVPC_SG_TCP && !syn_only)
			return XVPC_STAT_DROP_SG_UNSOLICITED;
		return f->dir == XVPC_SG_EGRESS ? XVPC_STAT_DROP_SG_EGRESS : XVPC_STAT_DROP_SG_INGRESS;
	}
	if (f->key.proto == XVPC_SG_TCP && (f->tcp_flags & XVPC_TCP_RST))
		return 0; /* allowed, and opens nothing */
	ct_open(f, c, now, replace);
	return 0;
}

/* A live entry, a packet that changes nothing of it: what ct_refresh would
 * leave as it is (state, FINs, and a deadline that moves by less than 1/16
 * of the timeout: hold, from the timeouts of sg_cfg's gen, so new timeouts
 * take the long way once). A SYN goes the long way too (on a CLOSED entry it
 * is judged anew). */
static __always_inline bool ct_unchanged(const struct ct_value *ct, const struct sg_flow *f,
					 const struct sg_cfg_value *c, __u64 now)
{
	__u32 hold = ct->hold;

	if (!hold || ct->gen != ct_gen(c))
		return false;
	if (f->key.proto == XVPC_SG_TCP &&
	    (f->tcp_flags & (XVPC_TCP_SYN | XVPC_TCP_FIN | XVPC_TCP_RST)))
		return false;
	if (ct->state == XVPC_CT_NEW && f->dir != ct->origin)
		return false;
	return now + ((__u64)hold << XVPC_CT_HOLD_SHIFT) <= ct->expires; /* hold > 0: live too */
}

/* The flow cache's slot of a key: a multiplicative hash of its words. */
static __always_inline __u32 sg_flow_cache_slot(const struct ct_key *k)
{
	__u32 h = k->vni ^ k->local_ip ^ k->remote_ip ^
		  ((__u32)k->local_port << 16 | k->remote_port) ^ k->proto;

	return (h * 0x9e3779b1u) >> (32 - XVPC_SG_FLOW_CACHE_BITS);
}

static __always_inline bool ct_key_eq(const struct ct_key *a, const struct ct_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	_Static_assert(sizeof(struct ct_key) == 20, "five words");
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/* This CPU's flow-cache slot of a flow, and the epoch read when it was found. */
struct sg_copy {
	struct sg_flow_cache_value *slot;
	__u64 epoch;
};

#ifdef XVPC_NO_SG_FLOW_CACHE
static __always_inline bool sg_copy_passes(const struct sg_flow *f, const struct sg_cfg_value *c, __u64 now,
					   struct sg_copy *cp)
{
	return false;
}

static __always_inline void sg_copy_take(const struct sg_copy *cp, const struct sg_flow *f, const struct ct_value *ct)
{
}
#else
/* Finds the flow's slot and reads the epoch (before the table is read: a move
 * after it voids the copy taken from it); true when the slot's copy, taken
 * under this epoch, passes the packet. A slot never written holds hold = 0,
 * which ct_unchanged never passes. */
static __always_inline bool sg_copy_passes(const struct sg_flow *f, const struct sg_cfg_value *c, __u64 now,
					   struct sg_copy *cp)
{
	__u32 zero = 0, slot = sg_flow_cache_slot(&f->key);
	__u64 *epoch = bpf_map_lookup_elem(&ct_epoch, &zero);

	cp->slot = bpf_map_lookup_elem(&sg_flow_cache, &slot);
	if (!cp->slot || !epoch) {
		cp->slot = NULL;
		return false;
	}
	cp->epoch = *(volatile __u64 *)epoch;
	return cp->slot->epoch == cp->epoch && ct_key_eq(&cp->slot->key, &f->key) &&
	       ct_unchanged(&cp->slot->ct, f, c, now);
}

/* The table's entry ct, which passed the packet, becomes the slot's copy. */
static __always_inline void sg_copy_take(const struct sg_copy *cp, const struct sg_flow *f, const struct ct_value *ct)
{
	if (!cp->slot)
		return;
	cp->slot->key = f->key;
	cp->slot->epoch = cp->epoch;
	cp->slot->ct = *ct;
}
#endif

/* 0: the packet passes; else the drop reason. The steady state inline (no
 * call): from this CPU's copy of the entry when its epoch is current, else
 * from the table (and the copy is taken); the rest through xvpc_sg_judge,
 * which looks the entry up again. */
static __always_inline int sg_judge(struct sg_flow *f)
{
	struct sg_copy copy = {};
	struct sg_cfg_value *c;
	struct ct_value *ct;
	__u32 zero = 0;
	__u64 now;

	if (f->kind != XVPC_SG_PKT)
		return xvpc_sg_judge(f);
	c = bpf_map_lookup_elem(&sg_cfg, &zero);
	now = ct_now();
	if (sg_copy_passes(f, c, now, &copy))
		return 0;
	ct = bpf_map_lookup_elem(&conntrack, &f->key);
	if (!ct || !ct_unchanged(ct, f, c, now))
		return xvpc_sg_judge(f);
	sg_copy_take(&copy, f, ct);
	return 0;
}

#endif

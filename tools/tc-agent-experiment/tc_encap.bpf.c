/* Experiment (tools/tc-agent-experiment): Geneve encapsulation on the TC hook of the
 * endpoint's host-side veth, keeping GSO (bpf_skb_adjust_room with encap flags), to
 * measure the TC-agent lever of issue 5. One fixed outer destination (the switch),
 * IPv4 only; not part of the data plane. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "csum.h" /* native/bpf */

struct cfg { __u32 src_ip, dst_ip; __u8 src_mac[6], dst_mac[6]; __u32 vni; __u32 ifindex; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct cfg); } tc_cfg SEC(".maps");

struct hdr {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	__u8 gnv[8];
	__u8 opt[16];
	struct ethhdr ieth;
} __attribute__((packed));

SEC("tc")
int tc_encap(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct cfg *c = bpf_map_lookup_elem(&tc_cfg, &zero);
	struct hdr h = {};
	__u64 flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
		      BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(sizeof(struct ethhdr));
	__u32 len;

	if (!c || skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, 0, &h.ieth, sizeof(h.ieth)))
		return TC_ACT_SHOT;
	if (bpf_skb_adjust_room(skb, sizeof(h) - sizeof(struct ethhdr), BPF_ADJ_ROOM_MAC, flags))
		return TC_ACT_SHOT;
	len = skb->len;
	__builtin_memcpy(h.eth.h_dest, c->dst_mac, 6);
	__builtin_memcpy(h.eth.h_source, c->src_mac, 6);
	h.eth.h_proto = bpf_htons(ETH_P_IP);
	h.ip.version = 4; h.ip.ihl = 5; h.ip.ttl = 64; h.ip.protocol = IPPROTO_UDP;
	h.ip.tot_len = bpf_htons(len - 14 > 0xffff ? 0xffff : len - 14);
	h.ip.saddr = c->src_ip; h.ip.daddr = c->dst_ip;
	xvpc_ip_csum_set(&h.ip);
	h.udp.source = bpf_htons(49152 + (skb->hash & 0x3fff));
	h.udp.dest = bpf_htons(6081);
	h.udp.len = bpf_htons(len - 34 > 0xffff ? 0xffff : len - 34);
	h.gnv[0] = 4; h.gnv[2] = 0x65; h.gnv[3] = 0x58;
	h.gnv[4] = c->vni >> 16; h.gnv[5] = c->vni >> 8; h.gnv[6] = c->vni;
	h.opt[0] = 0x01; h.opt[1] = 0x11; h.opt[2] = 0x48; h.opt[3] = 3;
	__builtin_memcpy(&h.opt[4], &c->src_ip, 4);
	__builtin_memcpy(&h.opt[8], c->src_mac, 6);
	if (bpf_skb_store_bytes(skb, 0, &h, sizeof(h), 0))
		return TC_ACT_SHOT;
	return bpf_redirect(c->ifindex, 0);
}
char LICENSE[] SEC("license") = "GPL";

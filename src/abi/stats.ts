// Counter names, in the order of enum xvpc_stat in native/bpf/xvpc.h
// (test/btf.test.ts checks them against the object's BTF).
export const STAT_NAMES = [
  'transit_rx', 'transit_pass', 'transit_tx', 'transit_redirect', 'transit_drop',
  'agent_rx', 'agent_pass', 'agent_tx', 'agent_redirect', 'agent_drop',
  'switch_fwd', 'router_net_fwd', 'router_vpc_fwd', 'decap', 'encap', 'arp_reply',
  'drop_truncated', 'drop_geneve_version', 'drop_geneve_proto', 'drop_geneve_opt',
  'drop_ip_options', 'drop_fragment', 'drop_bad_ip', 'drop_ttl', 'drop_no_endpoint',
  'drop_no_route', 'drop_no_substrate', 'drop_no_switch', 'drop_spoofed', 'drop_unsupported',
  'drop_no_host_cfg', 'drop_adjust', 'drop_no_iface', 'scaled_dnat', 'scaled_snat', 'drop_no_backend',
  'direct_tx', 'direct_learn', 'direct_stale', 'icmp_time_exceeded',
  'drop_sg_ingress', 'drop_sg_egress', 'drop_sg_unsolicited', 'drop_sg_icmp_error', 'drop_sg_fragment',
  'sg_ct_new', 'sg_ct_expired', 'sg_ct_evict', 'sg_icmp_related',
] as const;

export type StatName = (typeof STAT_NAMES)[number];
export type Stats = Record<StatName, number>;

/**
 * Counters the programs never write, and the counters they are the sum of:
 * every run of a program counts exactly one verdict, so its RX is the sum of
 * its verdicts (one per-CPU update less per packet; native/bpf/xvpc.h). The
 * kernel's slots for them stay, so every other counter keeps its index.
 */
export const STAT_DERIVED: Readonly<Partial<Record<StatName, readonly StatName[]>>> = {
  transit_rx: ['transit_pass', 'transit_tx', 'transit_redirect', 'transit_drop'],
  agent_rx: ['agent_pass', 'agent_tx', 'agent_redirect', 'agent_drop'],
};

/** The counters as read (derived ones absent or 0) with the derived ones filled in. */
export function withDerivedStats(read: Readonly<Record<StatName, number>>): Stats {
  const out = { ...read } as Stats;
  for (const [name, parts] of Object.entries(STAT_DERIVED) as [StatName, readonly StatName[]][]) {
    out[name] = parts.reduce((sum, p) => sum + (read[p] ?? 0), 0);
  }
  return out;
}

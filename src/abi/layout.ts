// Byte layouts of the records in native/bpf/xvpc.h: each struct's size and the
// offset of every member. The only place in TypeScript that knows an offset;
// test/btf.test.ts checks every size and every offset against the object's BTF.
import { MAX_BACKENDS, MAX_MEMBERS, SG_MAX_GROUPS, SG_MAX_RULES, SG_NAME_LEN, SLOT_TABLE_SIZE } from './limits.js';

export interface StructLayout<M extends string = string> {
  /** the C struct's name */
  readonly name: string;
  readonly size: number;
  /** byte offset of each member, by its C name */
  readonly off: Readonly<Record<M, number>>;
}

/** Every layout below, for test/btf.test.ts. */
export const LAYOUTS: StructLayout[] = [];

function struct<M extends string>(name: string, size: number, off: Record<M, number>): StructLayout<M> {
  const s = { name, size, off };
  LAYOUTS.push(s);
  return s;
}

export const XVPC_MEMBERS = struct('xvpc_members', 4 + 4 * MAX_MEMBERS + SLOT_TABLE_SIZE + 1, {
  count: 0, members: 4, slots: 4 + 4 * MAX_MEMBERS, _pad: 4 + 4 * MAX_MEMBERS + SLOT_TABLE_SIZE,
});

export const VPC_KEY = struct('vpc_key', 4, { vni: 0 });
export const VPC_VALUE = struct('vpc_value', XVPC_MEMBERS.size + 4, { routers: 0, flags: XVPC_MEMBERS.size });

export const NETWORK_KEY = struct('network_key', 12, { prefixlen: 0, vni: 4, ip: 8 });
export const NETWORK_VALUE = struct('network_value', 28 + XVPC_MEMBERS.size, {
  vni: 0, net_id: 4, prefix: 8, prefixlen: 12, gw_ip: 16, gw_mac: 20, _pad: 26, switches: 28,
});

export const ENDPOINT_KEY = struct('endpoint_key', 8, { vni: 0, ip: 4 });
export const ENDPOINT_VALUE = struct('endpoint_value', 28 + 4 * MAX_BACKENDS, {
  type: 0, backend_count: 1, mac: 2, host_ip: 8, host_mac: 12, _pad: 18, hosted_ifindex: 20, net_id: 24, backends: 28,
});

export const SUBSTRATE_VALUE = struct('substrate_value', 8, { mac: 0, _pad: 6 });

export const AGENT_META_VALUE = struct('agent_meta_value', 20, { vni: 0, ip: 4, mac: 8, flags: 14, _pad: 15, net_id: 16 });

export const HOST_CFG_VALUE = struct('host_cfg_value', 20, { ip: 0, mac: 4, _pad: 10, ifindex: 12, flags: 16 });

export const HOST_CACHE_VALUE = struct('host_cache_value', 12, { host_ip: 0, host_mac: 4, _pad: 10 });

export const SCALED_FLOW_KEY = struct('scaled_flow_key', 20, {
  vni: 0, client_ip: 4, backend_ip: 8, client_port: 12, backend_port: 14, proto: 16, _pad: 17,
});
export const SCALED_FLOW_VALUE = struct('scaled_flow_value', 4, { vip: 0 });

// --- security groups and conntrack (native/bpf/policy.h, conntrack.h) ---
export const SG_ATTACH_VALUE = struct('sg_attach_value', 4 + 4 * SG_MAX_GROUPS, { count: 0, groups: 4 });
export const SG_RULE = struct('sg_rule', 12, { ip: 0, len: 4, proto: 5, dir: 6, _pad: 7, port_lo: 8, port_hi: 10 });
export const SG_GROUP_VALUE = struct('sg_group_value', 8 + SG_NAME_LEN + SG_RULE.size * SG_MAX_RULES, {
  vni: 0, count: 4, name: 8, rules: 8 + SG_NAME_LEN,
});
export const SG_CIDR_KEY = struct('sg_cidr_key', 12, { prefixlen: 0, table: 4, ip: 8 });
export const SG_CIDR_VALUE = struct('sg_cidr_value', 4, { len: 0, protos: 1, _pad: 2 });
export const SG_PORT_KEY = struct('sg_port_key', 16, { prefixlen: 0, table: 4, ip: 8, len: 12, proto: 13, port: 14 });
export const SG_PORT_VALUE = struct('sg_port_value', 4, { allow: 0 });
export const CT_KEY = struct('ct_key', 20, {
  vni: 0, local_ip: 4, remote_ip: 8, local_port: 12, remote_port: 14, proto: 16, _pad: 17,
});
export const CT_VALUE = struct('ct_value', 16, { expires: 0, state: 8, origin: 9, fins: 10, gen: 11, hold: 12 });
/** A CPU's copy of a conntrack entry and the ct_epoch it was taken under (maps.h sg_flow_cache). */
export const SG_FLOW_CACHE_VALUE = struct('sg_flow_cache_value', 48, { key: 0, _pad: 20, epoch: 24, ct: 32 });
/** A datagram whose first fragment passed a policed endpoint's groups, and that fragment's ports as it carried them (maps.h sg_frags). */
export const SG_FRAG_KEY = struct('sg_frag_key', 16, { vni: 0, saddr: 4, daddr: 8, id: 12, proto: 14, _pad: 15 });
export const SG_FRAG_VALUE = struct('sg_frag_value', 4, { sport: 0, dport: 2 });
export const SG_CFG_VALUE = struct('sg_cfg_value', 64, {
  tcp_new: 0, tcp_established: 8, tcp_closing: 16, tcp_closed: 24, udp: 32, icmp: 40, other: 48, ct_capacity: 56, gen: 60,
});

/**
 * The drop_reason map (native/bpf/maps.h): a per-CPU array of one __u32, the
 * XVPC_STAT_DROP_* index of that CPU's last drop, at key 0 (a U32_KEY_SIZE index).
 */
export const DROP_REASON_MAP = { name: 'drop_reason', index: 0, valueSize: 4, reasonOff: 0 } as const;

/** Keys that are a bare __u32 (substrate: an IPv4; agent_meta: an ifindex; arrays: an index). */
export const U32_KEY_SIZE = 4;

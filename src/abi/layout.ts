// Byte layouts of the records in native/bpf/xvpc.h: each struct's size and the
// offset of every member. The only place in TypeScript that knows an offset;
// test/btf.test.ts checks every size and every offset against the object's BTF.
import { MAX_BACKENDS, MAX_MEMBERS, SLOT_TABLE_SIZE } from './limits.js';

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

/**
 * The drop_reason map (native/bpf/maps.h): a per-CPU array of one __u32, the
 * XVPC_STAT_DROP_* index of that CPU's last drop, at key 0 (a U32_KEY_SIZE index).
 */
export const DROP_REASON_MAP = { name: 'drop_reason', index: 0, valueSize: 4, reasonOff: 0 } as const;

/** Keys that are a bare __u32 (substrate: an IPv4; agent_meta: an ifindex; arrays: an index). */
export const U32_KEY_SIZE = 4;

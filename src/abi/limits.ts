// Limits of the kernel contract (the #defines of native/bpf/xvpc.h).
// test/btf.test.ts checks the array lengths against the object's BTF.

/** VNIs are 24 bits (Geneve); 0 is never a VPC. */
export const MAX_VNI = 0xffffff;
/** XVPC_MAX_SWITCHES: switches per network, routers per VPC. */
export const MAX_MEMBERS = 16;
/** XVPC_SLOT_TABLE_SIZE: consistent-hash table slots (prime). */
export const SLOT_TABLE_SIZE = 251;
/** XVPC_MAX_BACKENDS: backends of a scaled endpoint. */
export const MAX_BACKENDS = 16;
/** XVPC_SG_MAX_GROUPS: security groups attached to one endpoint. */
export const SG_MAX_GROUPS = 16;
/** XVPC_SG_MAX_RULES: rules of one security group, ingress and egress together. */
export const SG_MAX_RULES = 1024;
/** XVPC_SG_MAX_DEPTH: rule prefixes of one group and direction nested inside each other. */
export const SG_MAX_DEPTH = 8;
/** XVPC_SG_NAME_LEN: a group's name field (NUL-padded), so a name has at most 63 bytes. */
export const SG_NAME_LEN = 64;

/** Maps whose capacity (max_entries) a host may set at load; the defaults are XVPC_DEFAULT_* of native/bpf/xvpc.h. */
export const CAPACITY_NAMES = [
  'endpoints', 'networks', 'vpcs', 'substrate', 'agent_meta', 'ep_host_cache', 'scaled_flows', 'scaled_backends',
  'conntrack', 'sg_groups', 'sg_attach', 'sg_cidrs', 'sg_ports',
] as const;
export type CapacityName = (typeof CAPACITY_NAMES)[number];
/** The largest capacity transitd accepts: the endpoints default (1M) times 16. */
export const MAX_CAPACITY = 1 << 24;

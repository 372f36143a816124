// Codecs for the records of native/bpf/xvpc.h, byte for byte.
// IPv4 addresses sit in network byte order (as in packets), everything else
// in host (little-endian) order. test/btf.test.ts checks every SIZE against
// the object's BTF.
import { formatCidr, formatIpv4, formatMac, maskOf, parseCidr, parseIpv4, parseMac } from '../util/addr.js';
import { MAX_MEMBERS, SLOT_TABLE_SIZE, slotTable } from './slot-table.js';

export const MAX_BACKENDS = 16;

const MEMBERS_SIZE = 4 + 4 * MAX_MEMBERS + SLOT_TABLE_SIZE + 1; // struct xvpc_members, padded to 4

export const SIZES = {
  xvpc_members: MEMBERS_SIZE,
  vpc_key: 4,
  vpc_value: MEMBERS_SIZE + 4,
  network_key: 12,
  network_value: 28 + MEMBERS_SIZE,
  endpoint_key: 8,
  endpoint_value: 28 + 4 * MAX_BACKENDS,
  substrate_value: 8,
  agent_meta_value: 20,
  host_cfg_value: 20,
  host_cache_value: 12,
} as const;

export enum EndpointType { SIMPLE = 0, SCALED = 1, HOST = 2, GATEWAY = 3 }

export interface VpcRecord {
  vni: number; routers: string[];
  /** Mizar's direct path: agents send straight to a destination's learned host */
  directPath: boolean;
}
/** vpc_value.flags */
export const VPC_F_DIRECT_PATH = 0x1;
export interface NetworkRecord {
  vni: number; netId: number; cidr: string; gatewayIp: string; gatewayMac: string; switches: string[];
}
export interface EndpointRecord {
  vni: number; ip: string; type: EndpointType; mac: string; hostIp: string; hostMac: string;
  netId: number; backends: string[];
  /** host-side veth of an endpoint hosted here, else -1 */
  hostedIfindex: number;
}
export interface SubstrateRecord { ip: string; mac: string }
export interface AgentMeta { vni: number; ip: string; mac: string; netId: number }
export interface HostConfig { ip: string; mac: string; ifindex: number }

function writeMembers(buf: Buffer, off: number, members: readonly string[], field: string): void {
  buf.writeUInt32LE(members.length, off);
  members.forEach((m, i) => buf.writeUInt32BE(parseIpv4(m, `${field}[${i}]`), off + 4 + 4 * i));
  Buffer.from(slotTable(members)).copy(buf, off + 4 + 4 * MAX_MEMBERS);
}

/** struct xvpc_members for `members` (scaled_backends: a scaled endpoint's backend IPs). */
export function encodeMembers(members: readonly string[], field: string): Buffer {
  const b = Buffer.alloc(SIZES.xvpc_members);
  writeMembers(b, 0, members, field);
  return b;
}

function readMembers(buf: Buffer, off: number): string[] {
  const count = Math.min(buf.readUInt32LE(off), MAX_MEMBERS);
  return Array.from({ length: count }, (_, i) => formatIpv4(buf.readUInt32BE(off + 4 + 4 * i)));
}

export const vpcKey = (vni: number): Buffer => { const b = Buffer.alloc(SIZES.vpc_key); b.writeUInt32LE(vni); return b; };

export function encodeVpc(r: VpcRecord): Buffer {
  const b = Buffer.alloc(SIZES.vpc_value);
  writeMembers(b, 0, r.routers, 'routers');
  b.writeUInt32LE(r.directPath ? VPC_F_DIRECT_PATH : 0, MEMBERS_SIZE);
  return b;
}
export function decodeVpc(key: Buffer, value: Buffer): VpcRecord {
  return { vni: key.readUInt32LE(0), routers: readMembers(value, 0), directPath: (value.readUInt32LE(MEMBERS_SIZE) & VPC_F_DIRECT_PATH) !== 0 };
}

export const NETWORK_SWITCHES_OFFSET = 28;

/** LPM key for a lookup of one address, or for a whole prefix. */
export function networkKey(vni: number, cidr: string): Buffer {
  const c = parseCidr(cidr, 'cidr');
  const b = Buffer.alloc(SIZES.network_key);
  b.writeUInt32LE(32 + c.len, 0);
  b.writeUInt32LE(vni, 4);
  b.writeUInt32BE(c.prefix, 8);
  return b;
}

export function encodeNetwork(r: NetworkRecord): Buffer {
  const c = parseCidr(r.cidr, 'cidr');
  const b = Buffer.alloc(SIZES.network_value);
  b.writeUInt32LE(r.vni, 0);
  b.writeUInt32LE(r.netId, 4);
  b.writeUInt32BE(c.prefix, 8);
  b.writeUInt32LE(c.len, 12);
  b.writeUInt32BE(parseIpv4(r.gatewayIp, 'gatewayIp'), 16);
  parseMac(r.gatewayMac, 'gatewayMac').copy(b, 20);
  writeMembers(b, NETWORK_SWITCHES_OFFSET, r.switches, 'switches');
  return b;
}
export function decodeNetwork(value: Buffer): NetworkRecord {
  const len = value.readUInt32LE(12);
  return {
    vni: value.readUInt32LE(0),
    netId: value.readUInt32LE(4),
    cidr: formatCidr({ prefix: (value.readUInt32BE(8) & maskOf(len)) >>> 0, len }),
    gatewayIp: formatIpv4(value.readUInt32BE(16)),
    gatewayMac: formatMac(value.subarray(20, 26)),
    switches: readMembers(value, NETWORK_SWITCHES_OFFSET),
  };
}

export function endpointKey(vni: number, ip: string): Buffer {
  const b = Buffer.alloc(SIZES.endpoint_key);
  writeEndpointKey(b, 0, vni, ip);
  return b;
}
export function writeEndpointKey(b: Buffer, off: number, vni: number, ip: string): void {
  b.writeUInt32LE(vni, off);
  b.writeUInt32BE(parseIpv4(ip, 'ip'), off + 4);
}
export function decodeEndpointKey(key: Buffer): { vni: number; ip: string } {
  return { vni: key.readUInt32LE(0), ip: formatIpv4(key.readUInt32BE(4)) };
}

export function encodeEndpoint(r: EndpointRecord): Buffer {
  const b = Buffer.alloc(SIZES.endpoint_value);
  writeEndpoint(b, 0, r);
  return b;
}
/** Writes struct endpoint_value at `off` of `b` (which must be zeroed there). */
export function writeEndpoint(b: Buffer, off: number, r: EndpointRecord): void {
  b.writeUInt8(r.type, off);
  b.writeUInt8(r.backends.length, off + 1);
  parseMac(r.mac, 'mac').copy(b, off + 2);
  b.writeUInt32BE(parseIpv4(r.hostIp, 'hostIp'), off + 8);
  parseMac(r.hostMac, 'hostMac').copy(b, off + 12);
  b.writeInt32LE(r.hostedIfindex, off + 20);
  b.writeUInt32LE(r.netId, off + 24);
  r.backends.forEach((ip, i) => b.writeUInt32BE(parseIpv4(ip, `backends[${i}]`), off + 28 + 4 * i));
}

/** Many endpoints in the packed form transitd's PutEndpoints takes. */
export function packEndpoints(records: readonly EndpointRecord[]): { keys: Buffer; values: Buffer } {
  const keys = Buffer.alloc(records.length * SIZES.endpoint_key);
  const values = Buffer.alloc(records.length * SIZES.endpoint_value);
  records.forEach((r, i) => {
    writeEndpointKey(keys, i * SIZES.endpoint_key, r.vni, r.ip);
    writeEndpoint(values, i * SIZES.endpoint_value, r);
  });
  return { keys, values };
}
export function decodeEndpoint(key: Buffer, value: Buffer): EndpointRecord {
  const count = Math.min(value.readUInt8(1), MAX_BACKENDS);
  return {
    ...decodeEndpointKey(key),
    type: value.readUInt8(0) as EndpointType,
    mac: formatMac(value.subarray(2, 8)),
    hostIp: formatIpv4(value.readUInt32BE(8)),
    hostMac: formatMac(value.subarray(12, 18)),
    hostedIfindex: value.readInt32LE(20),
    netId: value.readUInt32LE(24),
    backends: Array.from({ length: count }, (_, i) => formatIpv4(value.readUInt32BE(28 + 4 * i))),
  };
}

export function substrateKey(ip: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(parseIpv4(ip, 'ip'));
  return b;
}
export function encodeSubstrate(r: SubstrateRecord): Buffer {
  const b = Buffer.alloc(SIZES.substrate_value);
  parseMac(r.mac, 'mac').copy(b, 0);
  return b;
}
export function decodeSubstrate(key: Buffer, value: Buffer): SubstrateRecord {
  return { ip: formatIpv4(key.readUInt32BE(0)), mac: formatMac(value.subarray(0, 6)) };
}

export const u32Key = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

export function encodeAgentMeta(r: AgentMeta): Buffer {
  const b = Buffer.alloc(SIZES.agent_meta_value);
  b.writeUInt32LE(r.vni, 0);
  b.writeUInt32BE(parseIpv4(r.ip, 'ip'), 4);
  parseMac(r.mac, 'mac').copy(b, 8);
  b.writeUInt32LE(r.netId, 16);
  return b;
}
export function decodeAgentMeta(value: Buffer): AgentMeta {
  return {
    vni: value.readUInt32LE(0), ip: formatIpv4(value.readUInt32BE(4)),
    mac: formatMac(value.subarray(8, 14)), netId: value.readUInt32LE(16),
  };
}

export function encodeHostConfig(r: HostConfig): Buffer {
  const b = Buffer.alloc(SIZES.host_cfg_value);
  b.writeUInt32BE(parseIpv4(r.ip, 'ip'), 0);
  parseMac(r.mac, 'mac').copy(b, 4);
  b.writeUInt32LE(r.ifindex, 12);
  return b;
}
export function decodeHostConfig(value: Buffer): HostConfig {
  return { ip: formatIpv4(value.readUInt32BE(0)), mac: formatMac(value.subarray(4, 10)), ifindex: value.readUInt32LE(12) };
}

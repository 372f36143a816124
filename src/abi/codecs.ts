// Codecs for the records of native/bpf/xvpc.h, byte for byte, at the offsets
// of layout.ts. IPv4 addresses sit in network byte order (as in packets),
// everything else in host (little-endian) order.
import { formatCidr, formatIpv4, formatMac, maskOf, parseCidr, parseIpv4, parseMac, writeMac } from '../util/addr.js';
import { EndpointType, endpointTypeOf, VPC_F_DIRECT_PATH } from './enums.js';
import {
  AGENT_META_VALUE as AM, ENDPOINT_KEY as EK, ENDPOINT_VALUE as EV, HOST_CACHE_VALUE as HC, HOST_CFG_VALUE as HCFG,
  NETWORK_KEY as NK, NETWORK_VALUE as NV, SUBSTRATE_VALUE as SV, U32_KEY_SIZE, VPC_KEY as VK, VPC_VALUE as VV,
  XVPC_MEMBERS as XM,
} from './layout.js';
import { MAX_BACKENDS, MAX_MEMBERS } from './limits.js';
import { slotTable } from './slot-table.js';
import { invalid } from '../errors.js';

export interface VpcRecord {
  vni: number; routers: string[];
  /** Mizar's direct path: agents send straight to a destination's learned host */
  directPath: boolean;
}
export interface NetworkRecord {
  vni: number; netId: number; cidr: string; gatewayIp: string; gatewayMac: string; switches: string[];
}
export interface EndpointKey { vni: number; ip: string }
export interface EndpointRecord extends EndpointKey {
  type: EndpointType; mac: string;
  /** the host it lives on; 0.0.0.0 and 00:00:00:00:00:00 for a scaled endpoint (it has none) */
  hostIp: string; hostMac: string;
  netId: number; backends: string[];
  /** host-side veth of an endpoint hosted here, else -1 */
  hostedIfindex: number;
}
export interface SubstrateRecord { ip: string; mac: string }
export interface AgentMeta { vni: number; ip: string; mac: string; netId: number }
export interface HostConfig {
  ip: string; mac: string; ifindex: number;
  /** reserved, 0 when absent */
  flags?: number;
}
export interface HostCacheRecord { hostIp: string; hostMac: string }

// --- struct xvpc_members --------------------------------------------------------
function writeMembers(buf: Buffer, off: number, members: readonly string[], field: string): void {
  buf.writeUInt32LE(members.length, off + XM.off.count);
  members.forEach((m, i) => buf.writeUInt32BE(parseIpv4(m, `${field}[${i}]`), off + XM.off.members + 4 * i));
  Buffer.from(slotTable(members)).copy(buf, off + XM.off.slots);
}

/** struct xvpc_members for `members` (scaled_backends: a scaled endpoint's backend IPs). */
export function encodeMembers(members: readonly string[], field: string): Buffer {
  const b = Buffer.alloc(XM.size);
  writeMembers(b, 0, members, field);
  return b;
}

function readMembers(buf: Buffer, off: number): string[] {
  const count = Math.min(buf.readUInt32LE(off + XM.off.count), MAX_MEMBERS);
  return Array.from({ length: count }, (_, i) => formatIpv4(buf.readUInt32BE(off + XM.off.members + 4 * i)));
}

// --- bare u32 keys (array indexes, ifindexes) ----------------------------------------
export const u32Key = (n: number): Buffer => { const b = Buffer.alloc(U32_KEY_SIZE); b.writeUInt32LE(n); return b; };
export const decodeU32Key = (key: Buffer): number => key.readUInt32LE(0);

// --- vpcs ---------------------------------------------------------------------------
export const vpcKey = (vni: number): Buffer => { const b = Buffer.alloc(VK.size); b.writeUInt32LE(vni, VK.off.vni); return b; };

export function encodeVpc(r: VpcRecord): Buffer {
  const b = Buffer.alloc(VV.size);
  writeMembers(b, VV.off.routers, r.routers, 'routers');
  b.writeUInt32LE(r.directPath ? VPC_F_DIRECT_PATH : 0, VV.off.flags);
  return b;
}
export function decodeVpc(key: Buffer, value: Buffer): VpcRecord {
  return {
    vni: key.readUInt32LE(VK.off.vni), routers: readMembers(value, VV.off.routers),
    directPath: (value.readUInt32LE(VV.off.flags) & VPC_F_DIRECT_PATH) !== 0,
  };
}

// --- networks -----------------------------------------------------------------------
/** LPM key for a lookup of one address, or for a whole prefix (prefixlen counts the 32 VNI bits too). */
export function networkKey(vni: number, cidr: string): Buffer {
  const c = parseCidr(cidr, 'cidr');
  const b = Buffer.alloc(NK.size);
  b.writeUInt32LE(32 + c.len, NK.off.prefixlen);
  b.writeUInt32LE(vni, NK.off.vni);
  b.writeUInt32BE(c.prefix, NK.off.ip);
  return b;
}

export function encodeNetwork(r: NetworkRecord): Buffer {
  const c = parseCidr(r.cidr, 'cidr');
  const b = Buffer.alloc(NV.size);
  b.writeUInt32LE(r.vni, NV.off.vni);
  b.writeUInt32LE(r.netId, NV.off.net_id);
  b.writeUInt32BE(c.prefix, NV.off.prefix);
  b.writeUInt32LE(c.len, NV.off.prefixlen);
  b.writeUInt32BE(parseIpv4(r.gatewayIp, 'gatewayIp'), NV.off.gw_ip);
  parseMac(r.gatewayMac, 'gatewayMac').copy(b, NV.off.gw_mac);
  writeMembers(b, NV.off.switches, r.switches, 'switches');
  return b;
}
export function decodeNetwork(value: Buffer): NetworkRecord {
  const len = value.readUInt32LE(NV.off.prefixlen);
  return {
    vni: value.readUInt32LE(NV.off.vni),
    netId: value.readUInt32LE(NV.off.net_id),
    cidr: formatCidr({ prefix: (value.readUInt32BE(NV.off.prefix) & maskOf(len)) >>> 0, len }),
    gatewayIp: formatIpv4(value.readUInt32BE(NV.off.gw_ip)),
    gatewayMac: formatMac(value.subarray(NV.off.gw_mac, NV.off.gw_mac + 6)),
    switches: readMembers(value, NV.off.switches),
  };
}

// --- endpoints ----------------------------------------------------------------------
export function endpointKey(vni: number, ip: string): Buffer {
  const b = Buffer.alloc(EK.size);
  writeEndpointKey(b, 0, vni, ip);
  return b;
}
// Plain byte stores for the endpoint records a batch packs by the million:
// Buffer's write methods check and dispatch on every call (packing 1M records
// took ~1.8x as long with them). Their range checks stay (out of range
// throws; like them, a missing number is written as 0).
function u32(v: number, field: string): number {
  if (v < 0 || v > 0xffffffff) throw invalid(`${field}: ${v} is not an unsigned 32-bit number`);
  return v;
}
function put32be(b: Buffer, off: number, v: number): void {
  b[off] = v >>> 24; b[off + 1] = v >>> 16; b[off + 2] = v >>> 8; b[off + 3] = v;
}
function put32le(b: Buffer, off: number, v: number): void {
  b[off] = v; b[off + 1] = v >>> 8; b[off + 2] = v >>> 16; b[off + 3] = v >>> 24;
}

export function writeEndpointKey(b: Buffer, off: number, vni: number, ip: string): void {
  if (off < 0 || off + EK.size > b.length) throw new RangeError(`endpoint key at ${off}: outside the buffer`);
  put32le(b, off + EK.off.vni, u32(vni, 'vni'));
  put32be(b, off + EK.off.ip, parseIpv4(ip, 'ip'));
}
export function decodeEndpointKey(key: Buffer, off = 0): EndpointKey {
  return { vni: key.readUInt32LE(off + EK.off.vni), ip: formatIpv4(key.readUInt32BE(off + EK.off.ip)) };
}

export function encodeEndpoint(r: EndpointRecord): Buffer {
  const b = Buffer.alloc(EV.size);
  writeEndpoint(b, 0, r);
  return b;
}
/**
 * Host addresses parsed once per string: a batch's records name few hosts, and
 * a host's endpoints share its address strings (the Controller gives each
 * record its host's own `ip` and `mac`), so the map's lookup finds the string's
 * hash already computed. Bounded by the records of one batch.
 */
export class HostAddressCache {
  private readonly ips = new Map<string, number>();
  private readonly macs = new Map<string, Buffer>();

  ip(s: string): number {
    let n = this.ips.get(s);
    if (n === undefined) this.ips.set(s, (n = parseIpv4(s, 'hostIp')));
    return n;
  }

  writeMac(b: Buffer, off: number, s: string): void {
    let m = this.macs.get(s);
    if (m === undefined) this.macs.set(s, (m = parseMac(s, 'hostMac')));
    b[off] = m[0]; b[off + 1] = m[1]; b[off + 2] = m[2]; b[off + 3] = m[3]; b[off + 4] = m[4]; b[off + 5] = m[5];
  }
}

/**
 * Writes the head of struct endpoint_value (every field before `backends`,
 * its padding zeroed) at `off` of `b`; `hosts` parses each host address once.
 */
export function writeEndpointHead(b: Buffer, off: number, r: EndpointRecord, hosts?: HostAddressCache): void {
  if (off < 0 || off + EV.off.backends > b.length) throw new RangeError(`endpoint value at ${off}: outside the buffer`);
  if (r.type < 0 || r.type > 255) throw invalid(`type: ${r.type} is not an endpoint type`);
  if (r.backends.length > MAX_BACKENDS) throw invalid(`backends: at most ${MAX_BACKENDS}, got ${r.backends.length}`);
  if (r.hostedIfindex < -0x80000000 || r.hostedIfindex > 0x7fffffff) throw invalid(`hostedIfindex: ${r.hostedIfindex} is not a signed 32-bit number`);
  b[off + EV.off.type] = r.type;
  b[off + EV.off.backend_count] = r.backends.length;
  writeMac(b, off + EV.off.mac, r.mac, 'mac');
  if (hosts) {
    put32be(b, off + EV.off.host_ip, hosts.ip(r.hostIp));
    hosts.writeMac(b, off + EV.off.host_mac, r.hostMac);
  } else {
    put32be(b, off + EV.off.host_ip, parseIpv4(r.hostIp, 'hostIp'));
    writeMac(b, off + EV.off.host_mac, r.hostMac, 'hostMac');
  }
  b[off + EV.off._pad] = 0;
  b[off + EV.off._pad + 1] = 0;
  put32le(b, off + EV.off.hosted_ifindex, r.hostedIfindex);
  put32le(b, off + EV.off.net_id, u32(r.netId, 'netId'));
}

/** Writes r's backends, network order, at `off` of `b` (4 bytes each). */
export function writeEndpointBackends(b: Buffer, off: number, r: EndpointRecord): void {
  if (off < 0 || off + 4 * r.backends.length > b.length) throw new RangeError(`endpoint backends at ${off}: outside the buffer`);
  for (let i = 0; i < r.backends.length; i++) put32be(b, off + 4 * i, parseIpv4(r.backends[i], `backends[${i}]`));
}

/** Writes struct endpoint_value at `off` of `b` (which must be zeroed there); `hosts` parses each host address once. */
export function writeEndpoint(b: Buffer, off: number, r: EndpointRecord, hosts?: HostAddressCache): void {
  if (off < 0 || off + EV.size > b.length) throw new RangeError(`endpoint value at ${off}: outside the buffer`);
  writeEndpointHead(b, off, r, hosts);
  writeEndpointBackends(b, off + EV.off.backends, r);
}
export function decodeEndpoint(key: Buffer, value: Buffer): EndpointRecord {
  const count = Math.min(value.readUInt8(EV.off.backend_count), MAX_BACKENDS);
  const rawType = value.readUInt8(EV.off.type);
  const type = endpointTypeOf(rawType);
  if (type === undefined) throw new Error(`endpoint_value.type: ${rawType} is not an endpoint type`);
  return {
    vni: key.readUInt32LE(EK.off.vni),
    ip: formatIpv4(key.readUInt32BE(EK.off.ip)),
    type,
    mac: formatMac(value, EV.off.mac),
    hostIp: formatIpv4(value.readUInt32BE(EV.off.host_ip)),
    hostMac: formatMac(value, EV.off.host_mac),
    hostedIfindex: value.readInt32LE(EV.off.hosted_ifindex),
    netId: value.readUInt32LE(EV.off.net_id),
    backends: Array.from({ length: count }, (_, i) => formatIpv4(value.readUInt32BE(EV.off.backends + 4 * i))),
  };
}

// --- substrate ----------------------------------------------------------------------
export function substrateKey(ip: string): Buffer {
  const b = Buffer.alloc(U32_KEY_SIZE);
  b.writeUInt32BE(parseIpv4(ip, 'ip'));
  return b;
}
export function encodeSubstrate(r: SubstrateRecord): Buffer {
  const b = Buffer.alloc(SV.size);
  parseMac(r.mac, 'mac').copy(b, SV.off.mac);
  return b;
}
export function decodeSubstrate(key: Buffer, value: Buffer): SubstrateRecord {
  return { ip: formatIpv4(key.readUInt32BE(0)), mac: formatMac(value.subarray(SV.off.mac, SV.off.mac + 6)) };
}

// --- agent_meta ---------------------------------------------------------------------
export function encodeAgentMeta(r: AgentMeta): Buffer {
  const b = Buffer.alloc(AM.size);
  b.writeUInt32LE(r.vni, AM.off.vni);
  b.writeUInt32BE(parseIpv4(r.ip, 'ip'), AM.off.ip);
  parseMac(r.mac, 'mac').copy(b, AM.off.mac);
  b.writeUInt32LE(r.netId, AM.off.net_id);
  return b;
}
export function decodeAgentMeta(value: Buffer): AgentMeta {
  return {
    vni: value.readUInt32LE(AM.off.vni), ip: formatIpv4(value.readUInt32BE(AM.off.ip)),
    mac: formatMac(value.subarray(AM.off.mac, AM.off.mac + 6)), netId: value.readUInt32LE(AM.off.net_id),
  };
}

// --- host_cfg -----------------------------------------------------------------------
export function encodeHostConfig(r: HostConfig): Buffer {
  const b = Buffer.alloc(HCFG.size);
  b.writeUInt32BE(parseIpv4(r.ip, 'ip'), HCFG.off.ip);
  parseMac(r.mac, 'mac').copy(b, HCFG.off.mac);
  b.writeUInt32LE(r.ifindex, HCFG.off.ifindex);
  b.writeUInt32LE(r.flags ?? 0, HCFG.off.flags);
  return b;
}
export function decodeHostConfig(value: Buffer): HostConfig {
  return {
    ip: formatIpv4(value.readUInt32BE(HCFG.off.ip)), mac: formatMac(value.subarray(HCFG.off.mac, HCFG.off.mac + 6)),
    ifindex: value.readUInt32LE(HCFG.off.ifindex), flags: value.readUInt32LE(HCFG.off.flags),
  };
}

// --- ep_host_cache (direct path) ----------------------------------------------------
export function encodeHostCache(r: HostCacheRecord): Buffer {
  const b = Buffer.alloc(HC.size);
  b.writeUInt32BE(parseIpv4(r.hostIp, 'hostIp'), HC.off.host_ip);
  parseMac(r.hostMac, 'hostMac').copy(b, HC.off.host_mac);
  return b;
}
export function decodeHostCache(value: Buffer): HostCacheRecord {
  return { hostIp: formatIpv4(value.readUInt32BE(HC.off.host_ip)), hostMac: formatMac(value.subarray(HC.off.host_mac, HC.off.host_mac + 6)) };
}

// Request validation for transitd: every message becomes a typed record or an
// INVALID_ARGUMENT that names the offending field. Nothing is written before
// a whole request has passed. Single fields: src/util/check.ts.
import { atField, invalid } from '../errors.js';
import { MAX_ATTACH_PER_CALL } from './limits.js';
import { cidr, ipv4, mac, u32, unicastIpv4, vni } from '../util/check.js';
import { cidrContains, cidrWithin, formatCidr, formatIpv4, isIpv4, maskOf, parseCidr, parseIpv4, parseMac } from '../util/addr.js';
import {
  EndpointType, MAX_BACKENDS, MAX_MEMBERS, MAX_VNI, endpointTypeOf,
  SG_MAX_GROUPS, sgName, sgRules, type SecurityAttachRecord, type SecurityGroupRecord,
  type EndpointKey, type EndpointRecord, type NetworkRecord, type SubstrateRecord, type VpcRecord,
} from '../abi/index.js';
import type * as pb from '../gen/transit.js';

function members(list: unknown, field: string, max = MAX_MEMBERS): string[] {
  if (!Array.isArray(list)) throw invalid(`${field}: must be a list of IPv4 addresses`);
  if (list.length > max) throw invalid(`${field}: at most ${max} entries, got ${list.length}`);
  const out = list.map((ip, i) => unicastIpv4(ip, `${field}[${i}]`));
  const dup = out.find((ip, i) => out.indexOf(ip) !== i);
  if (dup) throw invalid(`${field}: ${dup} is listed twice`);
  return out;
}

export function vpcRecord(m: pb.Vpc): VpcRecord {
  return { vni: vni(m.vni), routers: members(m.routers, 'routers'), directPath: m.directPath === true };
}

export function networkRecord(m: pb.Network): NetworkRecord {
  const r: NetworkRecord = {
    vni: vni(m.vni),
    netId: u32(m.netId, 'net_id'),
    cidr: cidr(m.cidr),
    gatewayIp: ipv4(m.gatewayIp, 'gateway_ip'),
    gatewayMac: mac(m.gatewayMac, 'gateway_mac'),
    switches: members(m.switches, 'switches'),
  };
  const c = parseCidr(r.cidr, 'cidr');
  const gw = parseIpv4(r.gatewayIp, 'gateway_ip');
  const host = (gw & ~maskOf(c.len)) >>> 0;
  if (!cidrContains(c, gw) || host === 0 || (c.len < 31 && host === (~maskOf(c.len)) >>> 0))
    throw invalid(`gateway_ip: ${r.gatewayIp} is not a host address of ${r.cidr}`);
  return r;
}

export function endpointType(v: unknown): EndpointType {
  const type = typeof v === 'number' ? endpointTypeOf(v) : undefined;
  if (type === undefined) throw invalid(`type: ${String(v)} is not an endpoint type`);
  return type;
}

/** hostedIfindex is transitd's to fill in; a request's value is ignored. */
export function endpointRecord(m: pb.Endpoint): EndpointRecord {
  const type = endpointType(m.type);
  const backends = members(m.backends, 'backends', MAX_BACKENDS);
  if (type === EndpointType.SCALED && backends.length === 0) throw invalid('backends: a scaled endpoint needs at least one');
  if (type !== EndpointType.SCALED && backends.length > 0) throw invalid('backends: only a scaled endpoint has backends');
  return {
    vni: vni(m.vni),
    ip: unicastIpv4(m.ip, 'ip'),
    type,
    mac: mac(m.mac, 'mac'),
    hostIp: type === EndpointType.SCALED && (m.hostIp === '' || m.hostIp === '0.0.0.0') ? '0.0.0.0' : unicastIpv4(m.hostIp, 'host_ip'),
    hostMac: m.hostMac === '' && type === EndpointType.SCALED ? '00:00:00:00:00:00' : mac(m.hostMac, 'host_mac'),
    netId: u32(m.netId, 'net_id'),
    backends,
    hostedIfindex: -1,
  };
}

export function substrateRecord(m: pb.Substrate): SubstrateRecord {
  return { ip: unicastIpv4(m.ip, 'ip'), mac: mac(m.mac, 'mac') };
}

export function endpointKey(m: pb.EndpointKey): EndpointKey {
  return { vni: vni(m.vni), ip: ipv4(m.ip, 'ip') };
}

export function networkKey(m: pb.NetworkKey): { vni: number; cidr: string } {
  return { vni: vni(m.vni), cidr: cidr(m.cidr) };
}

export interface AttachRequest {
  vni: number; netId: number; ip: string; mac: string; cidr: string; prefixLen: number;
  gatewayIp: string; hostEndpoint: boolean; mtu: number;
  /** host endpoints: the VPC's CIDR, routed via the gateway ('' = only its own network) */
  vpcCidr: string;
}

/** AttachEndpoints: each request checked (errors name `endpoints[i].field`), no endpoint twice, at most MAX_ATTACH_PER_CALL. */
export function attachRequests(m: pb.AttachEndpointsRequest): AttachRequest[] {
  const list = m.endpoints ?? [];
  if (list.length > MAX_ATTACH_PER_CALL) throw invalid(`endpoints: ${list.length} endpoints; at most ${MAX_ATTACH_PER_CALL} per call`);
  const seen = new Map<string, number>();
  return list.map((e, i) => {
    let req: AttachRequest;
    try {
      req = attachRequest(e);
    } catch (err) {
      throw atField(err, `endpoints[${i}]`);
    }
    const key = `${req.vni}/${req.ip}`;
    const first = seen.get(key);
    if (first !== undefined) throw invalid(`endpoints[${i}]: ${key} is also endpoints[${first}]`);
    seen.set(key, i);
    return req;
  });
}

export function attachRequest(m: pb.AttachEndpointRequest): AttachRequest {
  const net = parseCidr(m.cidr, 'cidr');
  const ipN = parseIpv4(m.ip, 'ip');
  if (!cidrContains(net, ipN)) throw invalid(`ip: ${m.ip} is outside cidr ${m.cidr}`);
  const gw = isIpv4(m.gatewayIp) ? parseIpv4(m.gatewayIp, 'gateway_ip') : NaN;
  if (!cidrContains(net, gw)) throw invalid(`gateway_ip: '${m.gatewayIp}' is not inside cidr ${m.cidr}`);
  if (gw === ipN) throw invalid(`ip: ${m.ip} is the gateway address`);
  const mtu = u32(m.mtu, 'mtu');
  if (mtu !== 0 && (mtu < 576 || mtu > 9000)) throw invalid(`mtu: ${mtu} is outside 576..9000`);
  const vpcCidr = m.vpcCidr ? parseCidr(m.vpcCidr, 'vpc_cidr') : null;
  if (vpcCidr && !cidrWithin(net, vpcCidr)) throw invalid(`vpc_cidr: ${m.vpcCidr} does not contain cidr ${m.cidr}`);
  return {
    vpcCidr: vpcCidr ? formatCidr(vpcCidr) : '',
    vni: vni(m.vni), netId: u32(m.netId, 'net_id'), ip: ipv4(m.ip, 'ip'), mac: mac(m.mac, 'mac'),
    cidr: formatCidr(net), prefixLen: net.len, gatewayIp: formatIpv4(gw), hostEndpoint: Boolean(m.hostEndpoint), mtu,
  };
}

// --- security groups (rules: src/abi/sg-records.ts checks them, once) --------
export function securityGroupRecord(m: pb.SecurityGroup): SecurityGroupRecord {
  const strip = (list: pb.SecurityRule[] | undefined) =>
    (list ?? []).map((r) => ({ protocol: r.protocol, ...(r.cidr ? { cidr: r.cidr } : {}), ...(r.ports ? { ports: r.ports } : {}) }));
  const { ingress, egress } = sgRules(strip(m.ingress), strip(m.egress));
  return { id: u32(m.id, 'id'), vni: vni(m.vni), name: sgName(m.name), ingress, egress };
}

export function securityAttachRecord(m: pb.SecurityAttachment): SecurityAttachRecord {
  const groups = m.groups ?? [];
  if (groups.length > SG_MAX_GROUPS) throw invalid(`groups: ${groups.length}; an endpoint has at most ${SG_MAX_GROUPS}`);
  const ids = groups.map((g, i) => u32(g, `groups[${i}]`));
  const dup = ids.find((g, i) => ids.indexOf(g) !== i);
  if (dup !== undefined) throw invalid(`groups: ${dup} is listed twice`);
  return { vni: vni(m.vni), ip: ipv4(m.ip, 'ip'), groups: ids };
}

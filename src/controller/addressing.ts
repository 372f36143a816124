// Addresses the controller derives rather than asks for: endpoint and gateway
// MACs (locally administered, unique per VNI byte + IP), gateway IPs.
import { formatIpv4, parseCidr } from '../util/addr.js';

function macFrom(firstByte: number, vni: number, ip: string): string {
  const bytes = [firstByte, vni & 0xff, ...ip.split('.').map(Number)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** 0e:vv:a:b:c:d: locally administered unicast. */
export const endpointMac = (vni: number, ip: string): string => macFrom(0x0e, vni, ip);

/** 0a:vv:a:b:c:d for a network's gateway address. */
export const gatewayMac = (vni: number, gatewayIp: string): string => macFrom(0x0a, vni, gatewayIp);

/** A network's gateway is its first host address, as in most clouds. */
export function gatewayIp(cidr: string): string {
  const c = parseCidr(cidr, 'cidr');
  return formatIpv4(c.prefix + 1);
}

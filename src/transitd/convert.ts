// Typed records -> gRPC messages (requests go the other way through validate.ts).
import { EndpointType, sgRuleFilled, type EndpointRecord, type NetworkRecord, type SecurityGroupRecord, type VpcRecord } from '../abi/index.js';
import { EndpointType as PbEndpointType, type Endpoint, type Network, type SecurityGroup, type Vpc } from '../gen/transit.js';

export const toVpc = (r: VpcRecord): Vpc => ({ vni: r.vni, routers: r.routers, directPath: r.directPath });

export const toNetwork = (r: NetworkRecord): Network => ({
  vni: r.vni, netId: r.netId, cidr: r.cidr, gatewayIp: r.gatewayIp, gatewayMac: r.gatewayMac, switches: r.switches,
});

/** The kernel's endpoint types as the proto names them (same names, same numbers). */
const PB_TYPE: Record<EndpointType, PbEndpointType> = {
  [EndpointType.SIMPLE]: PbEndpointType.SIMPLE,
  [EndpointType.SCALED]: PbEndpointType.SCALED,
  [EndpointType.HOST]: PbEndpointType.HOST,
  [EndpointType.GATEWAY]: PbEndpointType.GATEWAY,
};

export const toEndpoint = (r: EndpointRecord): Endpoint => ({
  vni: r.vni, ip: r.ip, type: PB_TYPE[r.type], mac: r.mac, hostIp: r.hostIp, hostMac: r.hostMac,
  netId: r.netId, backends: r.backends, hostedIfindex: r.hostedIfindex,
});

export const toSecurityGroup = (r: SecurityGroupRecord): SecurityGroup => ({
  id: r.id, vni: r.vni, name: r.name, ingress: r.ingress.map(sgRuleFilled), egress: r.egress.map(sgRuleFilled),
});

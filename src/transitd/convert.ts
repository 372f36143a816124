// Typed records -> gRPC messages (requests go the other way through validate.ts).
import { EndpointType as PbEndpointType, type Endpoint, type Network, type Vpc } from '../gen/transit.js';
import type { EndpointRecord, NetworkRecord, VpcRecord } from '../dataplane/records.js';

export const toVpc = (r: VpcRecord): Vpc => ({ vni: r.vni, routers: r.routers, directPath: r.directPath });

export const toNetwork = (r: NetworkRecord): Network => ({
  vni: r.vni, netId: r.netId, cidr: r.cidr, gatewayIp: r.gatewayIp, gatewayMac: r.gatewayMac, switches: r.switches,
});

export const toEndpoint = (r: EndpointRecord): Endpoint => ({
  vni: r.vni, ip: r.ip, type: r.type as number as PbEndpointType, mac: r.mac, hostIp: r.hostIp, hostMac: r.hostMac,
  netId: r.netId, backends: r.backends, hostedIfindex: r.hostedIfindex,
});

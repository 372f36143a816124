// What every host's maps and plumbing should hold, derived from the model.
// This is the cascade of DESIGN.md in one place:
//   substrate  -> every host (each must reach the others' MACs)
//   vpc        -> its routers and every holder of its networks (agents and
//                 transit read its direct-path flag)
//   network    -> its switches, its VPC's routers, the hosts of its endpoints
//   endpoint   -> its network's switches and its own host (plus attachment there);
//                 a scaled endpoint's backends also to the scaled endpoint's switches
//   security group -> the hosts of the endpoints it is attached to, with each
//                 endpoint's group list (security-groups.ts)
// Endpoints are kept as the kernel's records (src/abi): they travel packed
// (PutEndpoints), so model -> record -> bytes, with nothing in between.
import { EndpointType, endpointRecordKey, networkRecordKey, type EndpointRecord } from '../abi/index.js';
import type { AttachEndpointRequest, Network, SecurityAttachment, SecurityGroup, Substrate, Vpc } from '../transitd/client.js';
import { gatewayIp, gatewayMac } from './addressing.js';
import { Model, type EndpointModel } from './model.js';
import { securityGoals } from './security-groups.js';

export interface HostAddress { ip: string; mac: string }

export interface HostGoal {
  substrate: Map<string, Substrate>;
  vpcs: Map<string, Vpc>;
  networks: Map<string, Network>;
  endpoints: Map<string, EndpointRecord>;
  attachments: Map<string, AttachEndpointRequest>;
  /** by group id */
  securityGroups: Map<string, SecurityGroup>;
  /** by endpoint key: the groups of an endpoint hosted there */
  securityAttachments: Map<string, SecurityAttachment>;
}

export const emptyGoal = (): HostGoal => ({
  substrate: new Map(), vpcs: new Map(), networks: new Map(), endpoints: new Map(), attachments: new Map(),
  securityGroups: new Map(), securityAttachments: new Map(),
});

export function desiredState(model: Model, hosts: Record<string, HostAddress>): Map<string, HostGoal> {
  const goals = new Map<string, HostGoal>(Object.keys(hosts).map((h) => [h, emptyGoal()]));
  const goal = (host: string): HostGoal => goals.get(host)!;
  const ipsOf = (names: string[]) => names.map((n) => hosts[n].ip);

  const substrate = Object.values(hosts).map((h) => ({ ip: h.ip, mac: h.mac }));
  for (const g of goals.values()) for (const s of substrate) g.substrate.set(s.ip, s);

  const vpcRecords = new Map<number, Vpc>();
  for (const vpc of model.vpcs.values()) {
    const record: Vpc = { vni: vpc.vni, routers: ipsOf(vpc.routers), directPath: vpc.directPath };
    vpcRecords.set(vpc.vni, record);
    for (const h of vpc.routers) goal(h).vpcs.set(String(vpc.vni), record);
  }

  // Each network's endpoints in the model's order, with the model's own keys
  // (endpointRecordKey strings, already hashed): one walk over 100k endpoints,
  // not one filter of all of them per network nor a new key string for each.
  const byNet = new Map<string, [string, EndpointModel][]>();
  for (const net of model.networks.values()) byNet.set(Model.netKey(net.vni, net.netId), []);
  for (const entry of model.endpoints) byNet.get(Model.netKey(entry[1].vni, entry[1].netId))?.push(entry);

  const endpointRecords = new Map<string, EndpointRecord>();
  for (const net of model.networks.values()) {
    const gwIp = gatewayIp(net.cidr);
    const record: Network = {
      vni: net.vni, netId: net.netId, cidr: net.cidr, gatewayIp: gwIp, gatewayMac: gatewayMac(net.vni, gwIp),
      switches: ipsOf(net.switches),
    };
    const endpoints = byNet.get(Model.netKey(net.vni, net.netId))!;
    const holders = new Set([...net.switches, ...(model.vpcs.get(net.vni)?.routers ?? [])]);
    for (const [, ep] of endpoints) if (ep.host) holders.add(ep.host);
    for (const h of holders) goal(h).networks.set(networkRecordKey(record), record);
    const vpcRecord = vpcRecords.get(net.vni);
    if (vpcRecord) for (const h of holders) goal(h).vpcs.set(String(net.vni), vpcRecord);
    const switchGoals = net.switches.map(goal);

    for (const [key, ep] of endpoints) {
      const host = ep.host ? hosts[ep.host] : undefined;
      const epRecord: EndpointRecord = {
        vni: ep.vni, ip: ep.ip, type: ep.type, mac: ep.mac,
        hostIp: host?.ip ?? '0.0.0.0', hostMac: host?.mac ?? '00:00:00:00:00:00', // a scaled endpoint has no host
        netId: ep.netId, backends: ep.backends, hostedIfindex: -1,
      };
      endpointRecords.set(key, epRecord);
      for (const g of switchGoals) g.endpoints.set(key, epRecord);
      if (ep.host) {
        goal(ep.host).endpoints.set(key, epRecord);
        goal(ep.host).attachments.set(key, {
          vni: ep.vni, netId: ep.netId, ip: ep.ip, mac: ep.mac, cidr: net.cidr, gatewayIp: gwIp,
          hostEndpoint: ep.type === EndpointType.HOST, mtu: 0,
          vpcCidr: ep.type === EndpointType.HOST ? (model.vpcs.get(ep.vni)?.cidr ?? '') : '',
        });
      }
    }
  }
  // A scaled endpoint's switches pick among its backends, so they must know
  // every backend, whichever network of the VPC it is in.
  for (const ep of model.endpoints.values()) {
    if (ep.type !== EndpointType.SCALED) continue;
    const net = model.networks.get(Model.netKey(ep.vni, ep.netId));
    for (const ip of ep.backends) {
      const key = endpointRecordKey({ vni: ep.vni, ip });
      const record = endpointRecords.get(key);
      if (record && net) for (const s of net.switches) goal(s).endpoints.set(key, record);
    }
  }
  for (const [host, sg] of securityGoals(model)) {
    goal(host).securityGroups = sg.groups;
    goal(host).securityAttachments = sg.attachments;
  }
  return goals;
}

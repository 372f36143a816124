// The controller's desired state: VPCs, their networks and endpoints, with
// hosts named by droplet id.
import type { EndpointType, SecurityRule } from '../abi/index.js';
import { copyJson } from '../util/json-value.js';

export interface VpcModel {
  vni: number; cidr: string; routers: string[];
  /** Mizar's direct path (on unless createVpc said directPath: false) */
  directPath: boolean;
}
export interface NetworkModel { vni: number; netId: number; cidr: string; switches: string[] }
export interface EndpointModel {
  vni: number; netId: number; ip: string; mac: string; type: EndpointType;
  /** droplet hosting it; absent for a scaled endpoint */
  host?: string;
  /** scaled endpoints: backend IPs (endpoints of the same VPC) */
  backends: string[];
  /** simple and host endpoints: names of the security groups attached (none: allow all) */
  securityGroups?: string[];
}
/** A security group: unique by name in its VPC; id: the hosts' name for it (security-groups.ts). */
export interface SecurityGroupModel { id: number; vni: number; name: string; ingress: SecurityRule[]; egress: SecurityRule[] }

export class Model {
  readonly vpcs = new Map<number, VpcModel>();
  readonly networks = new Map<string, NetworkModel>(); // key: vni/netId
  readonly endpoints = new Map<string, EndpointModel>(); // key: endpointRecordKey (src/abi)
  readonly securityGroups = new Map<string, SecurityGroupModel>(); // key: Model.sgKey

  static sgKey(vni: number, name: string): string { return `${vni}/${name}`; }

  static netKey(vni: number, netId: number): string { return `${vni}/${netId}`; }

  networksOf(vni: number): NetworkModel[] { return [...this.networks.values()].filter((n) => n.vni === vni); }
  endpointsOf(vni: number, netId?: number): EndpointModel[] {
    return [...this.endpoints.values()].filter((e) => e.vni === vni && (netId === undefined || e.netId === netId));
  }

  clone(): Model {
    const m = new Model();
    // copyJson, not structuredClone: the model is plain JSON values, and this runs once per batch of calls.
    for (const [k, v] of this.vpcs) m.vpcs.set(k, copyJson(v));
    for (const [k, v] of this.networks) m.networks.set(k, copyJson(v));
    for (const [k, v] of this.endpoints) m.endpoints.set(k, copyJson(v));
    for (const [k, v] of this.securityGroups) m.securityGroups.set(k, copyJson(v));
    return m;
  }
}

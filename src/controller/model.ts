// The controller's desired state: VPCs, their networks and endpoints, with
// hosts named by droplet id.
import type { EndpointType } from '../abi/index.js';

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
}

export class Model {
  readonly vpcs = new Map<number, VpcModel>();
  readonly networks = new Map<string, NetworkModel>(); // key: vni/netId
  readonly endpoints = new Map<string, EndpointModel>(); // key: endpointRecordKey (src/abi)

  static netKey(vni: number, netId: number): string { return `${vni}/${netId}`; }

  networksOf(vni: number): NetworkModel[] { return [...this.networks.values()].filter((n) => n.vni === vni); }
  endpointsOf(vni: number, netId?: number): EndpointModel[] {
    return [...this.endpoints.values()].filter((e) => e.vni === vni && (netId === undefined || e.netId === netId));
  }

  clone(): Model {
    const m = new Model();
    for (const [k, v] of this.vpcs) m.vpcs.set(k, structuredClone(v));
    for (const [k, v] of this.networks) m.networks.set(k, structuredClone(v));
    for (const [k, v] of this.endpoints) m.endpoints.set(k, structuredClone(v));
    return m;
  }
}

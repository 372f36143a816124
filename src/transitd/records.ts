// The record kinds transitd serves (VPC, network, endpoint, substrate,
// security group, an endpoint's security groups),
// one table row each: how a request is validated, how errors name a record,
// how a record goes back on the wire. service.ts builds Create/Update/Get/
// Delete<Kind> from it, goal-state.ts and Dump walk it; the map side of each
// kind is src/abi/record-kinds.ts.
import {
  endpointRecordKey, networkRecordKey,
  type EndpointRecord, type KeyOf, type RecordKindName, type RecordOf, type SecurityAttachRecord, type SecurityGroupKey, type SecurityGroupRecord,
} from '../abi/index.js';
import type { HostDataplane, WriteMode } from '../dataplane/host.js';
import type * as pb from '../gen/transit.js';
import { toEndpoint, toNetwork, toSecurityGroup, toVpc } from './convert.js';
import * as v from './validate.js';
import * as check from '../util/check.js';
import { failedPrecondition } from '../errors.js';

/** kind -> [its message, its key message] in proto/transit.proto */
export interface KindMessages {
  vpcs: [pb.Vpc, pb.VpcKey];
  networks: [pb.Network, pb.NetworkKey];
  endpoints: [pb.Endpoint, pb.EndpointKey];
  substrate: [pb.Substrate, pb.SubstrateKey];
  sg_groups: [pb.SecurityGroup, pb.SecurityGroupKey];
  sg_attach: [pb.SecurityAttachment, pb.EndpointKey];
}

export interface TransitKind<N extends RecordKindName> {
  /** the gRPC methods' suffix: Create<method>, Update<method>, Get<method>, Delete<method> */
  method: string;
  /** how messages name one record: "vpc 5", "network 5/10.0.0.0/24" */
  describe(k: KeyOf<N>): string;
  /** a request's record, validated (INVALID_ARGUMENT names the field) */
  record(m: KindMessages[N][0]): RecordOf<N>;
  /** a request's key, validated */
  key(m: KindMessages[N][1]): KeyOf<N>;
  toMessage(r: RecordOf<N>): KindMessages[N][0];
}

export const TRANSIT_KINDS: { [N in RecordKindName]: TransitKind<N> } = {
  vpcs: {
    method: 'Vpc', describe: (k) => `vpc ${k.vni}`,
    record: v.vpcRecord, key: (m: pb.VpcKey) => ({ vni: check.vni(m.vni) }), toMessage: toVpc,
  },
  networks: {
    method: 'Network', describe: (k) => `network ${networkRecordKey(k)}`,
    record: v.networkRecord, key: v.networkKey, toMessage: toNetwork,
  },
  endpoints: {
    method: 'Endpoint', describe: (k) => `endpoint ${endpointRecordKey(k)}`,
    record: v.endpointRecord, key: v.endpointKey, toMessage: toEndpoint,
  },
  substrate: {
    method: 'Substrate', describe: (k) => `substrate ${k.ip}`,
    record: v.substrateRecord, key: (m: pb.SubstrateKey) => ({ ip: check.ipv4(m.ip, 'ip') }), toMessage: (r) => r,
  },
  sg_groups: {
    method: 'SecurityGroup', describe: (k) => `security group ${k.id}`,
    record: v.securityGroupRecord, key: (m: pb.SecurityGroupKey) => ({ id: check.u32(m.id, 'id') }), toMessage: toSecurityGroup,
  },
  sg_attach: {
    method: 'SecurityAttachment', describe: (k) => `security attachment ${endpointRecordKey(k)}`,
    record: v.securityAttachRecord, key: v.endpointKey, toMessage: (r) => r,
  },
};

/**
 * This host's records as transitd writes them: the same as HostDataplane's,
 * except that an endpoint gets the ifindex of its veth if it lives here
 * (requests never carry one).
 */
export class HostRecords {
  private readonly prepare: { [N in RecordKindName]?: (r: RecordOf<N>) => RecordOf<N> } = {
    endpoints: (r: EndpointRecord) => ({ ...r, hostedIfindex: r.hostIp === this.hostIp ? this.hostedIfindex(r) : -1 }),
  };

  constructor(readonly dp: HostDataplane, private readonly hostIp: string) {}

  /** ifindex of the veth serving (vni, ip) on this host, or -1. */
  hostedIfindex(k: { vni: number; ip: string }): number {
    return this.dp.hostedIfindexes().get(endpointRecordKey(k)) ?? -1;
  }

  put<N extends RecordKindName>(kind: N, r: RecordOf<N>, mode: WriteMode = 'upsert'): void {
    if (kind === 'sg_attach') this.checkAttachment(r as SecurityAttachRecord);
    if (kind === 'sg_groups') this.checkGroupMove(r as SecurityGroupRecord);
    const prepare = this.prepare[kind] as ((r: RecordOf<N>) => RecordOf<N>) | undefined;
    this.dp.put(kind, prepare ? prepare(r) : r, mode);
  }
  get<N extends RecordKindName>(kind: N, k: KeyOf<N>): RecordOf<N> | null { return this.dp.get(kind, k); }
  delete<N extends RecordKindName>(kind: N, k: KeyOf<N>): boolean {
    if (kind === 'sg_groups') this.checkGroupUnused((k as SecurityGroupKey).id, 'deleted');
    return this.dp.delete(kind, k);
  }

  // A security attachment points only at groups this host holds, of the
  // endpoint's own VPC; a group leaves (or moves to another VPC) only once
  // nothing here attaches it. Otherwise the endpoint would drop everything
  // (the data path fails closed on a group it cannot find) with no error to
  // say why. Checked at the write, so a goal state may bring a group and what
  // attaches it together (groups are written first, deleted last).
  private checkAttachment(a: SecurityAttachRecord): void {
    for (const id of a.groups) {
      const g = this.dp.get('sg_groups', { id });
      const at = `security attachment ${endpointRecordKey(a)}`;
      if (!g) throw failedPrecondition(`${at}: security group ${id} is not on this host (put the group first)`);
      if (g.vni !== a.vni) throw failedPrecondition(`${at}: security group ${id} belongs to vni ${g.vni}, not ${a.vni}`);
    }
  }

  private checkGroupMove(g: SecurityGroupRecord): void {
    const old = this.dp.get('sg_groups', { id: g.id });
    if (old && old.vni !== g.vni) this.checkGroupUnused(g.id, `moved to vni ${g.vni}`);
  }

  private checkGroupUnused(id: number, what: string): void {
    const user = this.dp.list('sg_attach').find((a) => a.groups.includes(id));
    if (user) throw failedPrecondition(`security group ${id} cannot be ${what}: endpoint ${endpointRecordKey(user)} has it attached`);
  }
  list<N extends RecordKindName>(kind: N): RecordOf<N>[] { return this.dp.list(kind); }
}

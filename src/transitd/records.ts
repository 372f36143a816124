// The record kinds transitd serves (VPC, network, endpoint, substrate,
// security group, an endpoint's security groups),
// one table row each: how a request is validated, how errors name a record,
// how a record goes back on the wire. service.ts builds Create/Update/Get/
// Delete<Kind> from it, goal-state.ts and Dump walk it; the map side of each
// kind is src/abi/record-kinds.ts.
import {
  endpointRecordKey, networkRecordKey,
  type EndpointRecord, type KeyOf, type RecordKindName, type RecordOf, type SecurityAttachRecord, type SecurityGroupRecord,
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

/** A change of a host's security records, validated (HostRecords.checkSecurityChange). */
export interface SecurityChange {
  groups: SecurityGroupRecord[];
  attachments: SecurityAttachRecord[];
  deleteGroups: number[];
  deleteAttachments: { vni: number; ip: string }[];
  /** how errors name the attachments' list ('security_attachments' in a goal state; '' for one record) */
  attachmentsField: string;
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
    const prepare = this.prepare[kind] as ((r: RecordOf<N>) => RecordOf<N>) | undefined;
    this.dp.put(kind, prepare ? prepare(r) : r, mode);
  }
  get<N extends RecordKindName>(kind: N, k: KeyOf<N>): RecordOf<N> | null { return this.dp.get(kind, k); }
  delete<N extends RecordKindName>(kind: N, k: KeyOf<N>): boolean { return this.dp.delete(kind, k); }

  /**
   * A change of security records leaves every attachment it writes naming
   * groups this host holds, of the endpoint's own VPC, and deletes no group
   * an attachment still names: else the endpoint would drop everything (the
   * data path fails closed on a group it cannot find) with no error to say
   * why. Judged on the state the whole change leaves, before any write, so
   * a goal state may bring a group with what attaches it, or take both away.
   * Attachments it does not write are not judged: a host may hold a stale one
   * (its group's id given to a group of another VPC) until the controller's
   * next deletions take it away. FAILED_PRECONDITION naming the record.
   */
  checkSecurityChange(c: SecurityChange): void {
    if (c.attachments.length === 0 && c.deleteGroups.length === 0) return;
    const groups = new Map(this.dp.list('sg_groups').map((g) => [g.id, g.vni]));
    for (const g of c.groups) groups.set(g.id, g.vni);
    for (const id of c.deleteGroups) groups.delete(id);
    const removed = new Set(c.deleteAttachments.map(endpointRecordKey));
    c.attachments.forEach((a, i) => {
      if (removed.has(endpointRecordKey(a))) return;
      const at = () => `${c.attachmentsField}${c.attachmentsField ? `[${i}]: ` : ''}security attachment ${endpointRecordKey(a)}`;
      for (const id of a.groups) {
        const vni = groups.get(id);
        if (vni === undefined) throw failedPrecondition(`${at()}: security group ${id} is not on this host (put the group first, or with it)`);
        if (vni !== a.vni) throw failedPrecondition(`${at()}: security group ${id} belongs to vni ${vni}, not ${a.vni}`);
      }
    });
    if (c.deleteGroups.length === 0) return;
    const after = new Map(this.dp.list('sg_attach').map((a) => [endpointRecordKey(a), a]));
    for (const a of c.attachments) after.set(endpointRecordKey(a), a);
    for (const k of removed) after.delete(k);
    for (const id of c.deleteGroups) {
      const user = [...after.values()].find((a) => a.groups.includes(id));
      if (user) throw failedPrecondition(`security group ${id} cannot be deleted: endpoint ${endpointRecordKey(user)} has it attached`);
    }
  }

  list<N extends RecordKindName>(kind: N): RecordOf<N>[] { return this.dp.list(kind); }
}

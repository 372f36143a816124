// What a host holds, from its DumpPacked, in the shape of a HostGoal, so the
// Reconciler can diff it against what the host should hold. Records are
// built field by field with desired.ts's fields (the Reconciler compares them
// as JSON values, util/json-value.ts). Endpoint records come packed: one that
// holds exactly what the host should hold is kept as the desired record itself
// (compared as bytes: nothing decoded, and the diff's sameJson sees the same
// object); only records that differ are decoded. Attachments are what transitd
// says is attached (an agent on a veth that is there), with or without its
// record; from a transitd that does not say, an endpoint record with a hosted
// ifindex on its own host.
import { batchCount, batchEndpoint, batchEndpointHostIp, batchEndpointKey, batchHostedIfindex, batchValueIs, endpointRecordKey, networkRecordKey,
  ENDPOINT_VALUE, type EndpointRecord } from '../abi/index.js';
import type { AttachEndpointRequest, PackedDump } from '../transitd/client.js';
import { emptyGoal, type HostGoal } from './desired.js';
import { changed, gone } from './reconcile.js';
import { parseIpv4 } from '../util/addr.js';
import { XvpcError } from '../errors.js';

export function observedGoal(packed: PackedDump, hostIp: string, want: HostGoal): HostGoal {
  const dump = packed.records;
  if (!dump) throw new XvpcError('INTERNAL', 'DumpPacked: the answer holds no records');
  const g = emptyGoal();
  for (const s of dump.substrate) g.substrate.set(s.ip, { ip: s.ip, mac: s.mac });
  for (const v of dump.vpcs) g.vpcs.set(String(v.vni), { vni: v.vni, routers: [...v.routers], directPath: v.directPath });
  for (const n of dump.networks) {
    g.networks.set(networkRecordKey(n), {
      vni: n.vni, netId: n.netId, cidr: n.cidr, gatewayIp: n.gatewayIp, gatewayMac: n.gatewayMac, switches: [...n.switches],
    });
  }
  // A view of the reply's bytes, not a copy; no endpoints: the field may be absent.
  const view = (b: Uint8Array | undefined) => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.alloc(0));
  const batch = { keys: view(packed.endpoints?.keys), values: view(packed.endpoints?.values) };
  const here = parseIpv4(hostIp, 'host ip');
  const scratch = Buffer.alloc(ENDPOINT_VALUE.size);
  for (let i = 0, n = batchCount(batch); i < n; i++) {
    const key = endpointRecordKey(batchEndpointKey(batch.keys, i));
    const wanted = want.endpoints.get(key);
    const record = wanted && batchValueIs(batch.values, i, wanted, scratch) ? wanted : { ...batchEndpoint(batch, i), hostedIfindex: -1 };
    g.endpoints.set(key, record);
    // An older transitd does not say which are attached: a record with a hosted ifindex on its own host is.
    if (!packed.attachedKnown && batchEndpointHostIp(batch.values, i) === here && batchHostedIfindex(batch.values, i) >= 0) {
      g.attachments.set(key, want.attachments.get(key) ?? orphanAttachment(record));
    }
  }
  // What transitd says is attached (its agents' entries with their veth there), record or not.
  if (packed.attachedKnown) {
    for (const k of packed.attached) {
      const key = endpointRecordKey(k);
      g.attachments.set(key, want.attachments.get(key) ?? orphanAttachment({ vni: k.vni, ip: k.ip, netId: 0, mac: '' }));
    }
  }
  // Groups and attachments are kept as the messages desired.ts builds, so the Dump's are kept as they are.
  for (const s of dump.securityGroups) g.securityGroups.set(String(s.id), s);
  for (const a of dump.securityAttachments) g.securityAttachments.set(endpointRecordKey(a), a);
  return g;
}

/** An attachment the host has and the model does not: enough to detach it. */
const orphanAttachment = (e: Pick<EndpointRecord, 'vni' | 'ip' | 'netId' | 'mac'>): AttachEndpointRequest => ({
  vni: e.vni, netId: e.netId, ip: e.ip, mac: e.mac, cidr: '', gatewayIp: '', hostEndpoint: false, mtu: 0, vpcCidr: '',
});

/**
 * How many records and attachments differ between what a host should hold and
 * what it holds: what the Reconciler would send or delete (an attachment by
 * presence alone).
 */
export function countDrift(want: HostGoal, have: HostGoal): number {
  let n = 0;
  for (const kind of ['substrate', 'vpcs', 'networks', 'endpoints', 'attachments', 'securityGroups', 'securityAttachments'] as const) {
    const w = want[kind] as Map<string, unknown>;
    const h = have[kind] as Map<string, unknown>;
    n += (kind === 'attachments' ? gone(h, w).length : changed(w, h).length) + gone(w, h).length;
  }
  return n;
}

/** How many records and attachments a host should hold. */
export const goalSize = (g: HostGoal): number =>
  g.substrate.size + g.vpcs.size + g.networks.size + g.endpoints.size + g.attachments.size +
  g.securityGroups.size + g.securityAttachments.size;

// What a host holds, read from its DumpPacked (src/controller/observe.ts):
// endpoint records come packed; one that holds what the host should hold is
// kept as the desired record itself, one that differs is decoded, one the host
// should not hold is decoded too, and an endpoint record on its own host with
// a hosted ifindex is an attachment. countDrift counts exactly the differences.
import { describe, expect, it } from 'vitest';
import { EndpointType, endpointRecordKey, packEndpoints, type EndpointRecord } from '../../src/abi/index.js';
import { desiredState } from '../../src/controller/desired.js';
import { Model } from '../../src/controller/model.js';
import { countDrift, observedGoal } from '../../src/controller/observe.js';
import { endpointMac } from '../../src/controller/addressing.js';
import type { GoalState, PackedDump } from '../../src/transitd/client.js';

const HOSTS = {
  a: { ip: '172.30.0.1', mac: '02:00:00:00:00:01' },
  s: { ip: '172.30.0.2', mac: '02:00:00:00:00:02' },
};

/** VPC 5, network 1 (switch s) with simple endpoints .2 and .3 on a and a scaled endpoint over .2. */
function model(): Model {
  const m = new Model();
  m.vpcs.set(5, { vni: 5, cidr: '10.5.0.0/16', routers: [], directPath: true });
  m.networks.set(Model.netKey(5, 1), { vni: 5, netId: 1, cidr: '10.5.1.0/24', switches: ['s'] });
  const ep = (ip: string, type: EndpointType, host?: string, backends: string[] = []) =>
    m.endpoints.set(endpointRecordKey({ vni: 5, ip }), { vni: 5, netId: 1, ip, mac: endpointMac(5, ip), type, host, backends });
  ep('10.5.1.2', EndpointType.SIMPLE, 'a');
  ep('10.5.1.3', EndpointType.SIMPLE, 'a');
  ep('10.5.1.10', EndpointType.SCALED, undefined, ['10.5.1.2']);
  return m;
}

const noRecords = (): GoalState => ({
  substrate: [], vpcs: [], networks: [], endpoints: [],
  deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
  securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
});

/** A DumpPacked answer holding `records` with these hosted ifindexes (by ip; the rest -1). */
function dumpOf(records: EndpointRecord[], hosted: Record<string, number> = {}): PackedDump {
  const batch = packEndpoints(records.map((r) => ({ ...r, hostedIfindex: hosted[r.ip] ?? -1 })));
  return { records: noRecords(), endpoints: batch };
}

describe('observedGoal from a packed dump', () => {
  const desired = desiredState(model(), HOSTS);
  const wantS = desired.get('s')!;
  const wantA = desired.get('a')!;
  const key = (ip: string) => endpointRecordKey({ vni: 5, ip });

  it('records the host holds as wanted are the desired records themselves; nothing differs', () => {
    const have = observedGoal(dumpOf([...wantS.endpoints.values()]), HOSTS.s.ip, wantS);
    expect(have.endpoints.size).toBe(3);
    for (const [k, r] of wantS.endpoints) expect(have.endpoints.get(k)).toBe(r);
    expect(have.attachments.size).toBe(0); // a switch hosts none of them
    expect(countDrift(wantS, { ...have, substrate: wantS.substrate, vpcs: wantS.vpcs, networks: wantS.networks })).toBe(0);
  });

  it('a record that differs is decoded (hosted ifindex -1, as desired ones have it) and counted; so is one not wanted', () => {
    const moved = { ...wantS.endpoints.get(key('10.5.1.3'))!, hostIp: '172.30.0.9' };
    const stray: EndpointRecord = { ...moved, ip: '10.5.1.77', mac: endpointMac(5, '10.5.1.77') };
    const have = observedGoal(dumpOf([wantS.endpoints.get(key('10.5.1.2'))!, moved, wantS.endpoints.get(key('10.5.1.10'))!, stray]), HOSTS.s.ip, wantS);
    expect(have.endpoints.get(key('10.5.1.3'))).toEqual({ ...moved, hostedIfindex: -1 });
    expect(have.endpoints.get(key('10.5.1.3'))).not.toBe(wantS.endpoints.get(key('10.5.1.3')));
    expect(have.endpoints.get(key('10.5.1.77'))).toEqual({ ...stray, hostedIfindex: -1 });
    expect(have.endpoints.get(key('10.5.1.2'))).toBe(wantS.endpoints.get(key('10.5.1.2')));
    // one changed, one to delete
    expect(countDrift(wantS, { ...have, substrate: wantS.substrate, vpcs: wantS.vpcs, networks: wantS.networks })).toBe(2);
  });

  it('an endpoint record on its own host with a hosted ifindex is attached there; without one it is not', () => {
    const records = [...wantA.endpoints.values()];
    const have = observedGoal(dumpOf(records, { '10.5.1.2': 12 }), HOSTS.a.ip, wantA);
    expect([...have.attachments.keys()]).toEqual([key('10.5.1.2')]);
    expect(have.attachments.get(key('10.5.1.2'))).toBe(wantA.attachments.get(key('10.5.1.2')));
    // the hosted ifindex is the host's to fill: the record still matches the desired one
    expect(have.endpoints.get(key('10.5.1.2'))).toBe(wantA.endpoints.get(key('10.5.1.2')));
    expect(countDrift(wantA, { ...have, substrate: wantA.substrate, vpcs: wantA.vpcs, networks: wantA.networks })).toBe(1); // .3 not attached
  });

  it('an attached endpoint the model does not know is an orphan attachment, enough to detach it', () => {
    const orphan: EndpointRecord = { ...wantA.endpoints.get(key('10.5.1.2'))!, ip: '10.5.1.50', mac: endpointMac(5, '10.5.1.50') };
    const have = observedGoal(dumpOf([orphan], { '10.5.1.50': 14 }), HOSTS.a.ip, wantA);
    expect(have.attachments.get(key('10.5.1.50'))).toMatchObject({ vni: 5, netId: 1, ip: '10.5.1.50', mac: orphan.mac });
  });

  it('a dump without its endpoints field holds no endpoints; one without records is an error', () => {
    expect(observedGoal({ records: noRecords() }, HOSTS.s.ip, wantS).endpoints.size).toBe(0);
    expect(() => observedGoal({}, HOSTS.s.ip, wantS)).toThrow(/DumpPacked: the answer holds no records/);
  });

  it('an empty dump holds nothing', () => {
    const have = observedGoal({ records: noRecords(), endpoints: { keys: Buffer.alloc(0), values: Buffer.alloc(0) } }, HOSTS.s.ip, wantS);
    expect(have.endpoints.size).toBe(0);
  });
});

// The desired-state cascade (src/controller/desired.ts): which host gets
// which record as VPCs, networks, endpoints, switches and routers come and go.
import { describe, expect, it } from 'vitest';
import { EndpointType, endpointRecordKey } from '../../src/abi/index.js';
import { desiredState, type HostGoal } from '../../src/controller/desired.js';
import { Model } from '../../src/controller/model.js';
import { endpointMac, gatewayMac } from '../../src/controller/addressing.js';

const HOSTS = {
  a: { ip: '172.30.0.1', mac: '02:00:00:00:00:01' },
  b: { ip: '172.30.0.2', mac: '02:00:00:00:00:02' },
  c: { ip: '172.30.0.3', mac: '02:00:00:00:00:03' },
  d: { ip: '172.30.0.4', mac: '02:00:00:00:00:04' },
};

/** VPC 5 (router d); network 1 (switch c) with e1 on a and host endpoint e2 on b; network 2 (switch b) with a scaled endpoint over e1. */
function model(): Model {
  const m = new Model();
  m.vpcs.set(5, { vni: 5, cidr: '10.5.0.0/16', routers: ['d'], directPath: true });
  m.networks.set(Model.netKey(5, 1), { vni: 5, netId: 1, cidr: '10.5.1.0/24', switches: ['c'] });
  m.networks.set(Model.netKey(5, 2), { vni: 5, netId: 2, cidr: '10.5.2.0/24', switches: ['b'] });
  const ep = (netId: number, ip: string, type: EndpointType, host?: string, backends: string[] = []) =>
    m.endpoints.set(endpointRecordKey({ vni: 5, ip }), { vni: 5, netId, ip, mac: endpointMac(5, ip), type, host, backends });
  ep(1, '10.5.1.2', EndpointType.SIMPLE, 'a');
  ep(1, '10.5.1.3', EndpointType.HOST, 'b');
  ep(2, '10.5.2.10', EndpointType.SCALED, undefined, ['10.5.1.2']);
  return m;
}

const keys = (goals: Map<string, HostGoal>, kind: keyof HostGoal) =>
  Object.fromEntries([...goals].map(([h, g]) => [h, [...g[kind].keys()].sort()]));

describe('desired state', () => {
  it('substrate goes to every host, even with nothing else', () => {
    const goals = desiredState(new Model(), HOSTS);
    for (const g of goals.values()) expect([...g.substrate.values()]).toEqual(Object.values(HOSTS));
    expect(keys(goals, 'vpcs')).toEqual({ a: [], b: [], c: [], d: [] });
  });

  it('a VPC goes to its routers, its networks\' switches and its endpoints\' hosts (their agents read its direct-path flag)', () => {
    const goals = desiredState(model(), HOSTS);
    expect(keys(goals, 'vpcs')).toEqual({ a: ['5'], b: ['5'], c: ['5'], d: ['5'] });
    expect(goals.get('d')!.vpcs.get('5')).toEqual({ vni: 5, routers: [HOSTS.d.ip], directPath: true });
  });

  it('a network goes to its switches, its VPC\'s routers and its endpoints\' hosts', () => {
    const goals = desiredState(model(), HOSTS);
    expect(keys(goals, 'networks')).toEqual({
      a: ['5/10.5.1.0/24'], b: ['5/10.5.1.0/24', '5/10.5.2.0/24'], c: ['5/10.5.1.0/24'], d: ['5/10.5.1.0/24', '5/10.5.2.0/24'],
    });
    expect(goals.get('a')!.networks.get('5/10.5.1.0/24')).toEqual({
      vni: 5, netId: 1, cidr: '10.5.1.0/24', gatewayIp: '10.5.1.1', gatewayMac: gatewayMac(5, '10.5.1.1'), switches: [HOSTS.c.ip],
    });
  });

  it('an endpoint goes to its network\'s switches and its host; a backend also to its scaled endpoint\'s switches', () => {
    const goals = desiredState(model(), HOSTS);
    expect(keys(goals, 'endpoints')).toEqual({
      a: ['5/10.5.1.2'],
      b: ['5/10.5.1.2', '5/10.5.1.3', '5/10.5.2.10'], // e2's host; switch of network 2 (the scaled endpoint and its backend)
      c: ['5/10.5.1.2', '5/10.5.1.3'],                // switch of network 1
      d: [],                                          // a router only
    });
    expect(goals.get('c')!.endpoints.get('5/10.5.1.2')).toEqual({
      vni: 5, ip: '10.5.1.2', type: EndpointType.SIMPLE, mac: endpointMac(5, '10.5.1.2'), hostIp: HOSTS.a.ip, hostMac: HOSTS.a.mac,
      netId: 1, backends: [], hostedIfindex: -1,
    });
    // A scaled endpoint lives on no host.
    expect(goals.get('b')!.endpoints.get('5/10.5.2.10')).toMatchObject({
      type: EndpointType.SCALED, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', backends: ['10.5.1.2'],
    });
  });

  it('an endpoint with a host is attached there, and only there', () => {
    const goals = desiredState(model(), HOSTS);
    expect(keys(goals, 'attachments')).toEqual({ a: ['5/10.5.1.2'], b: ['5/10.5.1.3'], c: [], d: [] });
    expect(goals.get('a')!.attachments.get('5/10.5.1.2')).toEqual({
      vni: 5, netId: 1, ip: '10.5.1.2', mac: endpointMac(5, '10.5.1.2'), cidr: '10.5.1.0/24', gatewayIp: '10.5.1.1', hostEndpoint: false, mtu: 0,
      vpcCidr: '',
    });
    // A host endpoint gets a route to its whole VPC.
    expect(goals.get('b')!.attachments.get('5/10.5.1.3')).toMatchObject({ hostEndpoint: true, vpcCidr: '10.5.0.0/16' });
  });

  it('adding a switch brings the VPC and the network\'s endpoints to it', () => {
    const m = model();
    m.networks.get(Model.netKey(5, 1))!.switches.push('a');
    const goals = desiredState(m, HOSTS);
    expect(keys(goals, 'vpcs').a).toEqual(['5']);
    expect(keys(goals, 'endpoints').a).toEqual(['5/10.5.1.2', '5/10.5.1.3']);
    expect(goals.get('b')!.networks.get('5/10.5.1.0/24')!.switches).toEqual([HOSTS.c.ip, HOSTS.a.ip]);
  });

  it('removing a router takes the VPC off it unless it is a switch too', () => {
    const m = model();
    m.vpcs.get(5)!.routers = [];
    const goals = desiredState(m, HOSTS);
    expect(keys(goals, 'vpcs')).toEqual({ a: ['5'], b: ['5'], c: ['5'], d: [] });
    expect(keys(goals, 'networks').d).toEqual([]);
  });

  it('deleting an endpoint takes it off every host and detaches it', () => {
    const m = model();
    m.endpoints.delete('5/10.5.1.3');
    const goals = desiredState(m, HOSTS);
    for (const g of goals.values()) expect(g.endpoints.has('5/10.5.1.3')).toBe(false);
    expect(keys(goals, 'attachments').b).toEqual([]);
    // b no longer hosts an endpoint of network 1, but is still network 2's switch.
    expect(keys(goals, 'networks').b).toEqual(['5/10.5.2.0/24']);
  });

  it('a VPC\'s records go with it; substrate stays', () => {
    const m = model();
    for (const k of [...m.endpoints.keys()]) m.endpoints.delete(k);
    for (const k of [...m.networks.keys()]) m.networks.delete(k);
    m.vpcs.delete(5);
    const goals = desiredState(m, HOSTS);
    for (const kind of ['vpcs', 'networks', 'endpoints', 'attachments'] as const) {
      expect(keys(goals, kind)).toEqual({ a: [], b: [], c: [], d: [] });
    }
    expect(goals.get('a')!.substrate.size).toBe(4);
  });
});

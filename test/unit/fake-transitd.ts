// A stand-in for one host's transitd: a plain object implementing the
// client interface that records every call (in one log shared by all hosts,
// so tests can check the order across hosts) and answers like transitd would.
import { Buffer } from 'node:buffer';
import { unpackEndpoints, type EndpointRecord } from '../../src/abi/index.js';
import type { TransitdClient } from '../../src/transitd/client.js';
import { XvpcError } from '../../src/errors.js';

export interface Call {
  host: string;
  method: string;
  req: unknown;
  /** putEndpoints: the packed records, decoded */
  records?: EndpointRecord[];
}

const emptyGoalState = () => ({
  substrate: [], vpcs: [], networks: [], endpoints: [],
  deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
  securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
});

export function fakeTransitd(name: string, log: Call[], opts: { fail?: (method: string) => XvpcError | undefined } = {}): TransitdClient {
  const call = <Req, Res>(method: string, reply: (req: Req) => Res) => async (req: Req): Promise<Res> => {
    const err = opts.fail?.(method);
    if (err) throw err;
    log.push({ host: name, method, req: structuredClone(req) });
    return reply(req);
  };
  const empty = () => ({});
  return {
    name,
    close: () => undefined,
    health: call('health', () => ({ host: name, ip: '', mac: '', pid: 0, transitLoaded: true })),
    loadTransit: call('loadTransit', empty),
    unloadTransit: call('unloadTransit', empty),
    getStats: call('getStats', () => ({ counters: {} })),
    attachEndpoint: call('attachEndpoint', (r: { vni: number; ip: string }) => ({ netns: `ns-${r.vni}-${r.ip}`, veth: 'veth0', ifindex: 7 })),
    attachEndpoints: call('attachEndpoints', (r: { endpoints: { vni: number; ip: string }[] }) => ({
      endpoints: r.endpoints.map((e) => ({ netns: `ns-${e.vni}-${e.ip}`, veth: 'veth0', ifindex: 7 })),
    })),
    detachEndpoint: call('detachEndpoint', empty),
    createVpc: call('createVpc', empty),
    updateVpc: call('updateVpc', empty),
    getVpc: call('getVpc', () => ({ vni: 0, routers: [], directPath: false })),
    deleteVpc: call('deleteVpc', empty),
    createNetwork: call('createNetwork', empty),
    updateNetwork: call('updateNetwork', empty),
    getNetwork: call('getNetwork', () => ({ vni: 0, netId: 0, cidr: '', gatewayIp: '', gatewayMac: '', switches: [] })),
    deleteNetwork: call('deleteNetwork', empty),
    createEndpoint: call('createEndpoint', empty),
    updateEndpoint: call('updateEndpoint', empty),
    getEndpoint: call('getEndpoint', () => ({ vni: 0, ip: '', type: 0, mac: '', hostIp: '', hostMac: '', netId: 0, backends: [], hostedIfindex: -1 })),
    deleteEndpoint: call('deleteEndpoint', empty),
    createSubstrate: call('createSubstrate', empty),
    updateSubstrate: call('updateSubstrate', empty),
    getSubstrate: call('getSubstrate', () => ({ ip: '', mac: '' })),
    deleteSubstrate: call('deleteSubstrate', empty),
    createSecurityGroup: call('createSecurityGroup', empty),
    updateSecurityGroup: call('updateSecurityGroup', empty),
    getSecurityGroup: call('getSecurityGroup', () => ({ id: 0, vni: 0, name: '', ingress: [], egress: [] })),
    deleteSecurityGroup: call('deleteSecurityGroup', empty),
    createSecurityAttachment: call('createSecurityAttachment', empty),
    updateSecurityAttachment: call('updateSecurityAttachment', empty),
    getSecurityAttachment: call('getSecurityAttachment', () => ({ vni: 0, ip: '', groups: [] })),
    deleteSecurityAttachment: call('deleteSecurityAttachment', empty),
    putEndpoints: async (req) => {
      const err = opts.fail?.('putEndpoints');
      if (err) throw err;
      const batch = { keys: Buffer.from(req.keys), values: Buffer.from(req.values) };
      log.push({ host: name, method: 'putEndpoints', req, records: unpackEndpoints(batch) });
      return {};
    },
    applyGoalState: call('applyGoalState', empty),
    flushHostCache: call('flushHostCache', empty),
    getFailedCalls: call('getFailedCalls', () => ({ total: 0, last: [] })),
    dump: call('dump', emptyGoalState),
    dumpPacked: call('dumpPacked', () => ({ records: emptyGoalState(), endpoints: { keys: Buffer.alloc(0), values: Buffer.alloc(0) } })),
  };
}

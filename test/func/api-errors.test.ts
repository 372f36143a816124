// Bad input is rejected with the right code, names the culprit, and changes
// nothing: through the Controller and straight at transitd over gRPC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import { connectTransitd, type TransitdClient } from '../../src/transitd/client.js';
import * as grpc from '@grpc/grpc-js';
import { ENDPOINT_VALUE, EndpointType, compactEndpointValues, packEndpoints } from '../../src/abi/index.js';
import { TransitService } from '../../src/gen/transit.js';
import { XvpcError } from '../../src/errors.js';
import type { Droplet } from '../../src/droplet/index.js';
import { MAX_ATTACH_PER_CALL } from '../../src/transitd/limits.js';
import { endpointMac } from '../../src/controller/addressing.js';
import { formatIpv4 } from '../../src/util/addr.js';
import { listNamespaces } from '../../src/util/netns.js';
import { endpointNames } from '../../src/transitd/plumbing.js';
import { delta, destroyDroplets, expectFailedCalls, expectPing, makeDroplets, snapshot } from './lib.js';

async function rejects(p: Promise<unknown>, code: XvpcError['code'], message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a rejection').toBeInstanceOf(XvpcError);
  expect((err as XvpcError).code).toBe(code);
  expect((err as XvpcError).message).toMatch(message);
}

describe('API validation', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let transitd: TransitdClient;

  /** A call transitd refuses on purpose: the harness expects it among h1's failed calls. */
  const refusedByTransitd = (p: Promise<unknown>, code: XvpcError['code'], message: RegExp) => {
    expectFailedCalls(droplets.h1, 1);
    return rejects(p, code, message);
  };

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2'], 'fe');
    c = new Controller(droplets);
    transitd = connectTransitd('h1', droplets.h1.transitdAddress);
    await c.createVpc({ vni: 50, cidr: '10.50.0.0/16', routers: [] });
    await c.createNetwork({ vni: 50, netId: 1, cidr: '10.50.1.0/24', switches: ['h1'] });
  });

  afterAll(async () => {
    transitd?.close();
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('the controller rejects what the contract says, naming the field', async () => {
    await rejects(c.createVpc({ vni: 50, cidr: '10.50.0.0/16', routers: [] }), 'ALREADY_EXISTS', /vni: VPC 50 already exists/);
    await rejects(c.createVpc({ vni: 0, cidr: '10.0.0.0/16', routers: [] }), 'INVALID_ARGUMENT', /vni/);
    await rejects(c.createVpc({ vni: 51, cidr: '10.0.0.0/33', routers: [] }), 'INVALID_ARGUMENT', /cidr/);
    await rejects(c.createVpc({ vni: 51, cidr: '10.0.0.1/16', routers: [] }), 'INVALID_ARGUMENT', /cidr: .* host bits/);
    await rejects(c.createVpc({ vni: 51, cidr: '10.0.0.0/16', routers: ['nope'] }), 'NOT_FOUND', /routers\[0\]: no droplet named 'nope'/);
    await rejects(c.createNetwork({ vni: 99, netId: 1, cidr: '10.0.0.0/24', switches: ['h1'] }), 'NOT_FOUND', /vni: no VPC with VNI 99/);
    await rejects(c.createNetwork({ vni: 50, netId: 1, cidr: '10.50.9.0/24', switches: ['h1'] }), 'ALREADY_EXISTS', /netId/);
    await rejects(c.createNetwork({ vni: 50, netId: 2, cidr: '10.60.0.0/24', switches: ['h1'] }), 'INVALID_ARGUMENT', /cidr: .* not inside/);
    await rejects(c.createNetwork({ vni: 50, netId: 2, cidr: '10.50.1.128/25', switches: ['h1'] }), 'INVALID_ARGUMENT', /overlaps/);
    await rejects(c.createNetwork({ vni: 50, netId: 2, cidr: 'ten/8', switches: ['h1'] }), 'INVALID_ARGUMENT', /cidr/);
    await rejects(c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.2.5', host: 'h1' }), 'INVALID_ARGUMENT', /ip: 10.50.2.5 is outside/);
    await rejects(c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.1', host: 'h1' }), 'INVALID_ARGUMENT', /gateway/);
    await rejects(c.createSimpleEndpoint({ vni: 50, netId: 7, ip: '10.50.1.5', host: 'h1' }), 'NOT_FOUND', /netId/);
    await rejects(c.createSimpleEndpoint({ vni: 77, netId: 1, ip: '10.50.1.5', host: 'h1' }), 'NOT_FOUND', /vni/);
    await rejects(c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.5', host: 'ghost' }), 'NOT_FOUND', /host: no droplet named 'ghost'/);
    await rejects(c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.999', host: 'h1' }), 'INVALID_ARGUMENT', /ip/);
    await rejects(c.deleteSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.77' }), 'NOT_FOUND', /no endpoint 10.50.1.77/);
    await rejects(c.removeSwitch({ vni: 50, netId: 1, switch: 'h1' }), 'FAILED_PRECONDITION', /last switch/);
    await rejects(c.removeRouter({ vni: 50, router: 'h2' }), 'NOT_FOUND', /not a router/);
    await rejects(c.addSwitch({ vni: 50, netId: 1, switch: 'h1' }), 'ALREADY_EXISTS', /already a switch/);
    await rejects((c.createVpc as (a: unknown) => Promise<void>)(null), 'INVALID_ARGUMENT', /expected an object/);
  });

  it('address space no endpoint can have, the hosts\' own addresses, and backends that would dangle are refused', async () => {
    const before = await c.counts();
    // VPCs over 0/8, loopback, multicast or 240/4, or over a host's underlay address.
    for (const cidr of ['0.0.0.0/0', '0.0.0.0/16', '127.0.0.0/16', '224.0.0.0/24', '255.255.255.0/24']) {
      await rejects(c.createVpc({ vni: 52, cidr, routers: [] }), 'INVALID_ARGUMENT', /cidr: .* overlaps .* where no endpoint's address can come from/);
    }
    const underlay = `${droplets.h1.ip.split('.').slice(0, 3).join('.')}.0/24`;
    await rejects(c.createVpc({ vni: 52, cidr: underlay, routers: [] }), 'INVALID_ARGUMENT', new RegExp(`holds h\\d's underlay address`));
    // A backend of a scaled endpoint in another network: its network is not deleted under it.
    await c.createNetwork({ vni: 50, netId: 2, cidr: '10.50.2.0/24', switches: ['h1'] });
    const b = await c.createSimpleEndpoint({ vni: 50, netId: 2, ip: '10.50.2.6', host: 'h2' });
    await c.createScaledEndpoint({ vni: 50, netId: 1, ip: '10.50.1.100', backends: [b] });
    await rejects(c.deleteNetwork({ vni: 50, netId: 2 }), 'FAILED_PRECONDITION', /network 2's endpoint 10\.50\.2\.6 is a backend of scaled endpoint 10\.50\.1\.100/);
    // Another VPC's handle does not pick this VPC's endpoint of the same address.
    await c.createVpc({ vni: 53, cidr: '10.50.0.0/16', routers: [] });
    await c.createNetwork({ vni: 53, netId: 2, cidr: '10.50.2.0/24', switches: ['h1'] });
    const other = await c.createSimpleEndpoint({ vni: 53, netId: 2, ip: '10.50.2.6', host: 'h1' });
    await rejects(c.updateScaledEndpoint({ vni: 50, netId: 1, ip: '10.50.1.100', backends: [other] }), 'INVALID_ARGUMENT', /backends\[0\]: an endpoint of VPC 53, not of VPC 50/);
    await c.deleteVpc({ vni: 53 });
    await c.deleteSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.100' });
    await c.deleteNetwork({ vni: 50, netId: 2 });
    expect(await c.counts()).toEqual(before);
  });

  it('a call right after a host\'s transitd is back goes through (its channel does not wait out its backoff first)', async () => {
    await c.checkHosts();
    await droplets.h2.stopTransitd();
    // Down long enough for the Controller's channel to back off to its longest wait.
    await rejects(c.checkHosts(), 'UNAVAILABLE', /h2: transitd does not answer/);
    await new Promise((r) => setTimeout(r, 3000));
    await droplets.h2.startTransitd();
    expect((await c.checkHosts()).differ).toBe(0);
    const ep = await c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.40', host: 'h2' });
    await c.deleteSimpleEndpoint({ vni: 50, netId: 1, ip: ep.ip });
    // The handle outlives its endpoint: what it runs is refused, not run somewhere else.
    await rejects(ep.run(['true']), 'NOT_FOUND', /endpoint 50\/10\.50\.1\.40: its namespace .* on h2 is gone/);
    await rejects(ep.ping('10.50.1.2'), 'NOT_FOUND', /is gone/);
  });

  it('a duplicate endpoint is ALREADY_EXISTS and the first one keeps working', async () => {
    const a = await c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.2', host: 'h1' });
    const b = await c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.3', host: 'h2' });
    await rejects(c.createSimpleEndpoint({ vni: 50, netId: 1, ip: '10.50.1.2', host: 'h2' }), 'ALREADY_EXISTS', /10.50.1.2 already exists/);
    const before = await snapshot([droplets.h2]);
    await expectPing(a, b.ip, 2);
    expect(delta(before[0], (await snapshot([droplets.h2]))[0], 'decap')).toBeGreaterThanOrEqual(2);
  });

  it('transitd answers INVALID_ARGUMENT naming the field and writes nothing', async () => {
    const before = await transitd.dump({});
    await refusedByTransitd(transitd.createVpc({ vni: 1 << 24, routers: [] }), 'INVALID_ARGUMENT', /vni/);
    await refusedByTransitd(transitd.createVpc({ vni: 5, routers: ['1.2.3'] }), 'INVALID_ARGUMENT', /routers\[0\]/);
    await refusedByTransitd(transitd.createNetwork({ vni: 5, netId: 1, cidr: '10.0.0.0/24', gatewayIp: '10.0.1.1', gatewayMac: '0a:00:00:00:00:01', switches: [] }),
      'INVALID_ARGUMENT', /gateway_ip/);
    await refusedByTransitd(transitd.createNetwork({ vni: 5, netId: 1, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', gatewayMac: '01:00:00:00:00:01', switches: [] }),
      'INVALID_ARGUMENT', /gateway_mac: .* multicast/);
    await refusedByTransitd(transitd.createEndpoint({ vni: 5, ip: '10.0.0.2', type: 9 as never, mac: '0e:00:00:00:00:02', hostIp: '172.30.0.2', hostMac: '0a:00:00:00:00:01', netId: 1, backends: [], hostedIfindex: 0 }),
      'INVALID_ARGUMENT', /type/);
    await refusedByTransitd(transitd.attachEndpoint({ vni: 5, netId: 1, ip: '10.0.9.2', mac: '0e:00:00:00:00:02', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', hostEndpoint: false, mtu: 0, vpcCidr: '' }),
      'INVALID_ARGUMENT', /ip: 10.0.9.2 is outside/);
    await refusedByTransitd(transitd.getEndpoint({ vni: 5, ip: '10.0.0.2' }), 'NOT_FOUND', /does not exist/);
    await refusedByTransitd(transitd.createSubstrate({ ip: droplets.h2.ip, mac: droplets.h2.mac }), 'ALREADY_EXISTS', /substrate/);
    await refusedByTransitd(transitd.updateSubstrate({ ip: '172.30.99.99', mac: '0a:00:00:00:00:01' }), 'NOT_FOUND', /substrate 172.30.99.99/);
    await refusedByTransitd(transitd.getSubstrate({ ip: '172.30.99.99' }), 'NOT_FOUND', /substrate 172.30.99.99/);
    await refusedByTransitd(transitd.loadTransit({ interface: 'eth0; rm -rf /', mode: 'native' }), 'INVALID_ARGUMENT', /interface/);
    expect(await transitd.dump({})).toEqual(before);
    expect(await transitd.getSubstrate({ ip: droplets.h2.ip })).toEqual({ ip: droplets.h2.ip, mac: droplets.h2.mac });
  });

  it('a goal state with one bad record is rejected whole', async () => {
    const before = await transitd.dump({});
    await refusedByTransitd(transitd.applyGoalState({
      substrate: [{ ip: '172.30.9.9', mac: '0a:00:00:00:09:09' }],
      vpcs: [{ vni: 60, routers: [] }],
      networks: [],
      endpoints: [{ vni: 60, ip: '10.60.0.2', type: 0, mac: 'zz', hostIp: '172.30.0.2', hostMac: '0a:00:00:00:00:01', netId: 1, backends: [], hostedIfindex: 0 }],
      deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
      securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
    }), 'INVALID_ARGUMENT', /endpoints\[0\]\.mac/);
    expect(await transitd.dump({})).toEqual(before);
  });

  it('a goal state applies whole and is idempotent', async () => {
    const goal = {
      substrate: [{ ip: '172.30.9.9', mac: '0a:00:00:00:09:09' }],
      vpcs: [{ vni: 61, routers: ['172.30.9.9'] }],
      networks: [{ vni: 61, netId: 1, cidr: '10.61.0.0/24', gatewayIp: '10.61.0.1', gatewayMac: '0a:3d:0a:3d:00:01', switches: ['172.30.9.9'] }],
      endpoints: [{ vni: 61, ip: '10.61.0.2', type: 0, mac: '0e:3d:0a:3d:00:02', hostIp: '172.30.9.9', hostMac: '0a:00:00:00:09:09', netId: 1, backends: [], hostedIfindex: 0 }],
      deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
      securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
    };
    await transitd.applyGoalState(goal);
    const once = await transitd.dump({});
    await transitd.applyGoalState(goal);
    expect(await transitd.dump({})).toEqual(once);
    expect(await transitd.getEndpoint({ vni: 61, ip: '10.61.0.2' })).toMatchObject({ hostIp: '172.30.9.9', hostedIfindex: -1 });
    await transitd.applyGoalState({
      substrate: [], vpcs: [], networks: [], endpoints: [],
      deleteSubstrate: [{ ip: '172.30.9.9' }], deleteVpcs: [{ vni: 61 }], deleteNetworks: [{ vni: 61, cidr: '10.61.0.0/24' }],
      deleteEndpoints: [{ vni: 61, ip: '10.61.0.2' }],
      securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
    });
    await refusedByTransitd(transitd.getVpc({ vni: 61 }), 'NOT_FOUND', /vpc 61/);
  });

  it('a security attachment names only groups the host holds, of its VPC; an attached group stays', async () => {
    const empty = {
      substrate: [], vpcs: [], networks: [], endpoints: [], securityGroups: [], securityAttachments: [],
      deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
    };
    const group = (id: number, vni: number) => ({ id, vni, name: `g${id}`, ingress: [{ protocol: 'tcp', cidr: '', ports: '80' }], egress: [] });
    const before = await transitd.dump({});
    // A group this host does not hold: refused, nothing written (the endpoint would drop everything).
    await refusedByTransitd(transitd.createSecurityAttachment({ vni: 62, ip: '10.62.0.2', groups: [901] }),
      'FAILED_PRECONDITION', /security attachment 62\/10\.62\.0\.2: security group 901 is not on this host/);
    // In a goal state, with other records: refused before anything is written.
    await refusedByTransitd(transitd.applyGoalState({ ...empty, vpcs: [{ vni: 62, routers: [] }], securityAttachments: [{ vni: 62, ip: '10.62.0.2', groups: [901] }] }),
      'FAILED_PRECONDITION', /security_attachments\[0\]: security attachment 62\/10\.62\.0\.2: security group 901 is not on this host/);
    expect(await transitd.dump({})).toEqual(before);

    // The group and what attaches it in one goal state: taken (groups are written first).
    await transitd.applyGoalState({ ...empty, securityGroups: [group(901, 62), group(902, 63)], securityAttachments: [{ vni: 62, ip: '10.62.0.2', groups: [901] }] });
    expect(await transitd.getSecurityAttachment({ vni: 62, ip: '10.62.0.2' })).toEqual({ vni: 62, ip: '10.62.0.2', groups: [901] });
    // A group of another VPC.
    await refusedByTransitd(transitd.updateSecurityAttachment({ vni: 62, ip: '10.62.0.2', groups: [901, 902] }),
      'FAILED_PRECONDITION', /security group 902 belongs to vni 63, not 62/);
    // An attached group is not deleted, alone or in a goal state that keeps what attaches it.
    await refusedByTransitd(transitd.deleteSecurityGroup({ id: 901 }), 'FAILED_PRECONDITION', /security group 901 cannot be deleted: endpoint 62\/10\.62\.0\.2 has it attached/);
    await refusedByTransitd(transitd.applyGoalState({ ...empty, deleteSecurityGroups: [{ id: 901 }] }), 'FAILED_PRECONDITION', /security group 901 cannot be deleted/);
    await refusedByTransitd(transitd.deleteSecurityGroup({ id: 999 }), 'NOT_FOUND', /security group 999 does not exist/);
    expect(await transitd.getSecurityAttachment({ vni: 62, ip: '10.62.0.2' })).toEqual({ vni: 62, ip: '10.62.0.2', groups: [901] });

    // A group's id given to a group of another VPC while a stale attachment still names it (the
    // controller reuses ids; its deletions come in a later goal state): taken, so it converges.
    await transitd.applyGoalState({ ...empty, securityGroups: [group(901, 63)], securityAttachments: [{ vni: 63, ip: '10.63.0.2', groups: [901] }] });
    expect((await transitd.getSecurityGroup({ id: 901 })).vni).toBe(63);

    // Attachments and their groups deleted together: taken (judged on what the goal state leaves).
    await transitd.applyGoalState({
      ...empty, deleteSecurityAttachments: [{ vni: 62, ip: '10.62.0.2' }, { vni: 63, ip: '10.63.0.2' }], deleteSecurityGroups: [{ id: 901 }, { id: 902 }],
    });
    expect(await transitd.dump({})).toEqual(before);
  });

  it('PutEndpoints writes a packed batch whole, or rejects it naming the record and field', async () => {
    const records = Array.from({ length: 300 }, (_, i) => ({
      vni: 62, ip: `10.62.${i >> 7}.${(i & 127) + 1}`, type: EndpointType.SIMPLE, mac: '0e:3e:00:00:00:01',
      hostIp: '172.30.9.9', hostMac: '0a:00:00:00:09:09', netId: 1, backends: [], hostedIfindex: 0,
    }));
    const bad = packEndpoints(records);
    bad.values[250 * ENDPOINT_VALUE.size + ENDPOINT_VALUE.off.mac] = 0x01; // records[250].mac: multicast
    const before = await transitd.dump({});
    await refusedByTransitd(transitd.putEndpoints(bad), 'INVALID_ARGUMENT', /records\[250\]\.mac/);
    await refusedByTransitd(transitd.putEndpoints({ keys: Buffer.alloc(7), values: Buffer.alloc(0) }), 'INVALID_ARGUMENT', /keys/);
    // The compact wire form (every client of this release sends it): malformed, or beside the kernel's layout.
    const good = packEndpoints(records);
    const compact = compactEndpointValues(good.values, records.length);
    await refusedByTransitd(transitd.putEndpoints({ keys: good.keys, values: Buffer.alloc(0), compact: { heads: compact.heads.subarray(28), backends: compact.backends } }),
      'INVALID_ARGUMENT', /compact\.heads: 8372 bytes, want 300 x 28/);
    await refusedByTransitd(transitd.putEndpoints({ keys: good.keys, values: Buffer.alloc(0), compact: { heads: compact.heads, backends: Buffer.alloc(4) } }),
      'INVALID_ARGUMENT', /compact\.backends: 4 bytes, the heads count 0/);
    await refusedByTransitd(transitd.putEndpoints({ keys: good.keys, values: good.values, compact }), 'INVALID_ARGUMENT', /values and compact/);
    // keys without values: what a transitd from before the compact form answers every compact batch; the client says why
    await refusedByTransitd(transitd.putEndpoints({ keys: good.keys, values: Buffer.alloc(0) }), 'INVALID_ARGUMENT',
      /values: 0 bytes, want 300 x 92 \(a transitd older than this client: upgrade transitd first/);
    expect(await transitd.dump({})).toEqual(before);

    // The kernel's layout, as a client from before the compact form sends it (the generated encoder): taken as it is.
    const OldClient = grpc.makeGenericClientConstructor(TransitService, 'xvpc.Transit');
    const old = new OldClient(droplets.h1.transitdAddress, grpc.credentials.createInsecure());
    try {
      const put = (batch: { keys: Buffer; values: Buffer }) => new Promise<void>((resolve, reject) =>
        old.putEndpoints(batch, (err: grpc.ServiceError | null) => (err ? reject(err) : resolve())));
      expectFailedCalls(droplets.h1, 1);
      await expect(put(bad)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/records\[250\]\.mac/) });
      await put(good);
    } finally {
      old.close();
    }
    expect((await transitd.dump({})).endpoints.filter((e) => e.vni === 62)).toHaveLength(300);

    await transitd.putEndpoints(packEndpoints(records));
    await transitd.putEndpoints(packEndpoints(records)); // idempotent
    const after = await transitd.dump({});
    expect(after.endpoints.filter((e) => e.vni === 62)).toHaveLength(300);
    expect(await transitd.getEndpoint({ vni: 62, ip: '10.62.1.44' })).toMatchObject({ hostIp: '172.30.9.9', hostedIfindex: -1 });
    await transitd.applyGoalState({
      substrate: [], vpcs: [], networks: [], endpoints: [], deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [],
      deleteEndpoints: records.map((r) => ({ vni: r.vni, ip: r.ip })),
      securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
    });
  });

  it('AttachEndpoints takes a batch whole or refuses it whole: no namespace, veth or record is left', async () => {
    const h1 = droplets.h1;
    const attach = (ip: string, over: Record<string, unknown> = {}) => ({
      vni: 50, netId: 1, ip, mac: endpointMac(50, ip), cidr: '10.50.1.0/24', gatewayIp: '10.50.1.1', hostEndpoint: false, mtu: 0, vpcCidr: '', ...over,
    });
    const batch = Array.from({ length: 6 }, (_, i) => attach(`10.50.1.${100 + i}`));
    const nsPrefix = `${h1.prefix}-h1-e`;
    const seen = async () => ({
      namespaces: (await listNamespaces()).filter((n) => n.startsWith(nsPrefix)).sort(),
      links: (JSON.parse((await h1.run(['ip', '-j', 'link', 'show'])).stdout) as { ifname: string }[]).map((l) => l.ifname).sort(),
      dump: await transitd.dump({}),
    });
    const before = await seen();

    const tooMany = Array.from({ length: MAX_ATTACH_PER_CALL + 1 }, (_, i) => attach(formatIpv4(0x0a320000 + 2 + i), { cidr: '10.50.0.0/16', gatewayIp: '10.50.0.1' }));
    await refusedByTransitd(transitd.attachEndpoints({ endpoints: tooMany }), 'INVALID_ARGUMENT', new RegExp(`endpoints: ${MAX_ATTACH_PER_CALL + 1} endpoints; at most ${MAX_ATTACH_PER_CALL} per call`));
    const badMac = batch.map((e, i) => (i === 3 ? { ...e, mac: '01:00:5e:00:00:01' } : e));
    await refusedByTransitd(transitd.attachEndpoints({ endpoints: badMac }), 'INVALID_ARGUMENT', /endpoints\[3\]\.mac/);
    const outside = batch.map((e, i) => (i === 5 ? { ...e, ip: '10.50.2.9' } : e));
    await refusedByTransitd(transitd.attachEndpoints({ endpoints: outside }), 'INVALID_ARGUMENT', /endpoints\[5\]\.ip: 10\.50\.2\.9 is outside/);
    await refusedByTransitd(transitd.attachEndpoints({ endpoints: [...batch, batch[1]] }), 'INVALID_ARGUMENT', /endpoints\[6\]: 50\/10\.50\.1\.101 is also endpoints\[1\]/);
    expect(await seen()).toEqual(before);

    // Refused while plumbing (a link named as endpoints[4]'s veth is in the way; a leftover
    // namespace would not do: transitd re-makes plumbing a lost agent left): the other five are
    // taken out again.
    const inTheWay = endpointNames(`${h1.prefix}-h1`, 50, batch[4].ip, false).veth;
    const blocked = await h1.run(['ip', 'link', 'add', inTheWay, 'type', 'bridge']); // this kernel has no dummy links
    expect(blocked.code, blocked.stderr).toBe(0);
    try {
      expectFailedCalls(h1, 1);
      const err = await transitd.attachEndpoints({ endpoints: batch }).then(() => undefined, (e: unknown) => e);
      expect(err, 'expected a refusal').toBeInstanceOf(XvpcError);
      expect((err as Error).message).toMatch(/File exists/);
    } finally {
      await h1.run(['ip', 'link', 'del', inTheWay]);
    }
    expect(await seen()).toEqual(before);

    // The same batch, valid, is made whole: proof the checks above look where the plumbing goes.
    const made = await transitd.attachEndpoints({ endpoints: batch });
    expect(made.endpoints.map((r) => r.netns)).toEqual(batch.map((e) => `${nsPrefix}50-${e.ip.replaceAll('.', '-')}`));
    expect(made.endpoints.every((r) => r.ifindex > 0)).toBe(true);
    expect((await seen()).namespaces).toEqual([...before.namespaces, ...made.endpoints.map((r) => r.netns)].sort());
    for (const e of batch) await transitd.detachEndpoint({ vni: e.vni, ip: e.ip });
    expect(await seen()).toEqual(before);
  });
});

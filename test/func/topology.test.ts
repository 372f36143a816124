// Several switches in one network, endpoints on the switch's own host, and
// VPC isolation with the same IP in two VPCs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { Droplet } from '../../src/droplet/index.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { delta, destroyDroplets, expectEcho, expectFailedCalls, expectNoPing, expectPing, makeDroplets, snapshot } from './lib.js';

describe('topologies', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 's1', 's2', 's3'], 'ft');
    c = new Controller(droplets);
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('several switches in one network share the flows and all deliver', async () => {
    await c.createVpc({ vni: 10, cidr: '10.10.0.0/16', routers: [], directPath: false }); // counts the switches' and routers' work: no direct path
    await c.createNetwork({ vni: 10, netId: 1, cidr: '10.10.0.0/16', switches: ['s1', 's2', 's3'] });
    const eps = await Promise.all(
      Array.from({ length: 6 }, (_, i) => c.createSimpleEndpoint({ vni: 10, netId: 1, ip: `10.10.0.${10 + i}`, host: i % 2 ? 'h2' : 'h1' })),
    );
    const switches = [droplets.s1, droplets.s2, droplets.s3];
    const before = await snapshot(switches);
    for (const from of eps) for (const to of eps) if (from !== to && from.host !== to.host) await expectPing(from, to.ip, 1);
    const after = await snapshot(switches);
    const used = switches.filter((_, i) => delta(before[i], after[i], 'switch_fwd') > 0).length;
    const total = switches.reduce((sum, _, i) => sum + delta(before[i], after[i], 'switch_fwd'), 0);
    expect(total).toBeGreaterThanOrEqual(2 * 18); // 18 pings, request + reply
    expect(used).toBeGreaterThanOrEqual(2);       // flows spread over more than one switch
  });

  it('endpoints on the switch host itself', async () => {
    await c.createVpc({ vni: 11, cidr: '10.11.0.0/16', routers: [], directPath: false }); // counts the switches' and routers' work: no direct path
    await c.createNetwork({ vni: 11, netId: 1, cidr: '10.11.0.0/16', switches: ['s1'] });
    const onSwitch = await c.createSimpleEndpoint({ vni: 11, netId: 1, ip: '10.11.0.2', host: 's1' });
    const alsoOnSwitch = await c.createSimpleEndpoint({ vni: 11, netId: 1, ip: '10.11.0.3', host: 's1' });
    const remote = await c.createSimpleEndpoint({ vni: 11, netId: 1, ip: '10.11.0.4', host: 'h1' });
    const before = await snapshot([droplets.s1]);
    await expectPing(onSwitch, alsoOnSwitch.ip, 3);
    await expectPing(onSwitch, remote.ip, 3);
    await expectPing(remote, onSwitch.ip, 3);
    await expectEcho('tcp', remote, onSwitch, 7201);
    const after = await snapshot([droplets.s1]);
    expect(delta(before[0], after[0], 'encap')).toBeGreaterThanOrEqual(9);
    expect(delta(before[0], after[0], 'decap')).toBeGreaterThanOrEqual(9);
  });

  it('the same IP in two VPCs: each reaches its own, neither sees the other', async () => {
    for (const vni of [20, 21]) {
      await c.createVpc({ vni, cidr: '10.20.0.0/16', routers: [], directPath: false }); // counts the switches' and routers' work: no direct path
      await c.createNetwork({ vni, netId: 1, cidr: '10.20.0.0/16', switches: ['s2'] });
    }
    const a20 = await c.createSimpleEndpoint({ vni: 20, netId: 1, ip: '10.20.0.2', host: 'h1' });
    const b20 = await c.createSimpleEndpoint({ vni: 20, netId: 1, ip: '10.20.0.3', host: 'h2' });
    const a21 = await c.createSimpleEndpoint({ vni: 21, netId: 1, ip: '10.20.0.2', host: 'h2' });
    const only21 = await c.createSimpleEndpoint({ vni: 21, netId: 1, ip: '10.20.0.9', host: 'h1' });
    await expectPing(a20, b20.ip, 3);
    await expectPing(a21, only21.ip, 3);
    // 10.20.0.9 exists only in VPC 21: VPC 20 cannot reach it.
    await expectNoPing(a20, only21.ip);
    // 10.20.0.3 exists only in VPC 20.
    await expectNoPing(a21, b20.ip);
    // Same address, different VPCs: the echo comes from the right one.
    await expectEcho('udp', b20, a20, 7202);
    const seen = await a21.run(['ip', 'neigh', 'show', b20.ip]);
    expect(seen.stdout).not.toMatch(/lladdr/);
  });

  it('a host endpoint puts the host itself into the VPC', async () => {
    await c.createVpc({ vni: 12, cidr: '10.12.0.0/16', routers: [], directPath: false }); // counts the switches' and routers' work: no direct path
    await c.createNetwork({ vni: 12, netId: 1, cidr: '10.12.0.0/16', switches: ['s3'] });
    const hostEp = await c.createHostEndpoint({ vni: 12, netId: 1, ip: '10.12.0.2', host: 'h1' });
    const peer = await c.createSimpleEndpoint({ vni: 12, netId: 1, ip: '10.12.0.3', host: 'h2' });
    expect(hostEp.host).toBe(droplets.h1);
    // The host endpoint's interface lives in h1's own namespace.
    const addrs = await droplets.h1.run(['ip', '-br', 'addr']);
    expect(addrs.stdout).toMatch(/10\.12\.0\.2\/16/);
    const before = await snapshot([droplets.s3]);
    await expectPing(hostEp, peer.ip, 3);
    await expectPing(peer, hostEp.ip, 3);
    const after = await snapshot([droplets.s3]);
    expect(delta(before[0], after[0], 'switch_fwd')).toBeGreaterThanOrEqual(12);
  });

  it('host endpoints of two networks on one host each send through their own veth, and one deleted leaves the other routed', async () => {
    await c.createVpc({ vni: 13, cidr: '10.13.0.0/16', routers: ['s1'], directPath: false });
    for (const netId of [1, 2, 3]) await c.createNetwork({ vni: 13, netId, cidr: `10.13.${netId}.0/24`, switches: ['s3'] });
    const first = await c.createHostEndpoint({ vni: 13, netId: 1, ip: '10.13.1.5', host: 'h1' });
    const second = await c.createHostEndpoint({ vni: 13, netId: 2, ip: '10.13.2.5', host: 'h1' });
    const far = await c.createSimpleEndpoint({ vni: 13, netId: 3, ip: '10.13.3.5', host: 'h2' });
    // The replies of each leave through its own veth (another's agent would drop them as spoofed).
    for (const ep of [first, second]) {
      await expectPing(far, ep.ip, 3);
      await expectPing(ep, far.ip, 3);
    }
    const rules = (await droplets.h1.run(['ip', 'rule', 'show'])).stdout;
    expect(rules).toMatch(/from 10\.13\.1\.5 iif lo lookup/);
    expect(rules).toMatch(/from 10\.13\.2\.5 iif lo lookup/);
    // The second endpoint's veth goes, and the VPC route with it: the first's remains.
    await c.deleteSimpleEndpoint({ vni: 13, netId: 2, ip: second.ip });
    expect((await droplets.h1.run(['ip', 'route', 'show', '10.13.0.0/16'])).stdout).toMatch(/via 10\.13\.1\.1 dev/);
    expect((await droplets.h1.run(['ip', 'rule', 'show'])).stdout).not.toMatch(/from 10\.13\.2\.5 /);
    await expectPing(far, first.ip, 3);
    await expectPing(first, far.ip, 3);
    // With no address chosen, the host reaches the VPC through the endpoint left.
    expect((await droplets.h1.run(['ping', '-n', '-c', '2', '-i', '0.2', '-W', '1', far.ip])).code).toBe(0);

    // The host's namespace holds an address once: another VPC's host endpoint with it is refused
    // (by the controller, and by transitd to a raw call), and the first keeps its route and rule.
    await c.createVpc({ vni: 14, cidr: '10.13.0.0/16', routers: [] });
    await c.createNetwork({ vni: 14, netId: 1, cidr: '10.13.1.0/24', switches: ['s3'] });
    await expect(c.createHostEndpoint({ vni: 14, netId: 1, ip: first.ip, host: 'h1' })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION', message: expect.stringMatching(/endpoint 13\/10\.13\.1\.5 on h1 has the same address, and host endpoints live in the host's own namespace/),
    });
    const raw = connectTransitd('h1', droplets.h1.transitdAddress);
    try {
      await expect(raw.attachEndpoint({ vni: 14, netId: 1, ip: first.ip, mac: '0e:0e:0a:0d:01:05', cidr: '10.13.1.0/24', gatewayIp: '10.13.1.1',
        hostEndpoint: true, mtu: 0, vpcCidr: '10.13.0.0/16' })).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION', message: expect.stringMatching(/endpoint 14\/10\.13\.1\.5: endpoint 13\/10\.13\.1\.5 on .* has the same address/),
      });
    } finally {
      raw.close();
    }
    expectFailedCalls(droplets.h1, 1);
    expect((await droplets.h1.run(['ip', 'rule', 'show'])).stdout).toMatch(/from 10\.13\.1\.5 iif lo lookup/);
    await expectPing(first, far.ip, 3);
    await c.deleteVpc({ vni: 14 });
  });
});

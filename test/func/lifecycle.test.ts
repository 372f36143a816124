// Deleting things: an endpoint (unreachable, gone from every map, re-created
// elsewhere), then a network and its VPC (nothing of them left anywhere).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import { connectTransitd } from '../../src/transitd/client.js';
import type { GoalState } from '../../src/gen/transit.js';
import { listNamespaces } from '../../src/util/netns.js';
import type { Droplet } from '../../src/droplet/index.js';
import { delta, destroyDroplets, expectNoPing, expectPing, makeDroplets, snapshot } from './lib.js';

async function dump(d: Droplet): Promise<GoalState> {
  const client = connectTransitd(d.id, d.transitdAddress);
  try {
    return await client.dump({});
  } finally {
    client.close();
  }
}

describe('deleting endpoints, networks and VPCs', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'h3', 'sw'], 'fl');
    c = new Controller(droplets);
    await c.createVpc({ vni: 30, cidr: '10.30.0.0/16', routers: ['sw'], directPath: false }); // counts the switches' and routers' work: no direct path
    await c.createNetwork({ vni: 30, netId: 1, cidr: '10.30.1.0/24', switches: ['sw'] });
    await c.createNetwork({ vni: 30, netId: 2, cidr: '10.30.2.0/24', switches: ['sw'] });
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('a deleted endpoint is unreachable, in no map, and can be re-created on another host', async () => {
    const a = await c.createSimpleEndpoint({ vni: 30, netId: 1, ip: '10.30.1.2', host: 'h1' });
    const b = await c.createSimpleEndpoint({ vni: 30, netId: 1, ip: '10.30.1.3', host: 'h2' });
    const before = await snapshot([droplets.h2]);
    await expectPing(a, b.ip, 2);
    expect(delta(before[0], (await snapshot([droplets.h2]))[0], 'decap')).toBeGreaterThanOrEqual(2);

    await c.deleteSimpleEndpoint({ vni: 30, netId: 1, ip: b.ip });
    await expectNoPing(a, b.ip);
    for (const d of Object.values(droplets)) {
      const state = await dump(d);
      expect(state.endpoints.map((e) => e.ip), d.id).not.toContain(b.ip);
    }
    expect(await listNamespaces()).not.toContain(b.netns);

    const moved = await c.createSimpleEndpoint({ vni: 30, netId: 1, ip: '10.30.1.3', host: 'h3' });
    expect(moved.host).toBe(droplets.h3);
    const beforeMove = await snapshot([droplets.h3, droplets.sw]);
    await expectPing(a, moved.ip, 3);
    await expectPing(moved, a.ip, 3);
    const after = await snapshot([droplets.h3, droplets.sw]);
    expect(delta(beforeMove[0], after[0], 'decap')).toBeGreaterThanOrEqual(6);
    expect(delta(beforeMove[1], after[1], 'switch_fwd')).toBeGreaterThanOrEqual(12);
  });

  it('deleting a network and then its VPC leaves no record, interface or namespace on any host', async () => {
    const x = await c.createSimpleEndpoint({ vni: 30, netId: 2, ip: '10.30.2.2', host: 'h1' });
    await c.createSimpleEndpoint({ vni: 30, netId: 2, ip: '10.30.2.3', host: 'h2' });
    const beforeNet = await snapshot([droplets.sw]);
    await expectPing(x, '10.30.2.3', 2);
    expect(delta(beforeNet[0], (await snapshot([droplets.sw]))[0], 'switch_fwd')).toBeGreaterThanOrEqual(4);

    await c.deleteNetwork({ vni: 30, netId: 2 });
    for (const d of Object.values(droplets)) {
      const state = await dump(d);
      expect(state.networks.filter((n) => n.vni === 30 && n.cidr === '10.30.2.0/24'), d.id).toEqual([]);
      expect(state.endpoints.filter((e) => e.ip.startsWith('10.30.2.')), d.id).toEqual([]);
    }

    await c.deleteVpc({ vni: 30 });
    const namespaces = await listNamespaces();
    for (const d of Object.values(droplets)) {
      const state = await dump(d);
      expect(state.vpcs.filter((v) => v.vni === 30), d.id).toEqual([]);
      expect(state.networks.filter((n) => n.vni === 30), d.id).toEqual([]);
      expect(state.endpoints.filter((e) => e.vni === 30), d.id).toEqual([]);
      const links = await d.run(['ip', '-br', 'link']);
      expect(links.stdout, d.id).not.toMatch(/^ve[0-9a-f]{8}/m);
      expect(namespaces.filter((n) => n.startsWith(`${d.prefix}-${d.id}-e30-`)), d.id).toEqual([]);
    }
  });
});

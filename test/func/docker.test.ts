// The basic switch scenario on the docker backend: droplets are containers
// from the locally built buildbox image, transitd runs inside each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet } from '../../src/droplet/index.js';
import { delta, destroyDroplets, expectEcho, expectPing, makeDroplets, snapshot } from './lib.js';

describe('two endpoints on one switch, docker droplets', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let left: Endpoint, right: Endpoint;

  beforeAll(async () => {
    droplets = await makeDroplets(['left', 'right', 'switch'], 'fd', 'docker');
    c = new Controller(droplets);
    await c.createVpc({ vni: 3, cidr: '10.0.0.0/16', routers: [] });
    await c.createNetwork({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });
    left = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.2', host: 'left' });
    right = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.3', host: 'right' });
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('the droplets are containers', () => {
    expect(Object.values(droplets).map((d) => d.backend)).toEqual(['docker', 'docker', 'docker']);
  });

  it('ping both ways through XDP', async () => {
    const hosts = [droplets.left, droplets.right, droplets.switch];
    const before = await snapshot(hosts);
    await expectPing(left, right.ip, 5);
    await expectPing(right, left.ip, 5);
    const after = await snapshot(hosts);
    expect(delta(before[0], after[0], 'encap')).toBeGreaterThanOrEqual(10);
    expect(delta(before[1], after[1], 'encap')).toBeGreaterThanOrEqual(10);
    expect(delta(before[2], after[2], 'switch_fwd')).toBeGreaterThanOrEqual(20);
  });

  for (const proto of ['tcp', 'udp', 'http'] as const) {
    it(`${proto} both ways`, async () => {
      await expectEcho(proto, left, right, 7401);
      await expectEcho(proto, right, left, 7402);
    });
  }
});

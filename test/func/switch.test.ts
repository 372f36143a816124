// Two endpoints on one switch (the switch on a third host): ICMP, TCP, UDP
// and HTTP both ways, and proof that the packets crossed XDP. The same
// scenario runs on both droplet backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet, DropletBackend } from '../../src/droplet/index.js';
import { delta, expectEcho, expectPing, snapshot, switchScenario, type SwitchScenario } from './lib.js';

describe.each<DropletBackend>(['netns', 'docker'])('two endpoints on one switch (%s droplets)', (backend) => {
  let scenario: SwitchScenario | undefined;
  let droplets: Record<string, Droplet>;
  let left: Endpoint, right: Endpoint;

  beforeAll(async () => {
    scenario = await switchScenario(backend === 'netns' ? 'fs' : 'fd', { backend });
    ({ droplets, left, right } = scenario);
  });

  afterAll(async () => {
    await scenario?.close();
  });

  it('runs on the asked-for backend', () => {
    expect(Object.values(droplets).map((d) => d.backend)).toEqual([backend, backend, backend]);
  });

  it('ping both ways, every packet through the agents, the switch and decapsulation', async () => {
    const hosts = [droplets.left, droplets.right, droplets.switch];
    const before = await snapshot(hosts);
    await expectPing(left, right.ip, 5);
    await expectPing(right, left.ip, 5);
    const after = await snapshot(hosts);
    const [l, r, s] = [0, 1, 2];
    // 10 echo requests + 10 replies, each way once: at least 10 per host and role.
    expect(delta(before[l], after[l], 'encap')).toBeGreaterThanOrEqual(10);
    expect(delta(before[r], after[r], 'encap')).toBeGreaterThanOrEqual(10);
    expect(delta(before[s], after[s], 'switch_fwd')).toBeGreaterThanOrEqual(20);
    expect(delta(before[l], after[l], 'decap')).toBeGreaterThanOrEqual(10);
    expect(delta(before[r], after[r], 'decap')).toBeGreaterThanOrEqual(10);
  });

  for (const proto of ['tcp', 'udp', 'http'] as const) {
    it(`${proto} both ways`, async () => {
      const before = await snapshot([droplets.switch]);
      await expectEcho(proto, left, right, 7001);
      await expectEcho(proto, right, left, 7002);
      const after = await snapshot([droplets.switch]);
      expect(delta(before[0], after[0], 'switch_fwd')).toBeGreaterThanOrEqual(4);
    });
  }

  it('endpoints carry the API shape', () => {
    expect(left).toMatchObject({ vni: 3, netId: 1, ip: '10.0.0.2', mac: '0e:03:0a:00:00:02' });
    expect(left.host).toBe(droplets.left);
  });
});

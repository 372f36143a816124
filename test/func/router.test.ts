// Two networks of one VPC joined by a router on its own host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet } from '../../src/droplet/index.js';
import { delta, destroyDroplets, expectEcho, expectPing, makeDroplets, snapshot } from './lib.js';

describe('two networks joined by a router', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let a: Endpoint, b: Endpoint;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'sw1', 'sw2', 'rt'], 'fr');
    c = new Controller(droplets);
    await c.createVpc({ vni: 7, cidr: '10.7.0.0/16', routers: ['rt'], directPath: false }); // counts the switches' and routers' work: no direct path
    await c.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['sw1'] });
    await c.createNetwork({ vni: 7, netId: 2, cidr: '10.7.2.0/24', switches: ['sw2'] });
    a = await c.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.10', host: 'h1' });
    b = await c.createSimpleEndpoint({ vni: 7, netId: 2, ip: '10.7.2.10', host: 'h2' });
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('ping crosses switch, router, switch both ways', async () => {
    const hosts = [droplets.sw1, droplets.rt, droplets.sw2];
    const before = await snapshot(hosts);
    await expectPing(a, b.ip, 5);
    await expectPing(b, a.ip, 5);
    const after = await snapshot(hosts);
    // Each switch misses the other network's endpoint and hands to the router.
    expect(delta(before[0], after[0], 'router_vpc_fwd')).toBeGreaterThanOrEqual(10);
    expect(delta(before[2], after[2], 'router_vpc_fwd')).toBeGreaterThanOrEqual(10);
    // The router finds the destination network and forwards to its switch.
    expect(delta(before[1], after[1], 'router_net_fwd')).toBeGreaterThanOrEqual(20);
    // The destination switch delivers.
    expect(delta(before[0], after[0], 'switch_fwd')).toBeGreaterThanOrEqual(10);
    expect(delta(before[2], after[2], 'switch_fwd')).toBeGreaterThanOrEqual(10);
  });

  it('routed TTL is decremented once per router hop', async () => {
    const r = await a.run(['ping', '-n', '-c', '1', '-W', '2', b.ip]);
    expect(r.stdout).toMatch(/ttl=63/);
  });

  it('a packet whose TTL runs out at the router is answered with time exceeded from the sender\'s gateway (ping -t)', async () => {
    const r = await a.run(['ping', '-n', '-c', '1', '-W', '2', '-t', '1', b.ip]);
    expect(r.stdout).toMatch(/From 10\.7\.1\.1 icmp_seq=1 Time to live exceeded/);
    const before = await snapshot([droplets.rt]);
    const back = await b.run(['ping', '-n', '-c', '2', '-i', '0.2', '-W', '2', '-t', '1', a.ip]);
    expect(back.stdout).toMatch(/From 10\.7\.2\.1 icmp_seq=1 Time to live exceeded/);
    expect(delta(before[0], (await snapshot([droplets.rt]))[0], 'icmp_time_exceeded')).toBe(2);
    expect(await a.run(['ping', '-n', '-c', '1', '-W', '2', '-t', '2', b.ip])).toMatchObject({ code: 0 });
  });

  it('tcp and http across networks', async () => {
    await expectEcho('tcp', a, b, 7101);
    await expectEcho('http', b, a, 7102);
  });
});

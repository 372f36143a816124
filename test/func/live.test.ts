// Changes under live traffic: a network's switch and a VPC's router are
// replaced while a TCP transfer runs, and transitd restarts during a ping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet } from '../../src/droplet/index.js';
import { PROBE, delta, destroyDroplets, makeDroplets, snapshot } from './lib.js';

/** Streams TCP from `client` to `server` for `seconds` while `during` runs; the transfer must not fail. */
async function streamWhile(client: Endpoint, server: Endpoint, port: number, seconds: number, during: () => Promise<void>): Promise<number> {
  const serving = server.run([process.execPath, PROBE, 'serve', 'tcp', String(port), String(seconds + 6)], { timeoutMs: (seconds + 10) * 1000 });
  await sleep(300);
  const streaming = client.run([process.execPath, PROBE, 'stream', server.ip, String(port), String(seconds)], { timeoutMs: (seconds + 10) * 1000 });
  await sleep(1000);
  await during();
  const r = await streaming;
  await server.run(['pkill', '-f', `probe.mjs serve tcp ${port}`]);
  await serving;
  expect(r.stderr, 'the TCP transfer broke').toBe('');
  expect(r.code).toBe(0);
  return Number(r.stdout.trim());
}

describe('changes under live traffic', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let a: Endpoint, b: Endpoint, far: Endpoint;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'old', 'new', 'sw2', 'r1', 'r2'], 'fv');
    c = new Controller(droplets);
    await c.createVpc({ vni: 40, cidr: '10.40.0.0/16', routers: ['r1'], directPath: false }); // counts the switches' and routers' work: no direct path
    await c.createNetwork({ vni: 40, netId: 1, cidr: '10.40.1.0/24', switches: ['old'] });
    await c.createNetwork({ vni: 40, netId: 2, cidr: '10.40.2.0/24', switches: ['sw2'] });
    a = await c.createSimpleEndpoint({ vni: 40, netId: 1, ip: '10.40.1.2', host: 'h1' });
    b = await c.createSimpleEndpoint({ vni: 40, netId: 1, ip: '10.40.1.3', host: 'h2' });
    far = await c.createSimpleEndpoint({ vni: 40, netId: 2, ip: '10.40.2.2', host: 'h2' });
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it("replacing a network's switch does not break a running TCP transfer", async () => {
    const before = await snapshot([droplets.new]);
    const bytes = await streamWhile(a, b, 7301, 5, async () => {
      await c.addSwitch({ vni: 40, netId: 1, switch: 'new' });
      await sleep(500);
      await c.removeSwitch({ vni: 40, netId: 1, switch: 'old' });
    });
    const after = await snapshot([droplets.new]);
    expect(bytes).toBeGreaterThan(0);
    expect(delta(before[0], after[0], 'switch_fwd')).toBeGreaterThan(0); // the new switch took over
  });

  it("replacing a VPC's router does not break a running TCP transfer", async () => {
    const before = await snapshot([droplets.r2]);
    const bytes = await streamWhile(a, far, 7302, 5, async () => {
      await c.addRouter({ vni: 40, router: 'r2' });
      await sleep(500);
      await c.removeRouter({ vni: 40, router: 'r1' });
    });
    const after = await snapshot([droplets.r2]);
    expect(bytes).toBeGreaterThan(0);
    expect(delta(before[0], after[0], 'router_net_fwd')).toBeGreaterThan(0);
  });

  it('restarting transitd on the switch host does not interrupt a ping', async () => {
    const sw = droplets.new;
    const pidBefore = sw.transitdPid;
    const pinging = a.ping(b.ip, { count: 25 });
    await sleep(1500);
    await sw.restartTransitd();
    const r = await pinging;
    expect(sw.transitdPid).not.toBe(pidBefore);
    expect(r).toMatchObject({ ok: true, transmitted: 25, received: 25 });
    // The restarted daemon serves the state it found pinned.
    const state = await sw.stats();
    expect(state.switch_fwd).toBeGreaterThan(0);
  });
});

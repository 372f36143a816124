// Changes under live traffic: a network's switch and a VPC's router are
// replaced while a TCP transfer runs, and transitd restarts during a ping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet } from '../../src/droplet/index.js';
import { delta, destroyDroplets, makeDroplets, snapshot } from './lib.js';
import { startProbe, startServer, streamReport, type StreamReport } from './probe.js';

/**
 * Streams TCP from `client` to `server` while `during` runs: the stream flows
 * (its first MiB arrived) before `during` starts and stops only after it is
 * done; the server marks the moment `during` ended.
 */
async function streamWhile(client: Endpoint, server: Endpoint, port: number, during: () => Promise<void>): Promise<StreamReport> {
  const serving = await startServer(server, 'tcp', port, { seconds: 300 });
  try {
    const streaming = await startProbe(client, ['stream', server.ip, String(port), '240'], 260_000);
    let failed: unknown;
    try {
      await during();
      await serving.mark();
    } catch (err) {
      failed = err;
    }
    const result = await streaming.stop();
    if (failed) throw failed;
    return streamReport(result);
  } finally {
    await serving.stop();
  }
}

/** Every byte sent arrived, in order and intact, and bytes still arrived after the change. */
function expectIntactAcross(r: StreamReport): void {
  expect(r.received, 'bytes and sha256 the server received').toEqual(r.sent);
  expect(r.sent.bytes).toBeGreaterThan(1 << 20);
  expect(r.afterMark, 'the server was marked while the stream ran').not.toBeNull();
  expect(r.afterMark, 'bytes that arrived after the change was done').toBeGreaterThan(0);
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
    const r = await streamWhile(a, b, 7301, async () => {
      await c.addSwitch({ vni: 40, netId: 1, switch: 'new' });
      await c.removeSwitch({ vni: 40, netId: 1, switch: 'old' });
    });
    const after = await snapshot([droplets.new]);
    expectIntactAcross(r);
    expect(delta(before[0], after[0], 'switch_fwd')).toBeGreaterThan(0); // the new switch took over
  });

  it("replacing a VPC's router does not break a running TCP transfer", async () => {
    const before = await snapshot([droplets.r2]);
    const r = await streamWhile(a, far, 7302, async () => {
      await c.addRouter({ vni: 40, router: 'r2' });
      await c.removeRouter({ vni: 40, router: 'r1' });
    });
    const after = await snapshot([droplets.r2]);
    expectIntactAcross(r);
    expect(delta(before[0], after[0], 'router_net_fwd')).toBeGreaterThan(0);
  });

  it('restarting transitd on the switch host does not interrupt a ping', async () => {
    const sw = droplets.new;
    const pidBefore = sw.transitdPid;
    const count = 60; // 12 s at 0.2 s: the restart below falls inside it (checked)
    const before = await sw.stats();
    let pingDone = false;
    const pinging = a.ping(b.ip, { count }).finally(() => { pingDone = true; });
    // Readiness: the ping's packets cross the switch before it restarts.
    while ((await sw.stats()).switch_fwd === before.switch_fwd) {
      expect(pingDone, 'the ping ended before any of it crossed the switch').toBe(false);
      await sleep(100);
    }
    await sw.restartTransitd();
    expect(sw.transitdPid).not.toBe(pidBefore);
    // The restarted daemon serves the state it found pinned, counters included.
    const restarted = await sw.stats();
    expect(pingDone, 'the ping must still run when the restart is done').toBe(false);
    const r = await pinging;
    expect(r).toMatchObject({ ok: true, transmitted: count, received: count });
    const after = await sw.stats();
    expect(restarted.switch_fwd).toBeGreaterThanOrEqual(before.switch_fwd);
    expect(after.switch_fwd - restarted.switch_fwd, 'packets the switch forwarded after the restart').toBeGreaterThan(0);
  });
});

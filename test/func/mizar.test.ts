// Mizar's functional scenarios that the other files lack, on one VPC with the
// direct path on (Mizar's default): several networks with several switches
// and routers; switches and routers changed by adding several; several
// endpoints deleted on one host; scaled endpoints with the client on the
// switch host, with backends in another network, in mixed networks, a backend
// shared by two scaled endpoints in different networks, a host endpoint as
// backend; a host endpoint reached from another network; the VPC deleted after
// its switches and routers changed. The harness (lib.ts) checks after every
// test that no transitd call failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { listNamespaces } from '../../src/util/netns.js';
import type { Droplet } from '../../src/droplet/index.js';
import { PROBE, destroyDroplets, expectNoPing, expectPing, makeDroplets } from './lib.js';

const VNI = 80;

describe('Mizar\'s scenarios: several networks, switches, routers; scaled and host endpoints', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  const ep: Record<string, Endpoint> = {};

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'h3', 's1', 's2', 's3'], 'mz');
    c = new Controller(droplets);
    await c.createVpc({ vni: VNI, cidr: '10.80.0.0/16', routers: ['s1', 's2'] });
    await c.createNetwork({ vni: VNI, netId: 1, cidr: '10.80.1.0/24', switches: ['s1', 's2'] });
    await c.createNetwork({ vni: VNI, netId: 2, cidr: '10.80.2.0/24', switches: ['s2', 's3'] });
    await c.createNetwork({ vni: VNI, netId: 3, cidr: '10.80.3.0/24', switches: ['s3'] });
    const simple = async (name: string, netId: number, ip: string, host: string) => {
      ep[name] = await c.createSimpleEndpoint({ vni: VNI, netId, ip, host });
    };
    await simple('a1', 1, '10.80.1.11', 'h1');
    await simple('a2', 1, '10.80.1.12', 'h2');
    await simple('b1', 2, '10.80.2.21', 'h2');
    await simple('b2', 2, '10.80.2.22', 'h3');
    await simple('c1', 3, '10.80.3.31', 'h1');
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  const everyPair = async (names: string[]) => {
    for (const from of names) for (const to of names) if (from !== to) await expectPing(ep[from], ep[to].ip, 2);
  };

  /** HTTP answers from `vip` as `client` sees them: which backends answered `n` connections, stopping once `all` did. */
  async function answeredBy(client: Endpoint, vip: string, port: number, n: number, all: number): Promise<string[]> {
    const by = new Set<string>();
    for (let i = 0; i < n && by.size < all; i++) {
      const r = await client.run([process.execPath, PROBE, 'ask', 'http', vip, String(port), `q${i}`], { timeoutMs: 10_000 });
      expect(r.stderr).toBe('');
      by.add(/^pong:q\d+@(.+)$/.exec(r.stdout.trim())?.[1] ?? `bad answer ${r.stdout}`);
    }
    return [...by].sort();
  }

  /** Runs `body` while every backend in `backends` serves `proto` on `port`, answering with its IP. */
  async function serving(backends: Endpoint[], proto: 'tcp' | 'udp' | 'http', port: number, body: () => Promise<void>): Promise<void> {
    const servers = backends.map((b) => b.run([process.execPath, PROBE, 'serve', proto, String(port), '40', b.ip], { timeoutMs: 50_000 }));
    try {
      await body();
    } finally {
      for (const b of backends) await b.run(['pkill', '-f', `probe.mjs serve ${proto} ${port}`]);
      await Promise.all(servers);
    }
  }

  it('several networks with several switches and routers: every endpoint reaches every other', async () => {
    await everyPair(['a1', 'a2', 'b1', 'b2', 'c1']);
  });

  it('switches and routers changed by adding several: still every pair', async () => {
    await c.addSwitch({ vni: VNI, netId: 1, switch: 's3' });
    await c.addSwitch({ vni: VNI, netId: 3, switch: 's1' });
    await c.addSwitch({ vni: VNI, netId: 3, switch: 's2' });
    await c.addRouter({ vni: VNI, router: 's3' });
    await everyPair(['a1', 'a2', 'b1', 'b2', 'c1']);
  });

  it('several endpoints deleted on one host: unreachable, in no map, the others unharmed', async () => {
    const extra = await Promise.all(['10.80.1.41', '10.80.1.42', '10.80.2.43'].map((ip, i) =>
      c.createSimpleEndpoint({ vni: VNI, netId: i < 2 ? 1 : 2, ip, host: 'h3' })));
    for (const e of extra) await expectPing(ep.a1, e.ip, 2);
    for (const e of extra) await c.deleteSimpleEndpoint({ vni: VNI, netId: e.netId, ip: e.ip });
    for (const e of extra) await expectNoPing(ep.a1, e.ip);
    const namespaces = await listNamespaces();
    for (const e of extra) expect(namespaces).not.toContain(e.netns);
    for (const d of Object.values(droplets)) {
      const client = connectTransitd(d.id, d.transitdAddress);
      try {
        const ips = (await client.dump({})).endpoints.map((e) => e.ip);
        for (const e of extra) expect(ips, d.id).not.toContain(e.ip);
      } finally {
        client.close();
      }
    }
    await expectPing(ep.b2, ep.a1.ip, 2); // h3's remaining endpoint still works
  });

  it('scaled endpoint, the client on a switch host: one connection one backend, several connections both, tcp/udp/http', async () => {
    const client = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.80.1.50', host: 's1' });
    const vip = await c.createScaledEndpoint({ vni: VNI, netId: 1, ip: '10.80.1.100', backends: [ep.a1, ep.a2] });
    await serving([ep.a1, ep.a2], 'tcp', 7801, async () => {
      await client.run([process.execPath, PROBE, 'ask', 'tcp', vip.ip, '7801', 'ready'], { timeoutMs: 10_000 });
      const r = await client.run([process.execPath, PROBE, 'converse', vip.ip, '7801', '8'], { timeoutMs: 15_000 });
      expect(r.stderr).toBe('');
      const by = r.stdout.trim().split('\n').map((l) => /@(.+)$/.exec(l)?.[1]);
      expect(by).toHaveLength(8);
      expect(new Set(by).size).toBe(1);
    });
    await serving([ep.a1, ep.a2], 'http', 7802, async () => {
      expect(await answeredBy(client, vip.ip, 7802, 100, 2)).toEqual([ep.a1.ip, ep.a2.ip].sort());
    });
    await serving([ep.a1, ep.a2], 'udp', 7803, async () => {
      const r = await client.run([process.execPath, PROBE, 'ask', 'udp', vip.ip, '7803', 'u'], { timeoutMs: 10_000 });
      expect([`pong:u@${ep.a1.ip}`, `pong:u@${ep.a2.ip}`]).toContain(r.stdout.trim());
    });
    await expectPing(client, vip.ip, 2);
  });

  it('scaled endpoint with its backends in another network, and in mixed networks', async () => {
    const other = await c.createScaledEndpoint({ vni: VNI, netId: 1, ip: '10.80.1.101', backends: [ep.b1, ep.b2] });
    const mixed = await c.createScaledEndpoint({ vni: VNI, netId: 3, ip: '10.80.3.102', backends: [ep.a2, ep.b2] });
    await serving([ep.a2, ep.b1, ep.b2], 'http', 7804, async () => {
      expect(await answeredBy(ep.a1, other.ip, 7804, 100, 2)).toEqual([ep.b1.ip, ep.b2.ip].sort());
      expect(await answeredBy(ep.c1, mixed.ip, 7804, 100, 2)).toEqual([ep.a2.ip, ep.b2.ip].sort());
    });
  });

  it('a backend shared by two scaled endpoints in different networks answers for both', async () => {
    const v1 = await c.createScaledEndpoint({ vni: VNI, netId: 1, ip: '10.80.1.103', backends: [ep.b1] });
    const v3 = await c.createScaledEndpoint({ vni: VNI, netId: 3, ip: '10.80.3.103', backends: [ep.b1] });
    await serving([ep.b1], 'tcp', 7805, async () => {
      for (const [client, vip] of [[ep.a1, v1], [ep.c1, v3], [ep.b2, v1], [ep.b2, v3]] as const) {
        const r = await client.run([process.execPath, PROBE, 'ask', 'tcp', vip.ip, '7805', 'shared'], { timeoutMs: 10_000 });
        expect(r.stdout.trim(), `${client.ip} -> ${vip.ip}`).toBe(`pong:shared@${ep.b1.ip}`);
      }
    });
  });

  it('a host endpoint: reached from another network, and serving as a scaled endpoint\'s backend', async () => {
    const host = await c.createHostEndpoint({ vni: VNI, netId: 2, ip: '10.80.2.60', host: 'h3' });
    await expectPing(ep.c1, host.ip, 2);
    await expectPing(host, ep.a1.ip, 2);
    const vip = await c.createScaledEndpoint({ vni: VNI, netId: 2, ip: '10.80.2.104', backends: [host] });
    await serving([host], 'http', 7806, async () => {
      expect(await answeredBy(ep.a1, vip.ip, 7806, 3, 1)).toEqual([host.ip]);
    });
  });

  it('the VPC, after its switches and routers changed, deleted with its networks: nothing of it left anywhere', async () => {
    await c.removeSwitch({ vni: VNI, netId: 1, switch: 's1' });
    await c.addRouter({ vni: VNI, router: 'h1' });
    await c.removeRouter({ vni: VNI, router: 's1' });
    await everyPair(['a1', 'b2', 'c1']);
    const netns = Object.values(ep).map((e) => e.netns);
    await c.deleteVpc({ vni: VNI });
    const namespaces = await listNamespaces();
    for (const ns of netns) expect(namespaces).not.toContain(ns);
    for (const d of Object.values(droplets)) {
      const client = connectTransitd(d.id, d.transitdAddress);
      try {
        const state = await client.dump({});
        expect(state.vpcs.filter((v) => v.vni === VNI), d.id).toEqual([]);
        expect(state.networks.filter((n) => n.vni === VNI), d.id).toEqual([]);
        expect(state.endpoints.filter((e) => e.vni === VNI), d.id).toEqual([]);
      } finally {
        client.close();
      }
    }
  });
});

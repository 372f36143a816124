// Security groups on droplets: a web tier that accepts TCP 80 from one network
// only; egress denied but for one UDP port; replies pass; an update applies to
// new connections; detaching restores allow-all; a scaled endpoint whose
// backends carry a group; groups and a running connection survive a transitd
// restart (pinned maps). Delivery is proven by the probe's echo of a unique
// message, and for the stream by the hashes of the bytes sent and received.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet } from '../../src/droplet/index.js';
import { PROBE, delta, destroyDroplets, expectEcho, expectFailedCalls, expectNoPing, expectPing, makeDroplets, snapshot } from './lib.js';
import { startServer, streamReport } from './probe.js';
import { connectTransitd } from '../../src/transitd/client.js';

const VNI = 80;

/** A server answers nothing the client asks (probe ask gives up after 5 s). */
async function expectNoEcho(proto: 'tcp' | 'udp', client: Endpoint, server: Endpoint, port: number): Promise<void> {
  const serving = await startServer(server, proto, port, { seconds: 20 });
  try {
    const r = await client.run([process.execPath, PROBE, 'ask', proto, server.ip, String(port), 'denied?'], { timeoutMs: 15_000 });
    expect(r.code, `${proto} ${client.ip} -> ${server.ip}:${port} must get no answer`).toBe(1);
    expect(r.stdout).toBe('');
  } finally {
    await serving.stop();
  }
}

describe('security groups on droplets', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let web: Endpoint, a: Endpoint, x: Endpoint;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'h3', 'sw'], 'sg');
    c = new Controller(droplets);
    await c.createVpc({ vni: VNI, cidr: '10.80.0.0/16', routers: ['sw'] });
    await c.createNetwork({ vni: VNI, netId: 1, cidr: '10.80.1.0/24', switches: ['sw'] }); // the clients allowed
    await c.createNetwork({ vni: VNI, netId: 2, cidr: '10.80.2.0/24', switches: ['sw'] }); // the others
    await c.createNetwork({ vni: VNI, netId: 3, cidr: '10.80.3.0/24', switches: ['sw'] }); // the web tier
    await c.createSecurityGroup({
      vni: VNI, name: 'web',
      ingress: [{ protocol: 'tcp', cidr: '10.80.1.0/24', ports: '80' }],
      egress: [{ protocol: 'udp', ports: '5353' }],
    });
    web = await c.createSimpleEndpoint({ vni: VNI, netId: 3, ip: '10.80.3.10', host: 'h1', securityGroups: ['web'] });
    a = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.80.1.10', host: 'h2' });
    x = await c.createSimpleEndpoint({ vni: VNI, netId: 2, ip: '10.80.2.10', host: 'h3' });
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('transitd: Dump holds the group and the attachment on the endpoint\'s host only; a bad group is refused naming the field', async () => {
    const t1 = connectTransitd('h1', droplets.h1.transitdAddress);
    const t2 = connectTransitd('h2', droplets.h2.transitdAddress);
    try {
      const d1 = await t1.dump({});
      expect(d1.securityGroups).toEqual([{
        id: 1, vni: VNI, name: 'web',
        ingress: [{ protocol: 'tcp', cidr: '10.80.1.0/24', ports: '80' }], egress: [{ protocol: 'udp', cidr: '0.0.0.0/0', ports: '5353' }],
      }]);
      expect(d1.securityAttachments).toEqual([{ vni: VNI, ip: web.ip, groups: [1] }]);
      expect((await t2.dump({})).securityGroups).toEqual([]);
      const bad = { id: 99, vni: VNI, name: 'bad', ingress: [{ protocol: 'icmp', cidr: '', ports: '7' }], egress: [] };
      await expect(t1.createSecurityGroup(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('ingress[0].ports: only tcp and udp') });
      await expect(t1.applyGoalState({
        substrate: [], vpcs: [], networks: [], endpoints: [], securityGroups: [bad], securityAttachments: [],
        deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
      })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('security_groups[0].ingress[0].ports') });
      expect(await t1.dump({})).toEqual(d1);
    } finally {
      t1.close();
      t2.close();
    }
    expectFailedCalls(droplets.h1, 2);
  });

  it('the web tier accepts TCP 80 from its one network (the answers pass back), nothing else, and counts the denials', async () => {
    const [before] = await snapshot([droplets.h1]);
    await expectEcho('tcp', a, web, 80);
    await expectNoEcho('tcp', x, web, 80);
    await expectNoEcho('tcp', a, web, 81);
    await expectNoPing(a, web.ip, 2);
    const [after] = await snapshot([droplets.h1]);
    expect(delta(before, after, 'sg_ct_new')).toBeGreaterThanOrEqual(1);
    expect(delta(before, after, 'drop_sg_ingress')).toBeGreaterThanOrEqual(2 + 2); // SYNs (retried) and echo requests
  });

  it('egress is denied but for UDP 5353, whose answers come back', async () => {
    const [before] = await snapshot([droplets.h1]);
    await expectEcho('udp', web, a, 5353);
    await expectNoEcho('udp', web, a, 5354);
    await expectNoEcho('tcp', web, a, 80);
    const [after] = await snapshot([droplets.h1]);
    expect(delta(before, after, 'drop_sg_egress')).toBeGreaterThanOrEqual(2);
  });

  it('groups and a running connection survive a transitd restart', async () => {
    const serving = await startServer(web, 'tcp', 80, { seconds: 40 });
    try {
      const stream = a.run([process.execPath, PROBE, 'stream', web.ip, '80', '6'], { timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 2000));
      await droplets.h1.restartTransitd();
      const report = streamReport(await stream);
      expect(report.received.bytes).toBe(report.sent.bytes);
      expect(report.received.sha256).toBe(report.sent.sha256);
      expect(report.sent.bytes).toBeGreaterThan(1 << 20);
    } finally {
      await serving.stop();
    }
    await expectNoEcho('tcp', x, web, 80);
    await expectEcho('tcp', a, web, 80);
  });

  it('an update applies to new connections at once', async () => {
    await c.updateSecurityGroup({
      vni: VNI, name: 'web',
      ingress: [{ protocol: 'tcp', cidr: '10.80.0.0/16', ports: '80' }, { protocol: 'icmp', cidr: '10.80.1.0/24' }],
      egress: [],
    });
    await expectEcho('tcp', x, web, 80);
    await expectPing(a, web.ip, 2);
    await expectNoPing(x, web.ip, 2);
    await expectNoEcho('udp', web, a, 5353);
  });

  it('detaching the last group restores allow-all', async () => {
    await c.detachSecurityGroup({ vni: VNI, ip: web.ip, name: 'web' });
    await expectEcho('tcp', x, web, 81);
    await expectPing(x, web.ip, 2);
    await expectEcho('udp', web, a, 5354);
    await c.deleteSecurityGroup({ vni: VNI, name: 'web' });
  });

  it('a scaled endpoint whose backends carry a group', async () => {
    await c.createSecurityGroup({ vni: VNI, name: 'backend', ingress: [{ protocol: 'tcp', cidr: '10.80.1.0/24', ports: '8080' }], egress: [] });
    const b1 = await c.createSimpleEndpoint({ vni: VNI, netId: 3, ip: '10.80.3.21', host: 'h2', securityGroups: ['backend'] });
    const b2 = await c.createSimpleEndpoint({ vni: VNI, netId: 3, ip: '10.80.3.22', host: 'h3', securityGroups: ['backend'] });
    const vip = '10.80.3.50';
    await c.createScaledEndpoint({ vni: VNI, netId: 3, ip: vip, backends: [b1, b2] });
    const servers = [await startServer(b1, 'tcp', 8080, { seconds: 40 }), await startServer(b2, 'tcp', 8080, { seconds: 40 })];
    try {
      for (let i = 0; i < 4; i++) {
        const msg = `to-the-scaled-endpoint-${i}`;
        const r = await a.run([process.execPath, PROBE, 'ask', 'tcp', vip, '8080', msg], { timeoutMs: 10_000 });
        expect(r.stdout.trim()).toBe(`pong:${msg}`);
        const denied = await x.run([process.execPath, PROBE, 'ask', 'tcp', vip, '8080', msg], { timeoutMs: 15_000 });
        expect(denied.code).toBe(1);
      }
    } finally {
      for (const s of servers) await s.stop();
    }
  });
});

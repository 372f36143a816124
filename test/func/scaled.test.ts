// A scaled endpoint: one IP served by several backends. Switches spread
// flows over the backends (DNAT); backends answer as the scaled endpoint
// (SNAT in their agent), so clients only ever see the scaled endpoint's IP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import { XvpcError } from '../../src/errors.js';
import type { Droplet } from '../../src/droplet/index.js';
import { must, run } from '../../src/util/exec.js';
import { PROBE, delta, destroyDroplets, expectPing, makeDroplets, snapshot } from './lib.js';
import { runStream, startServer } from './probe.js';

describe('a scaled endpoint', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let client: Endpoint, b1: Endpoint, b2: Endpoint, vip: Endpoint;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'h3', 'sw'], 'fk');
    c = new Controller(droplets);
    await c.createVpc({ vni: 60, cidr: '10.60.0.0/16', routers: [] });
    await c.createNetwork({ vni: 60, netId: 1, cidr: '10.60.0.0/16', switches: ['sw'] });
    b1 = await c.createSimpleEndpoint({ vni: 60, netId: 1, ip: '10.60.0.11', host: 'h1' });
    b2 = await c.createSimpleEndpoint({ vni: 60, netId: 1, ip: '10.60.0.12', host: 'h2' });
    client = await c.createSimpleEndpoint({ vni: 60, netId: 1, ip: '10.60.0.2', host: 'h3' });
    vip = await c.createScaledEndpoint({ vni: 60, netId: 1, ip: '10.60.0.100', backends: [b1, b2] });
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('has an IP but no host', async () => {
    expect(vip).toMatchObject({ vni: 60, netId: 1, ip: '10.60.0.100' });
    expect(vip.host).toBeUndefined();
    expect(() => vip.run(['true'])).toThrow(XvpcError);
  });

  it('answers ping as the scaled endpoint', async () => {
    const before = await snapshot([droplets.sw]);
    await expectPing(client, vip.ip, 3);
    const after = await snapshot([droplets.sw]);
    expect(delta(before[0], after[0], 'scaled_dnat')).toBeGreaterThanOrEqual(3);
  });

  it('spreads TCP (HTTP) flows over both backends, replies always from the scaled IP', async () => {
    const servers = await Promise.all([b1, b2].map((b) => startServer(b, 'http', 7501, { name: b.ip })));
    const hosts = [droplets.h1, droplets.h2];
    const before = await snapshot(hosts);
    try {
      // Both servers listen before the scaled endpoint is asked (a loaded machine starts node slowly).
      for (const b of [b1, b2]) await client.run([process.execPath, PROBE, 'ask', 'http', b.ip, '7501', 'ready'], { timeoutMs: 10_000 });
      const answeredBy = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const r = await client.run([process.execPath, PROBE, 'ask', 'http', vip.ip, '7501', `q${i}`], { timeoutMs: 10_000 });
        expect(r.stderr).toBe('');
        const m = /^pong:q\d+@(.+)$/.exec(r.stdout.trim());
        expect(m, r.stdout).not.toBeNull();
        answeredBy.add(m![1]);
      }
      expect([...answeredBy].sort()).toEqual([b1.ip, b2.ip]);
    } finally {
      for (const s of servers) await s.stop();
    }
    const after = await snapshot(hosts);
    // Each backend's agent rewrote its answers to come from the scaled IP.
    for (let i = 0; i < 2; i++) expect(delta(before[i], after[i], 'scaled_snat')).toBeGreaterThan(0);
  });

  it('UDP to the scaled endpoint', async () => {
    const servers = await Promise.all([b1, b2].map((b) => startServer(b, 'udp', 7502, { name: b.ip })));
    try {
      const r = await client.run([process.execPath, PROBE, 'ask', 'udp', vip.ip, '7502', 'u'], { timeoutMs: 10_000 });
      expect(r.stdout.trim()).toMatch(/^pong:u@10\.60\.0\.1[12]$/);
    } finally {
      for (const s of servers) await s.stop();
    }
  });

  it('rewritten TCP and UDP checksums stay right where a host finishes them in software', async () => {
    // With TX checksum offload off on eth0, the switch (DNAT) and the backends' hosts (SNAT)
    // complete every checksum in software from what the data plane left in the header; a
    // wrong patch there makes the receiving endpoint drop the packet. Locally sent packets
    // carry only the pseudo-header sum (CHECKSUM_PARTIAL), which patches the other way round.
    const hosts = [droplets.sw, droplets.h1, droplets.h2];
    const eth0 = (d: Droplet, on: 'on' | 'off') => d.run(['ethtool', '-K', 'eth0', 'tx', on]);
    for (const d of hosts) expect((await eth0(d, 'off')).code).toBe(0);
    const servers = await Promise.all([b1, b2].flatMap((b) => (['tcp', 'udp'] as const).map((proto) =>
      startServer(b, proto, 7503, { name: b.ip }))));
    try {
      for (let i = 0; i < 6; i++) {
        for (const proto of ['tcp', 'udp'] as const) {
          const r = await client.run([process.execPath, PROBE, 'ask', proto, vip.ip, '7503', `c${i}`], { timeoutMs: 10_000 });
          expect(r.stdout.trim(), `${proto} ${r.stderr}`).toMatch(new RegExp(`^pong:c${i}@10\\.60\\.0\\.1[12]$`));
        }
      }
    } finally {
      for (const s of servers) await s.stop();
      for (const d of hosts) await eth0(d, 'on');
    }
  });

  it('a TCP stream to the scaled endpoint crosses a bridge that checks IPv4 lengths', async () => {
    // br_netfilter's IPv4 check trims a frame to its IPv4 length: the outer
    // lengths must stay right after the switch inserts option 0x49.
    const ul = droplets.sw.underlayNs;
    const loaded = await run(['ip', 'netns', 'exec', ul, 'test', '-e', '/proc/sys/net/bridge/bridge-nf-call-iptables']);
    expect(loaded.code, 'br_netfilter must be loaded for this check (dockerd loads it; bootstrap starts dockerd)').toBe(0);
    const nf = (v: 0 | 1) => must(['ip', 'netns', 'exec', ul, 'sysctl', '-qw', `net.bridge.bridge-nf-call-iptables=${v}`]);
    await nf(1);
    const servers = await Promise.all([b1, b2].map((b) => startServer(b, 'tcp', 7504, { name: b.ip })));
    try {
      const s = await runStream(client, vip.ip, 7504, 1);
      expect(s.received, 'bytes and sha256 the backend received').toEqual(s.sent);
      expect(s.sent.bytes).toBeGreaterThan(1e6);
    } finally {
      await nf(0);
      for (const srv of servers) await srv.stop();
    }
  });

  it('a connection always lands on the same backend', async () => {
    const servers = [b1, b2].map((b) => b.run([process.execPath, PROBE, 'serve', 'tcp', '7505', '20', b.ip], { timeoutMs: 30_000 }));
    try {
      await client.run([process.execPath, PROBE, 'ask', 'tcp', vip.ip, '7505', 'ready'], { timeoutMs: 10_000 });
      for (let k = 0; k < 4; k++) {
        const r = await client.run([process.execPath, PROBE, 'converse', vip.ip, '7505', '10'], { timeoutMs: 15_000 });
        expect(r.stderr).toBe('');
        const by = r.stdout.trim().split('\n').map((line) => /^pong:m\d+@(.+)$/.exec(line)?.[1]);
        expect(by).toHaveLength(10);
        expect(new Set(by).size, r.stdout).toBe(1);
        expect([b1.ip, b2.ip]).toContain(by[0]);
      }
    } finally {
      for (const b of [b1, b2]) await b.run(['pkill', '-f', 'probe.mjs serve tcp 7505']);
      await Promise.all(servers);
    }
  });

  it('updateScaledEndpoint changes the backends in place: a new one serves, a removed one no longer does', async () => {
    const b3 = await c.createSimpleEndpoint({ vni: 60, netId: 1, ip: '10.60.0.13', host: 'sw' });
    const all = [b1, b2, b3];
    const servers = all.map((b) => b.run([process.execPath, PROBE, 'serve', 'http', '7506', '30', b.ip], { timeoutMs: 40_000 }));
    /** Who answers `n` connections (from random source ports); stops early once `all` answered. */
    const askMany = async (n: number, all = 0) => {
      const by = new Set<string>();
      for (let i = 0; i < n && !(all && by.size === all); i++) {
        const r = await client.run([process.execPath, PROBE, 'ask', 'http', vip.ip, '7506', `u${i}`], { timeoutMs: 10_000 });
        by.add(/@(.+)$/.exec(r.stdout.trim())?.[1] ?? r.stdout);
      }
      return [...by].sort();
    };
    try {
      await c.updateScaledEndpoint({ vni: 60, netId: 1, ip: vip.ip, backends: [b3] });
      expect(await askMany(6)).toEqual([b3.ip]);
      await c.updateScaledEndpoint({ vni: 60, netId: 1, ip: vip.ip, backends: [b1, b2, b3] });
      expect(await askMany(100, 3)).toEqual([b1.ip, b2.ip, b3.ip]); // each connection 1/3 each: all three long before 100
      await c.updateScaledEndpoint({ vni: 60, netId: 1, ip: vip.ip, backends: [b1, b2] });
      expect(await askMany(12)).not.toContain(b3.ip);
      await c.deleteSimpleEndpoint({ vni: 60, netId: 1, ip: b3.ip }); // no longer a backend: may go
      // Bad updates change nothing.
      await expect(c.updateScaledEndpoint({ vni: 60, netId: 1, ip: vip.ip, backends: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(c.updateScaledEndpoint({ vni: 60, netId: 1, ip: b1.ip, backends: [b2] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not a scaled endpoint/) });
      await expect(c.updateScaledEndpoint({ vni: 60, netId: 1, ip: vip.ip, backends: [b1, b1] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(c.updateScaledEndpoint({ vni: 60, netId: 1, ip: vip.ip, backends: [b3] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await askMany(100, 2)).toEqual([b1.ip, b2.ip]);
    } finally {
      for (const b of all) await b.run(['pkill', '-f', 'probe.mjs serve http 7506']).catch(() => undefined);
      await Promise.all(servers.map((p) => p.catch(() => undefined)));
    }
  });

  it('a backend cannot be deleted while it serves the scaled endpoint', async () => {
    const err = await c.deleteSimpleEndpoint({ vni: 60, netId: 1, ip: b1.ip }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION' });
  });
});

// The reconcile loop repairs drift without a call from the test: a map entry
// deleted behind the controller's back with bpftool, and a host whose
// transitd was stopped, its pins removed and started again (its maps and
// endpoint agents gone, as after a reboot). On a converged system a
// reconcile repairs nothing.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointKey, packEndpoints, unpackEndpoints, type EndpointRecord } from '../../src/abi/index.js';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet } from '../../src/droplet/index.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { must } from '../../src/util/exec.js';
import { destroyDroplets, expectFailedCalls, makeDroplets } from './lib.js';

const VNI = 42;

async function endpointRecord(d: Droplet, ip: string): Promise<{ hostedIfindex: number } | undefined> {
  const c = connectTransitd(d.id, d.transitdAddress);
  try {
    return (await c.dump({})).endpoints.find((e) => e.vni === VNI && e.ip === ip);
  } finally {
    c.close();
  }
}

const hasEndpointRecord = async (d: Droplet, ip: string) => (await endpointRecord(d, ip)) !== undefined;

/** Polls until ping from a to ip works; returns how long it took. */
async function pingsWithin(a: Endpoint, ip: string, ms: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await a.ping(ip, { count: 1, timeoutMs: 1500 })).ok) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`${a.ip} could not ping ${ip} within ${ms} ms`);
  }
}

describe('reconcile loop', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller;
  let a: Endpoint;
  let b: Endpoint;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'sw'], 'cl');
    c = new Controller(droplets, { reconcileIntervalMs: 500 });
    // No direct path: every packet crosses the switch, whose records the test removes.
    await c.createVpc({ vni: VNI, cidr: '10.42.0.0/16', routers: ['sw'], directPath: false });
    await c.createNetwork({ vni: VNI, netId: 1, cidr: '10.42.1.0/24', switches: ['sw'] });
    a = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.42.1.10', host: 'h1' });
    b = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.42.1.11', host: 'h2' });
  });
  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('on a converged system reconcile repairs nothing', async () => {
    expect((await a.ping(b.ip)).ok).toBe(true);
    const r = await c.reconcile();
    expect(r.checked).toBeGreaterThan(0);
    expect(r.repaired).toBe(0);
  });

  it('DumpPacked holds the records Dump holds, endpoints packed with their hosted ifindex', async () => {
    for (const d of [droplets.sw, droplets.h2]) {
      const t = connectTransitd(d.id, d.transitdAddress);
      try {
        const [dump, packed, oneByOne] = [await t.dump({}), await t.dumpPacked({}), await t.dumpPacked({ endpointsPerMessage: 1 })];
        // A stream of one endpoint per message joins into the same bytes.
        expect(Buffer.from(oneByOne.endpoints!.keys).equals(Buffer.from(packed.endpoints!.keys))).toBe(true);
        expect(Buffer.from(oneByOne.endpoints!.values).equals(Buffer.from(packed.endpoints!.values))).toBe(true);
        expect(oneByOne.records).toEqual(packed.records);
        const byIp = (l: { ip: string }[]) => [...l].sort((x, y) => (x.ip < y.ip ? -1 : 1));
        const endpoints = unpackEndpoints({ keys: Buffer.from(packed.endpoints!.keys), values: Buffer.from(packed.endpoints!.values) });
        expect(endpoints.length).toBeGreaterThanOrEqual(d === droplets.sw ? 2 : 1);
        expect(byIp(endpoints)).toEqual(byIp(dump.endpoints));
        // b lives on h2: its record there carries its veth's ifindex (how the Controller finds attachments)
        if (d === droplets.h2) expect(endpoints.find((e) => e.ip === b.ip)?.hostedIfindex).toBeGreaterThan(0);
        expect(packed.records).toEqual({ ...dump, endpoints: [] });
      } finally {
        t.close();
      }
    }
  });

  it('DumpPacked refuses more endpoints per message than fit its message limit, naming the field', async () => {
    const t = connectTransitd(droplets.sw.id, droplets.sw.transitdAddress);
    expectFailedCalls(droplets.sw, 1); // this refusal
    try {
      await expect(t.dumpPacked({ endpointsPerMessage: 10_000_000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/endpointsPerMessage: 10000000 records do not fit/) });
    } finally {
      t.close();
    }
  });

  it('a switch record rewritten behind the controller\'s back (another host MAC) is found and put back by the loop', async () => {
    const t = connectTransitd(droplets.sw.id, droplets.sw.transitdAddress);
    try {
      const record = (await t.dump({})).endpoints.find((e) => e.vni === VNI && e.ip === b.ip)!;
      const wrong: EndpointRecord = { ...record, type: record.type as number, hostMac: '02:ee:ee:ee:ee:ee', hostedIfindex: -1 };
      await t.putEndpoints(packEndpoints([wrong]));
      // The record is there, only its bytes differ: only the comparison of DumpPacked's bytes can find it.
      const deadline = Date.now() + 10_000;
      let now = record.hostMac;
      do {
        now = (await t.dump({})).endpoints.find((e) => e.vni === VNI && e.ip === b.ip)!.hostMac;
        if (now === record.hostMac) break;
        await new Promise((r) => setTimeout(r, 100));
      } while (Date.now() < deadline);
      expect(now).toBe(record.hostMac);
      expect(c.lastReconcile?.error).toBeUndefined();
      expect((await a.ping(b.ip)).ok).toBe(true);
    } finally {
      t.close();
    }
  });

  it('a switch record deleted with bpftool comes back by the loop, and ping works again', async () => {
    const key = [...endpointKey(VNI, b.ip)].map((x) => String(x));
    // bpftool fails on a key that is not there, so this proves the record was
    // there and is gone (the loop may put it back before the test could look).
    await must(['bpftool', 'map', 'delete', 'pinned', `${droplets.sw.pinRoot}/endpoints`, 'key', ...key]);
    await pingsWithin(a, b.ip, 10_000);
    expect(await hasEndpointRecord(droplets.sw, b.ip)).toBe(true);
    expect(c.lastReconcile?.error).toBeUndefined();
  });

  it('the transit program removed from a host\'s NIC behind transitd\'s back shows in Health and is attached again by the loop', async () => {
    const sw = droplets.sw;
    const t = connectTransitd(sw.id, sw.transitdAddress);
    try {
      const { hook } = await t.health({});
      expect((await t.health({})).transitLoaded).toBe(true);
      // tc filter del / ip link set xdp off, as an operator's cleanup script might.
      const off = hook === 'tc' ? ['tc', 'filter', 'del', 'dev', 'eth0', 'ingress'] : ['ip', 'link', 'set', 'dev', 'eth0', 'xdp', 'off'];
      const removedAt = new Date();
      await must(['nsenter', `--net=${sw.netnsPath}`, ...off]);
      // It took: Health says so at once, unless the loop has put it back already.
      const rightAfter = (await t.health({})).transitLoaded;
      const last = c.lastReconcile;
      expect(rightAfter === false || (last !== undefined && last.at >= removedAt && last.repaired > 0), 'Health saw it gone').toBe(true);
      const seenAt = Date.now();
      await pingsWithin(a, b.ip, 10_000);
      expect((await t.health({})).transitLoaded).toBe(true);
      expect(Date.now() - seenAt).toBeLessThan(10_000);
      expect(c.lastReconcile?.error).toBeUndefined();
    } finally {
      t.close();
    }
  });

  it('an endpoint\'s veth deleted behind the controller\'s back is plumbed anew by the loop', async () => {
    const h2 = droplets.h2;
    const was = (await endpointRecord(h2, b.ip))?.hostedIfindex;
    expect(was).toBeGreaterThan(0);
    const links = await must(['nsenter', `--net=${h2.netnsPath}`, 'ip', '-o', 'link', 'show']);
    const veth = new RegExp(`^${was}: ([^:@]+)`, 'm').exec(links)![1];
    await must(['nsenter', `--net=${h2.netnsPath}`, 'ip', 'link', 'del', veth]);
    await pingsWithin(a, b.ip, 20_000);
    const now = (await endpointRecord(h2, b.ip))?.hostedIfindex;
    expect(now, 'b on a new veth').not.toBe(was);
    expect(now).toBeGreaterThan(0);
    expect((await c.reconcile()).repaired).toBe(0);
  });

  it('an endpoint attached without a record or a place in the desired state (a delete cut short) is detached by the loop', async () => {
    // What a controller killed between deleting an endpoint's records and detaching it leaves:
    // transitd's agent, veth and namespace, and nothing that names them.
    const h1 = droplets.h1;
    const t = connectTransitd(h1.id, h1.transitdAddress);
    try {
      const [left] = (await t.attachEndpoints({ endpoints: [{
        vni: VNI, netId: 1, ip: '10.42.1.77', mac: '0e:2a:0a:2a:01:4d', cidr: '10.42.1.0/24', gatewayIp: '10.42.1.1',
        hostEndpoint: false, mtu: 0, vpcCidr: '10.42.0.0/16',
      }] })).endpoints;
      expect(existsSync(`/run/netns/${left.netns}`)).toBe(true);
      const attached = async () => (await t.dumpPacked({})).attached.map((k) => `${k.vni}/${k.ip}`);
      const start = Date.now();
      while ((await attached()).includes(`${VNI}/10.42.1.77`) || existsSync(`/run/netns/${left.netns}`)) {
        if (Date.now() - start > 20_000) throw new Error('the leftover attachment was not removed within 20 s');
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await attached()).toEqual(expect.arrayContaining([`${VNI}/${a.ip}`]));
    } finally {
      t.close();
    }
    expect((await c.reconcile()).repaired).toBe(0);
    expect((await a.ping(b.ip)).ok).toBe(true);
  });

  it('a host restarted with its pins removed (as after a reboot) is re-programmed by the loop', async () => {
    const h2 = droplets.h2;
    const attachedAt = (await endpointRecord(h2, b.ip))?.hostedIfindex;
    expect(attachedAt).toBeGreaterThan(0);
    await h2.stopTransitd();
    await rm(h2.pinRoot, { recursive: true, force: true });
    expect(existsSync(h2.pinRoot), 'pins removed').toBe(false);
    // The loop (every 500 ms) may repair it before the test could look, so
    // the proof is that b was attached anew: a new veth, a new ifindex.
    await h2.startTransitd();
    await pingsWithin(a, b.ip, 20_000);
    const reattachedAt = (await endpointRecord(h2, b.ip))?.hostedIfindex;
    expect(reattachedAt).toBeGreaterThan(0);
    expect(reattachedAt, 'b re-attached on a new veth').not.toBe(attachedAt);
    // The loop has done it all: nothing is left to repair.
    expect((await c.reconcile()).repaired).toBe(0);
    expect((await b.ping(a.ip)).ok).toBe(true);
  });
});

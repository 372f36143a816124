// createDroplets({ transitd: 'shared' }): one transitd host process serves
// several netns droplets, each droplet's transitd run inside the droplet's
// namespace (src/transitd/host.ts, src/dataplane/netns-context.ts). The VPC works through it as with a process per droplet
// (ping, a hash-checked TCP stream), one droplet's transitd restarts or goes
// alone, and cleanupAll (`xvpc down`) leaves no process, namespace or pin.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import { addon } from '../../src/dataplane/addon.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import { cleanupAll, createDroplets, openDroplets, type Droplet } from '../../src/droplet/index.js';
import { PIN_ROOT, runDir } from '../../src/droplet/names.js';
import { findProcesses, isRunning } from '../../src/droplet/process.js';
import { listNamespaces } from '../../src/util/netns.js';
import { expectPing, shortPrefix } from './lib.js';
import { runStream, startServer } from './probe.js';

/** The transit program's id on a droplet's eth0 (0: none), asked inside its namespace. */
function transitOnEth0(d: Droplet): number {
  const ifindex = addon.ifIndex('eth0', d.netnsPath);
  return d.mode === 'tc' ? addon.tcQuery(ifindex, d.netnsPath) : addon.xdpQuery(ifindex, d.mode, d.netnsPath);
}

async function leftovers(prefix: string) {
  return {
    processes: await findProcesses(`${runDir(prefix)}/`),
    namespaces: (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`)),
    pins: (await readdir(PIN_ROOT).catch(() => [] as string[])).filter((p) => p.startsWith(`${prefix}-`)),
  };
}

describe('one transitd host process for several netns droplets', () => {
  const prefix = shortPrefix('sh');
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let a: Endpoint;
  let b: Endpoint;

  beforeAll(async () => {
    droplets = await createDroplets(['h1', 'h2', 'sw'], { prefix, transitd: 'shared' });
    c = new Controller(droplets);
    await c.createVpc({ vni: 41, cidr: '10.41.0.0/16', routers: [], directPath: false });
    await c.createNetwork({ vni: 41, netId: 1, cidr: '10.41.1.0/24', switches: ['sw'] });
    a = await c.createSimpleEndpoint({ vni: 41, netId: 1, ip: '10.41.1.2', host: 'h1' });
    b = await c.createSimpleEndpoint({ vni: 41, netId: 1, ip: '10.41.1.3', host: 'h2' });
  });

  afterAll(async () => {
    await c?.close();
    await cleanupAll(prefix);
  });

  it('one process serves them all, each inside its own namespace, and its thread is back in ours', async () => {
    const pids = new Set(Object.values(droplets).map((d) => d.transitdPid));
    expect(pids.size).toBe(1);
    const [pid] = [...pids] as number[];
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    expect(argv[1]).toMatch(/dist\/transitd\/host\.js$/);
    for (const d of Object.values(droplets)) {
      const h = await d.health();
      expect(h).toMatchObject({ host: d.id, ip: d.ip, mac: d.mac, pid, transitLoaded: true });
      expect(transitOnEth0(d), `the transit program on ${d.id}'s eth0`).toBeGreaterThan(0);
    }
    // Between calls the host's thread is in the namespace it started in (ours).
    expect(await readlink(`/proc/${pid}/task/${pid}/ns/net`)).toBe(await readlink('/proc/self/ns/net'));
    // Nothing else of this prefix runs a transitd.
    expect(await findProcesses(`${runDir(prefix)}/`)).toEqual([pid]);
  });

  it('endpoints on two droplets reach each other: ping, and a TCP stream arrives byte for byte', async () => {
    await expectPing(a, b.ip, 3);
    await expectPing(b, a.ip, 3);
    const server = await startServer(b, 'tcp', 7611);
    try {
      const s = await runStream(a, b.ip, 7611, 1);
      expect(s.sent.bytes).toBeGreaterThan(1e6);
      expect(s.received, 'bytes and sha256 the server received').toEqual(s.sent);
    } finally {
      await server.stop();
    }
  });

  it("restarting one droplet's transitd restarts it alone, in the same process; the VPC still works", async () => {
    const pid = droplets.h2.transitdPid!;
    await droplets.h2.restartTransitd();
    expect(droplets.h2.transitdPid).toBe(pid);
    expect(droplets.h1.transitdPid).toBe(pid);
    expect((await droplets.h2.health()).host).toBe('h2');
    expect((await droplets.h1.health()).host).toBe('h1');
    await expectPing(a, b.ip, 3);
  });

  it("a stopped droplet's transitd stops alone, and starts again", async () => {
    const pid = droplets.sw.transitdPid!;
    await droplets.sw.stopTransitd();
    expect(droplets.sw.transitdPid).toBeUndefined();
    await expect(droplets.sw.health()).rejects.toThrow(/not running/);
    expect(await isRunning(pid)).toBe(true);
    expect((await droplets.h1.health()).host).toBe('h1');
    await droplets.sw.startTransitd();
    expect(droplets.sw.transitdPid).toBe(pid);
    await expectPing(a, b.ip, 3);
  });

  it('a second createDroplets call gets a host of its own, which ends with its last droplet', async () => {
    const more = await createDroplets(['x1'], { prefix, transitd: 'shared' });
    const pid = more.x1.transitdPid!;
    expect(pid).not.toBe(droplets.h1.transitdPid);
    expect((await more.x1.health()).host).toBe('x1');
    await more.x1.destroy();
    expect(await isRunning(pid)).toBe(false);
    expect(await isRunning(droplets.h1.transitdPid!)).toBe(true);
  });

  it('shared is for netns droplets without TCP or metrics listeners, and transitd takes true, false or shared only', async () => {
    await expect(createDroplets(['y1'], { prefix, transitd: 'shared', backend: 'docker' }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^transitd: 'shared' is for netns droplets only/) });
    await expect(createDroplets(['y1'], { prefix, transitd: 'shared', transitdMetricsPort: 9100 }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^transitd: 'shared' serves no transitdMetricsPort/) });
    await expect(createDroplets(['y1'], { prefix, transitd: 'both' as never }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^transitd: 'both'/) });
    expect(await listNamespaces()).not.toContain(`${prefix}-y1`);
  });

  it('openDroplets (another process) takes the shared transitds over: same pid, Health, per-droplet restart', async () => {
    const pid = droplets.h1.transitdPid!;
    const again = await openDroplets({ prefix });
    expect(Object.keys(again).sort()).toEqual(['h1', 'h2', 'sw']);
    for (const d of Object.values(again)) {
      expect(d.transitdPid).toBe(pid);
      expect((await d.health()).host).toBe(d.id);
    }
    await again.h1.restartTransitd();
    expect(again.h1.transitdPid).toBe(pid);
    expect((await droplets.h2.health()).host).toBe('h2');
    await expectPing(a, b.ip, 2);
  });

  it('cleanupAll (xvpc down) stops the host and leaves no process, namespace or pin', async () => {
    const pid = droplets.h1.transitdPid!;
    await c.close();
    const summary = await cleanupAll(prefix);
    expect(summary.processes).toEqual([pid]);
    expect(await isRunning(pid)).toBe(false);
    expect(await leftovers(prefix)).toEqual({ processes: [], namespaces: [], pins: [] });
  });
});

// Provisioning: how long a new endpoint takes from createSimpleEndpoint() to
// its first answered ping, and what endpoints cost in time and memory when
// many are created on one host.
//
// Droplets: `host` (the new endpoints), `peer` (one endpoint they ping),
// `switch` (the network's switch). A ready endpoint has its namespace, veth,
// agent and records in place on its host, and the switch knows it: the ping
// goes new endpoint -> agent -> switch -> peer and back.
import { performance } from 'node:perf_hooks';
import { Controller } from '../dist/controller/controller.js';
import type { Endpoint } from '../dist/controller/endpoint.js';
import { createDroplets, destroyDroplets } from '../dist/droplet/index.js';
import { formatIpv4 } from '../dist/util/addr.js';
import { endpointMac } from '../dist/controller/addressing.js';
import { connectTransitd } from '../dist/transitd/client.js';
import { run } from '../dist/util/exec.js';
import { cgroupMemory, cpuSeconds, kernelBytes, meminfo, percentile, rssBytes, sig } from './measure.js';
import { nsRun } from './ns.js';

export interface ReadyResult {
  endpoints: number;
  /** createSimpleEndpoint() call to first echo reply, ms */
  p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number;
  /** the two parts: the call itself, then from its return to the first reply (ping start included) */
  createP50Ms: number; createP99Ms: number;
  pingP50Ms: number; pingP99Ms: number;
  /** echo requests that went unanswered before the first reply, summed */
  lostBeforeFirstReply: number;
  pingIntervalMs: number;
  /** transitd's AttachEndpoint alone (namespace, veth, addresses, XDP), called directly for a few extra endpoints, ms */
  attachP50Ms: number;
  attachSamples: number;
}

export interface ScaleResult {
  endpoints: number;
  totalSeconds: number;
  perEndpointMs: number;
  /** time of the first and the last tenth of the calls, per endpoint: how the cost grows with the count */
  firstTenthPerEndpointMs: number;
  lastTenthPerEndpointMs: number;
  /** CPU seconds over the whole run: this process (the Controller) and the host's transitd with the commands it ran */
  cpuSeconds: { controller: number; hostTransitd: number };
  memory: {
    /** the headline: growth of this run's memory cgroup per endpoint if there is one, else MemAvailable's drop per endpoint */
    perEndpointBytes: number;
    method: string;
    /** memory charged to this run's cgroup (transitds, the commands they run, the kernel objects they create, this process) */
    cgroup?: { source: string; usageDeltaBytes: number; kernelDeltaBytes: number; perEndpointBytes: number; perEndpointKernelBytes: number };
    /** system-wide, noisy when others share the machine */
    memAvailableDropBytes: number;
    /** Slab + Percpu + KernelStack + PageTables + VmallocUsed growth, system-wide */
    systemKernelDeltaBytes: number;
    transitdRssDeltaBytes: number;
    perEndpointTransitdBytes: number;
  };
  verified: string;
}

export interface ProvisioningResult {
  ready: ReadyResult;
  scale: ScaleResult;
  /** median time to run one short command (`ip -j link show lo`) as transitd's plumbing does, ms */
  commandSpawnMs: number;
}

const VNI = 5;
const PEER_IP = '10.0.255.254';
const PING_INTERVAL_S = 0.005;
const wallMs = (): number => performance.timeOrigin + performance.now();

/** Pings `ip` from `ep` until the first reply; the reply's wall-clock time (ms) and its sequence number. */
async function firstReply(ep: Endpoint, ip: string): Promise<{ atMs: number; seq: number }> {
  const r = await nsRun(ep.netns, ['ping', '-n', '-D', '-c', '1', '-w', '10', '-i', String(PING_INTERVAL_S), ip], 15_000);
  const m = /^\[(\d+\.\d+)\] .*icmp_seq=(\d+)/m.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`endpoint ${ep.ip} never reached ${ip}: ${r.stdout.trim().split('\n').slice(-2).join(' ')}`);
  return { atMs: Number(m[1]) * 1000, seq: Number(m[2]) };
}

/** nth endpoint address of this run (10.0.0.2 upwards, below the peer). */
const epIp = (n: number): string => formatIpv4(((10 << 24) >>> 0) + 2 + n);

export async function measureProvisioning(prefix: string, readyCount: number, scaleCount: number,
  onStep: (s: string) => void, onDone: (s: string) => void): Promise<ProvisioningResult> {
  onStep('droplets host, peer, switch; VPC and peer endpoint');
  const droplets = await createDroplets(['host', 'peer', 'switch'], { prefix });
  const c = new Controller(droplets);
  let n = 0; // endpoints made so far (and the index of the next address)
  try {
    await c.createVpc({ vni: VNI, cidr: '10.0.0.0/16', routers: [] });
    await c.createNetwork({ vni: VNI, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });
    await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: PEER_IP, host: 'peer' });
    onDone('');

    // 1. Ready-to-ping, one endpoint at a time.
    onStep(`${readyCount} endpoints: createSimpleEndpoint() -> first ping reply`);
    const total: number[] = [], create: number[] = [], ping: number[] = [];
    let lost = 0;
    for (let i = 0; i < readyCount; i++, n++) {
      const t0 = wallMs();
      const ep = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: epIp(n), host: 'host' });
      const t1 = wallMs();
      const reply = await firstReply(ep, PEER_IP);
      total.push(reply.atMs - t0);
      create.push(t1 - t0);
      ping.push(reply.atMs - t1);
      lost += reply.seq - 1;
    }
    // transitd's share: AttachEndpoint called directly for a few more, then detached again.
    const client = connectTransitd('host', droplets.host.transitdAddress);
    const attach: number[] = [];
    try {
      for (let k = 0; k < 8; k++) {
        const ip = formatIpv4(((10 << 24) >>> 0) + (200 << 8) + 10 + k);
        const t = wallMs();
        await client.attachEndpoint({ vni: VNI, netId: 1, ip, mac: endpointMac(VNI, ip), cidr: '10.0.0.0/16', gatewayIp: '10.0.0.1', hostEndpoint: false, mtu: 0, vpcCidr: '' });
        attach.push(wallMs() - t);
        await client.detachEndpoint({ vni: VNI, ip });
      }
    } finally {
      client.close();
    }
    const ready: ReadyResult = {
      endpoints: readyCount,
      p50Ms: sig(percentile(total, 50)), p90Ms: sig(percentile(total, 90)), p99Ms: sig(percentile(total, 99)), maxMs: sig(Math.max(...total)),
      createP50Ms: sig(percentile(create, 50)), createP99Ms: sig(percentile(create, 99)),
      pingP50Ms: sig(percentile(ping, 50)), pingP99Ms: sig(percentile(ping, 99)),
      lostBeforeFirstReply: lost, pingIntervalMs: PING_INTERVAL_S * 1000,
      attachP50Ms: sig(percentile(attach, 50)), attachSamples: attach.length,
    };
    onDone(`p50 ${ready.p50Ms} ms, p99 ${ready.p99Ms} ms`);

    // 2. Many endpoints on one host: time and memory.
    onStep(`${scaleCount} more endpoints on one host`);
    const host = droplets.host;
    const mem0 = await meminfo();
    const cg0 = await cgroupMemory();
    const rss0 = await rssBytes(host.transitdPid);
    const created: Endpoint[] = [];
    const tenthCount = Math.ceil(scaleCount / 10);
    const cpu0 = { controller: process.cpuUsage(), transitd: await cpuSeconds(host.transitdPid) };
    const t0 = wallMs();
    let firstTenthEnd = t0;
    let lastTenthStart = t0;
    for (let i = 0; i < scaleCount; i++, n++) {
      if (i === tenthCount) firstTenthEnd = wallMs();
      if (i === scaleCount - tenthCount) lastTenthStart = wallMs();
      created.push(await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: epIp(n), host: 'host' }));
    }
    const t1 = wallMs();
    const controllerCpu = process.cpuUsage(cpu0.controller);
    const transitdCpu = (await cpuSeconds(host.transitdPid)) - cpu0.transitd;
    const mem1 = await meminfo();
    const cg1 = await cgroupMemory();
    const rss1 = await rssBytes(host.transitdPid);
    // A sample of them must work.
    const sample = [created[0], created[created.length - 1], ...created.filter((_, k) => k % Math.max(1, Math.floor(created.length / 8)) === 0)];
    for (const ep of sample) await firstReply(ep, PEER_IP);
    const drop = mem0.MemAvailable - mem1.MemAvailable;
    const kernel = kernelBytes(mem1) - kernelBytes(mem0);
    const cg = cg0 && cg1 ? {
      source: cg1.source, usageDeltaBytes: cg1.usageBytes - cg0.usageBytes, kernelDeltaBytes: cg1.kernelBytes - cg0.kernelBytes,
      perEndpointBytes: Math.round((cg1.usageBytes - cg0.usageBytes) / scaleCount),
      perEndpointKernelBytes: Math.round((cg1.kernelBytes - cg0.kernelBytes) / scaleCount),
    } : undefined;
    const scale: ScaleResult = {
      endpoints: scaleCount,
      totalSeconds: sig((t1 - t0) / 1000),
      perEndpointMs: sig((t1 - t0) / scaleCount),
      firstTenthPerEndpointMs: sig((firstTenthEnd - t0) / tenthCount),
      lastTenthPerEndpointMs: sig((t1 - lastTenthStart) / tenthCount),
      cpuSeconds: { controller: sig((controllerCpu.user + controllerCpu.system) / 1e6), hostTransitd: sig(transitdCpu) },
      memory: {
        perEndpointBytes: cg ? cg.perEndpointBytes : Math.round(drop / scaleCount),
        method: cg ? `growth of this run's memory cgroup (${cg.source}) / endpoints` : 'MemAvailable drop / endpoints (system-wide)',
        ...(cg ? { cgroup: cg } : {}),
        memAvailableDropBytes: drop,
        systemKernelDeltaBytes: kernel,
        transitdRssDeltaBytes: rss1 - rss0,
        perEndpointTransitdBytes: Math.round((rss1 - rss0) / scaleCount),
      },
      verified: `${sample.length} of them pinged the peer`,
    };
    onDone(`${scale.totalSeconds} s, ${sig(scale.memory.perEndpointBytes / 1024)} KiB per endpoint`);
    const spawns: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = wallMs();
      await run(['ip', '-j', 'link', 'show', 'lo']);
      spawns.push(wallMs() - t);
    }
    return { ready, scale, commandSpawnMs: sig(percentile(spawns, 50), 2) };
  } finally {
    await c.close().catch(() => undefined);
    onStep(`teardown of ${n + 1} endpoints`);
    await destroyDroplets(droplets);
    onDone('');
  }
}

// Emulation at scale (issue 16 item 4): generated scenarios run through the
// public path, runScenario() (what `xvpc up` runs), then cleanupAll() of the
// prefix (what `xvpc down` runs), timed and with their memory:
//   one host   1,000 endpoints on one droplet (+ a switch droplet): ready time; a namespace per
//              endpoint, and again with the droplet's endpoints sharing one (for comparison)
//   ten hosts  10,000 endpoints on 10 droplets, endpoints sharing one namespace per droplet:
//              up and down time, memory per endpoint
//   hundred    100 droplets with 100 endpoints each, shared namespaces and one transitd
//              process: memory in all
// --quick runs smaller ones and extrapolates (scale-report.ts marks them estimates).
//
// Memory: this run's memory cgroup plus the kernel memory it was not charged
// for (scale-memory.ts says why and how).
import { readFile } from 'node:fs/promises';
import { cleanupAll } from '../dist/droplet/index.js';
import { readPid } from '../dist/droplet/records.js';
import { runScenario } from '../dist/scenario/run.js';
import { cgroupMemory, kernelBytes, meminfo, rssBytes, sig } from './measure.js';
import { addGrowth, memoryGrowth, type MemoryGrowth, type MemorySnapshot } from './scale-memory.js';
import { scenarioText, type ScaleShape } from './scale-scenario.js';

export type { ScaleShape };

export interface ScaleRun {
  label: string;
  /** XVPC_TRANSITD_CAPACITY the run's transitds started with (map sizes; '' = the defaults) */
  transitdCapacity: string;
  shape: ScaleShape;
  droplets: number;
  endpoints: number;
  /** runScenario's readyMs: from the start until every endpoint exists and the run file says up (before checks) */
  upSeconds: number;
  /** of it: the droplets stage */
  dropletsSeconds: number;
  /** cleanupAll(prefix), as `xvpc down` */
  downSeconds: number;
  /** stage -> seconds, from the scenario report */
  stages: Record<string, number>;
  /** the pingall check after ready: pairs sampled and answered */
  pingall: { pairs: number; answered: number; ok: boolean };
  memory: {
    /** how `bytes` is counted: "memory cgroup + uncharged kernel" or "MemAvailable drop, system-wide" */
    method: string;
    /** the cgroup's path */
    source?: string;
    /** growth from before up to the droplets stage's end, from there to ready, and both */
    droplets: MemoryGrowth;
    endpoints: MemoryGrowth;
    total: MemoryGrowth;
    perDropletBytes: number;
    perEndpointBytes: number;
    /** the transitd processes after the checks (one for a shared host): RSS summed (shared pages counted in each), and their anonymous memory summed */
    transitdRssSumBytes: number;
    transitdAnonSumBytes: number;
  };
}

export interface ScaleResult {
  quick: boolean;
  oneHost?: ScaleRun;
  /** the one-host run with the droplet's endpoints in one namespace (a row to compare, no target of its own) */
  oneHostShared?: ScaleRun;
  tenHosts?: ScaleRun;
  hundred?: ScaleRun;
  /** the run that failed, and why (the rest still ran) */
  errors: Record<string, string>;
}

async function snapshot(): Promise<MemorySnapshot & { source?: string }> {
  const [cg, mi] = await Promise.all([cgroupMemory(), meminfo()]);
  return { usageBytes: cg?.usageBytes ?? NaN, kernelBytes: cg?.kernelBytes ?? NaN, systemKernelBytes: kernelBytes(mi), memAvailableBytes: mi.MemAvailable, source: cg?.source };
}

/** Network namespaces the kernel still holds (freed by a worker, in batches, well after `ip netns del`). */
async function kernelNamespaces(): Promise<number> {
  const line = (await readFile('/proc/slabinfo', 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith('net_namespace '));
  return line ? Number(line.split(/\s+/)[1]) : NaN;
}

/**
 * Waits until the cgroup's usage, the kernel's memory and the kernel's count of
 * namespaces have stopped falling for 5 s in a row (the kernel frees namespaces
 * and maps long after they are deleted: 10,000 endpoint namespaces took minutes,
 * and their freeing counted against the next run's growth), at most maxMs.
 */
export async function settle(maxMs = 240_000): Promise<void> {
  const end = Date.now() + maxMs;
  let last = { ...(await snapshot()), namespaces: await kernelNamespaces() };
  let quiet = 0;
  while (Date.now() < end && quiet < 5) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = { ...(await snapshot()), namespaces: await kernelNamespaces() };
    const falling = (a: number, b: number, by: number) => Number.isFinite(b) && a - b >= by;
    const busy = falling(last.usageBytes, now.usageBytes, 2 ** 20) || falling(last.systemKernelBytes, now.systemKernelBytes, 2 ** 20)
      || falling(last.namespaces, now.namespaces, 1);
    quiet = busy ? 0 : quiet + 1;
    last = now;
  }
}

async function anonBytes(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^RssAnon:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** One scenario: up through runScenario, a pingall sample, memory, then down; the prefix is removed whatever fails. */
export async function runScale(label: string, prefix: string, shape: ScaleShape, workDir: string, capacity: string,
  onStep: (s: string) => void, onDone: (s: string) => void): Promise<ScaleRun> {
  const droplets = shape.hosts + (shape.switchHost ? 1 : 0);
  const endpoints = shape.hosts * shape.perHost;
  let downSeconds: number | undefined;
  try {
    const settleStart = Date.now();
    await settle();
    const settled = `kernel settled after ${((Date.now() - settleStart) / 1000).toFixed(0)} s`;
    onStep(`${label}: up ${endpoints.toLocaleString('en')} endpoints on ${shape.hosts} droplet(s) (${droplets} in all), runScenario --prefix ${prefix} (${settled})`);
    const before = await snapshot();
    let atDroplets: Promise<MemorySnapshot> | undefined;
    let atReady: Promise<MemorySnapshot> | undefined;
    // The droplets' transitds take their map sizes from the environment they are started in.
    const saved = process.env.XVPC_TRANSITD_CAPACITY;
    process.env.XVPC_TRANSITD_CAPACITY = capacity;
    let r: Awaited<ReturnType<typeof runScenario>>;
    try {
      r = await runScenario({
        text: scenarioText(label, shape), prefix, reportBase: `${workDir}/scenario-${label}`,
        onProgress: (e) => {
          if (e.kind === 'stage-end' && e.stage === 'droplets') atDroplets = snapshot();
          if (e.kind === 'stage-start' && e.stage === 'record') atReady = snapshot();
        },
      });
    } finally {
      if (saved === undefined) delete process.env.XVPC_TRANSITD_CAPACITY;
      else process.env.XVPC_TRANSITD_CAPACITY = saved;
    }
    if (!atDroplets || !atReady) throw new Error(`${label}: the run reported no droplets or record stage`);
    const [d, rd] = [await atDroplets, await atReady];
    const rep = r.report;
    if (rep.endpoints !== endpoints) throw new Error(`${label}: ${rep.endpoints} endpoints made, not ${endpoints}`);
    const ping = rep.checks.pings;
    const stages = Object.fromEntries(rep.stages.map((s) => [s.name, sig((s.durationMs ?? NaN) / 1000)]));
    // Distinct pids: a shared transitd host serves many droplets.
    const pids = [...new Set(await Promise.all(r.run.hosts.map((h) => readPid(prefix, h.name))))];
    const rss = await Promise.all(pids.map((p) => rssBytes(p)));
    const anon = await Promise.all(pids.map((p) => anonBytes(p)));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const dropletsGrowth = memoryGrowth(before, d);
    const endpointsGrowth = memoryGrowth(d, rd);
    onDone(`ready in ${sig(rep.readyMs! / 1000)} s, ${ping.filter((p) => p.ok).length}/${ping.length} pings answered`);

    onStep(`${label}: down (cleanupAll ${prefix})`);
    const t0 = performance.now();
    await cleanupAll(prefix);
    downSeconds = (performance.now() - t0) / 1000;
    onDone(`${sig(downSeconds)} s`);
    return {
      label, transitdCapacity: capacity, shape, droplets, endpoints,
      upSeconds: sig(rep.readyMs! / 1000), dropletsSeconds: stages.droplets ?? NaN, downSeconds: sig(downSeconds), stages,
      pingall: { pairs: ping.length, answered: ping.filter((p) => p.ok).length, ok: r.ok },
      memory: {
        method: Number.isFinite(dropletsGrowth.cgroupBytes) ? 'memory cgroup + uncharged kernel' : 'MemAvailable drop, system-wide',
        ...(before.source ? { source: before.source } : {}),
        droplets: dropletsGrowth, endpoints: endpointsGrowth, total: addGrowth(dropletsGrowth, endpointsGrowth),
        perDropletBytes: Math.round(dropletsGrowth.bytes / droplets),
        perEndpointBytes: Math.round(endpointsGrowth.bytes / endpoints),
        transitdRssSumBytes: sum(rss), transitdAnonSumBytes: sum(anon),
      },
    };
  } finally {
    if (downSeconds === undefined) await cleanupAll(prefix).catch(() => undefined);
  }
}

export interface ScaleSettings { oneHost: ScaleShape; oneHostShared: ScaleShape; tenHosts: ScaleShape; hundred?: ScaleShape }
export type ScaleKey = keyof ScaleSettings;

/**
 * Map sizes for emulated droplets (transitd --capacity, here through
 * XVPC_TRANSITD_CAPACITY): room for these scenarios' 10,000 endpoint records
 * per host, 4,096 endpoints hosted and tracked connections, instead of the
 * defaults sized for a real host (1M records, 256k connections). Measured per
 * droplet (cgroup, 10 droplets): 112.6 MB with the defaults preallocated,
 * 80.5 MB with the control-plane maps not preallocated, 22.8 MB with these
 * (docs/emulation.md "Memory").
 */
export const EMULATION_CAPACITY = 'endpoints=16384,agent_meta=4096,conntrack=4096,ep_host_cache=4096,scaled_flows=1024,scaled_backends=1024,'
  + 'vpcs=1024,networks=1024,substrate=1024,sg_attach=16384';

// The ten- and hundred-droplet runs put each droplet's endpoints in one namespace (scenario
// hosts.endpointNamespace: shared): ~90 kB of kernel memory per endpoint instead of ~310 kB, a
// namespace each (docs/emulation.md "Memory"). The one-host run keeps a namespace per endpoint,
// and runs again shared, to compare at the same size.
export const SCALE_FULL: ScaleSettings = {
  oneHost: { hosts: 1, perHost: 1000, switchHost: true },
  oneHostShared: { hosts: 1, perHost: 1000, switchHost: true, endpointNamespace: 'shared' },
  tenHosts: { hosts: 10, perHost: 1000, switchHost: false, endpointNamespace: 'shared' },
  // One transitd process for the hundred droplets (scenario hosts.transitd: shared): ~2.4 MB of Node
  // per droplet instead of ~19 MB (bench/transitd-memory.ts; bench/README.md "transitd memory").
  hundred: { hosts: 100, perHost: 100, switchHost: false, transitd: 'shared', endpointNamespace: 'shared' },
};
/** --quick: a fifth of the one-host runs, a tenth of the ten-host run; the hundred droplets are extrapolated from the ten-host run's costs. */
export const SCALE_QUICK: ScaleSettings = {
  oneHost: { hosts: 1, perHost: 200, switchHost: true },
  oneHostShared: { hosts: 1, perHost: 200, switchHost: true, endpointNamespace: 'shared' },
  tenHosts: { hosts: 10, perHost: 100, switchHost: false, endpointNamespace: 'shared' },
};

/** Every run, each under its own prefix; one failing does not stop the others. */
export async function measureScale(prefixes: Record<ScaleKey, string>, quick: boolean, workDir: string,
  onStep: (s: string) => void, onDone: (s: string) => void): Promise<ScaleResult> {
  const cfg = quick ? SCALE_QUICK : SCALE_FULL;
  const out: ScaleResult = { quick, errors: {} };
  const one = async (key: ScaleKey, shape: ScaleShape | undefined) => {
    if (!shape) return;
    try {
      out[key] = await runScale(key, prefixes[key], shape, workDir, EMULATION_CAPACITY, onStep, onDone);
    } catch (err) {
      out.errors[key] = err instanceof Error ? err.message : String(err);
      onDone(`FAILED: ${out.errors[key].split('\n')[0]}`);
    }
  };
  await one('oneHost', cfg.oneHost);
  await one('oneHostShared', cfg.oneHostShared);
  await one('tenHosts', cfg.tenHosts);
  await one('hundred', cfg.hundred);
  return out;
}

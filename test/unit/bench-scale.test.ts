// The scale bench's pure parts: the scenario it generates (bench/scale-scenario.ts),
// what it counts as memory (bench/scale-memory.ts) and how its runs judge issue 16's
// targets (bench/scale-report.ts).
import { describe, expect, it } from 'vitest';
import { scenarioText } from '../../bench/scale-scenario.js';
import { SCALE_GOALS, scaleReport, scaledMemoryBytes, scaledUpSeconds } from '../../bench/scale-report.js';
import { SCALE_FULL, SCALE_QUICK, type ScaleResult, type ScaleRun, type ScaleShape } from '../../bench/scale.js';
import { memoryGrowth, type MemoryGrowth } from '../../bench/scale-memory.js';
import { parseScenarioText } from '../../src/scenario/parse.js';
import { makePlan } from '../../src/scenario/plan.js';

const growth = (bytes: number): MemoryGrowth => ({ bytes, cgroupBytes: bytes, cgroupKernelBytes: 0, unchargedKernelBytes: 0, memAvailableDropBytes: bytes });

function run(hosts: number, perHost: number, o: { up?: number; droplets?: number; down?: number; perDropletMB?: number; perEndpointMB?: number; answered?: number } = {}): ScaleRun {
  const endpoints = hosts * perHost;
  const droplets = hosts + (hosts === 1 ? 1 : 0);
  const perDropletBytes = (o.perDropletMB ?? 25) * 1e6;
  const perEndpointBytes = (o.perEndpointMB ?? 0.15) * 1e6;
  return {
    label: 'x', transitdCapacity: 'conntrack=4096', shape: { hosts, perHost, switchHost: hosts === 1 }, droplets, endpoints,
    upSeconds: o.up ?? 30, dropletsSeconds: o.droplets ?? 10, downSeconds: o.down ?? 5, stages: { droplets: o.droplets ?? 10, endpoints: 15 },
    pingall: { pairs: 20, answered: o.answered ?? 20, ok: (o.answered ?? 20) === 20 },
    memory: {
      method: 'memory cgroup + uncharged kernel', droplets: growth(perDropletBytes * droplets), endpoints: growth(perEndpointBytes * endpoints),
      total: growth(perDropletBytes * droplets + perEndpointBytes * endpoints), perDropletBytes, perEndpointBytes,
      transitdRssSumBytes: 0, transitdAnonSumBytes: 0,
    },
  };
}

const byId = (r: ReturnType<typeof scaleReport>) => Object.fromEntries(r.targets.map((t) => [t.id, t]));

describe('scale bench: the generated scenario', () => {
  it('plans the hosts, the switch and the endpoints of each shape, with a pingall sample of about 20 pairs', () => {
    for (const [shape, hostCount, switches] of [
      [{ hosts: 1, perHost: 1000, switchHost: true }, 2, ['sw']],
      [{ hosts: 10, perHost: 1000, switchHost: false }, 10, ['h1', 'h2']],
      [{ hosts: 100, perHost: 100, switchHost: false }, 100, ['h1', 'h2']],
    ] as const) {
      const { scenario, source } = parseScenarioText(scenarioText('t', shape), 'bench');
      const plan = makePlan(scenario, source);
      expect(plan.hosts).toHaveLength(hostCount);
      expect(plan.networks[0].switches).toEqual(switches);
      expect(plan.endpoints).toHaveLength(shape.hosts * shape.perHost);
      expect(new Set(plan.endpoints.map((e) => e.ip)).size).toBe(shape.hosts * shape.perHost);
      if (shape.switchHost) expect(plan.endpoints.every((e) => e.host === 'h1')).toBe(true);
      const n = shape.hosts * shape.perHost;
      expect(plan.checks.pingall!.sample! * n * (n - 1)).toBeCloseTo(20, 6);
    }
  });
});

describe('scale bench: the runs measured against the memory targets share a namespace per droplet', () => {
  it('plans hosts.endpointNamespace shared for the ten- and hundred-droplet runs (and a one-host run to compare), a namespace each for the one-host run', () => {
    const planOf = (shape: ScaleShape) => {
      const { scenario, source } = parseScenarioText(scenarioText('t', shape), 'bench');
      return makePlan(scenario, source);
    };
    for (const cfg of [SCALE_FULL, SCALE_QUICK]) {
      expect(planOf(cfg.tenHosts).endpointNamespace).toBe('shared');
      expect(planOf(cfg.oneHostShared).endpointNamespace).toBe('shared');
      expect(planOf(cfg.oneHost).endpointNamespace).toBeUndefined();
    }
    expect(planOf(SCALE_FULL.hundred!)).toMatchObject({ endpointNamespace: 'shared', transitd: 'shared' });
  });
});

describe('scale bench: memory between two readings', () => {
  const at = (usage: number, kernel: number, system: number, avail: number) => ({ usageBytes: usage, kernelBytes: kernel, systemKernelBytes: system, memAvailableBytes: avail });

  it('is the cgroup growth plus the kernel growth the cgroup was not charged for', () => {
    // cgroup +300 (kernel +290 of it); the kernel grew 590 system-wide: 300 more were never charged
    expect(memoryGrowth(at(1000, 100, 5000, 9000), at(1300, 390, 5590, 8400))).toEqual({
      bytes: 600, cgroupBytes: 300, cgroupKernelBytes: 290, unchargedKernelBytes: 300, memAvailableDropBytes: 600,
    });
  });

  it('never counts uncharged kernel memory below zero (others freed memory meanwhile)', () => {
    expect(memoryGrowth(at(1000, 100, 5000, 9000), at(1300, 390, 4000, 9100))).toMatchObject({ bytes: 300, unchargedKernelBytes: 0, memAvailableDropBytes: -100 });
  });

  it('without a cgroup is MemAvailable\'s drop', () => {
    expect(memoryGrowth(at(NaN, NaN, 5000, 9000), at(NaN, NaN, 5500, 8000))).toMatchObject({ bytes: 1000, cgroupBytes: NaN, unchargedKernelBytes: NaN });
  });
});

describe('scale bench: targets', () => {
  it('judges the full runs on their own numbers', () => {
    const sc: ScaleResult = {
      quick: false, errors: {},
      oneHost: run(1, 1000, { up: 6 }),
      tenHosts: run(10, 1000, { up: 150, down: 20, perEndpointMB: 0.15 }),
      hundred: run(100, 100, { perDropletMB: 25, perEndpointMB: 0.15 }),
    };
    const t = byId(scaleReport(sc));
    expect(t.scale_1k_one_host_ready_seconds).toMatchObject({ status: 'met', measured: 6 });
    expect(t.scale_10k_up_seconds).toMatchObject({ status: 'missed', measured: 150 });
    expect(t.scale_10k_down_seconds).toMatchObject({ status: 'met', measured: 20 });
    expect(t.scale_memory_per_endpoint).toMatchObject({ status: 'met', measured: 0.15 });
    // 100 x 25 MB + 10,000 x 0.15 MB = 4.0 GB: on the limit is met
    expect(t.scale_100x100_memory_gb).toMatchObject({ status: 'met', measured: 4 });
  });

  it('under --quick extrapolates every target and never counts one as met', () => {
    const ten = run(10, 100, { up: 16, droplets: 10, down: 2, perDropletMB: 30, perEndpointMB: 0.17 });
    const one = run(1, 200, { up: 3, droplets: 2 });
    const t = byId(scaleReport({ quick: true, errors: {}, oneHost: one, tenHosts: ten }));
    expect(scaledUpSeconds(ten, 10_000)).toBeCloseTo(10 + 6 * 10);
    expect(t.scale_10k_up_seconds).toMatchObject({ status: 'estimate', met: false, measured: 70 });
    expect(t.scale_10k_down_seconds).toMatchObject({ status: 'estimate', measured: 20 });
    expect(t.scale_1k_one_host_ready_seconds).toMatchObject({ status: 'estimate', measured: 7 });
    expect(t.scale_memory_per_endpoint).toMatchObject({ status: 'estimate', measured: 0.17 });
    expect(scaledMemoryBytes(ten, 100, 100)).toBeCloseTo(100 * 30e6 + 10_000 * 0.17e6);
    expect(t.scale_100x100_memory_gb).toMatchObject({ status: 'estimate', measured: 4.7 });
    expect(Object.values(t).every((x) => !x.met)).toBe(true);
  });

  it('a failed run, or one whose endpoints did not all answer, measured nothing its targets name', () => {
    const t = byId(scaleReport({
      quick: false, errors: { tenHosts: 'stage endpoints: endpoint v9n1-h3-7: boom\nmore' },
      oneHost: run(1, 1000, { answered: 17 }),
      hundred: run(100, 100),
    }));
    for (const id of ['scale_10k_up_seconds', 'scale_10k_down_seconds', 'scale_memory_per_endpoint']) {
      expect(t[id]).toMatchObject({ status: 'not measured', met: false });
      expect(t[id].margin).toMatch(/the tenHosts run failed: stage endpoints: endpoint v9n1-h3-7: boom$/);
    }
    expect(t.scale_1k_one_host_ready_seconds.status).toBe('not measured');
    expect(t.scale_1k_one_host_ready_seconds.margin).toMatch(/pingall 17\/20 sampled pairs/);
    expect(t.scale_100x100_memory_gb.status).toBe('met');
  });

  it('memory that shrank is invalid, not met; the goals are the issue\'s', () => {
    const t = byId(scaleReport({ quick: false, errors: {}, oneHost: run(1, 1000), tenHosts: run(10, 1000, { perEndpointMB: -0.01 }), hundred: run(100, 100) }));
    expect(t.scale_memory_per_endpoint.status).toBe('invalid');
    expect(SCALE_GOALS).toMatchObject({ tenK: { upSeconds: 120, downSeconds: 60 }, oneHost: { readySeconds: 10 }, perEndpointMB: 0.2, hundred: { totalGB: 4 } });
  });
});

// The emulation-at-scale targets (issue 16 item 4) and rows, from scale.ts's
// runs. Under --quick the runs are smaller and every target is extrapolated
// from them: an estimate, never met. A run that failed, or whose pingall
// sample went unanswered, measured nothing its targets name.
import type { Row } from './results.js';
import type { ScaleResult, ScaleRun } from './scale.js';
import { check, metCell, type TargetCheck } from './targets.js';
import { sig } from './measure.js';

const MB = 1e6;
const GB = 1e9;
const SEC = '6 emulation at scale';

/** The goals. */
export const SCALE_GOALS = {
  tenK: { droplets: 10, endpoints: 10_000, upSeconds: 120, downSeconds: 60 },
  oneHost: { endpoints: 1_000, readySeconds: 10 },
  perEndpointMB: 0.2,
  hundred: { droplets: 100, perDroplet: 100, totalGB: 4 },
} as const;

/** Why a run's numbers cannot judge its targets, or undefined when they can. */
function unusable(sc: ScaleResult, key: 'oneHost' | 'oneHostShared' | 'tenHosts' | 'hundred'): string | undefined {
  const r = sc[key];
  if (!r) return sc.errors[key] ? `the ${key} run failed: ${sc.errors[key].split('\n')[0]}` : `the ${key} run did not run`;
  if (!r.pingall.ok || r.pingall.answered < r.pingall.pairs || r.pingall.pairs === 0) {
    return `the ${key} run's endpoints did not all answer: pingall ${r.pingall.answered}/${r.pingall.pairs} sampled pairs`;
  }
  return undefined;
}

/** How a run's endpoints live, for a target's text. */
const sharedNs = (r: ScaleRun | undefined): string => (r?.shape.endpointNamespace === 'shared' ? ', endpoints sharing one namespace per droplet' : '');

/** Up time at `endpoints` from a smaller run: the droplets stage as measured, the rest scaled by the endpoint count. */
export function scaledUpSeconds(r: ScaleRun, endpoints: number): number {
  return r.dropletsSeconds + (r.upSeconds - r.dropletsSeconds) * (endpoints / r.endpoints);
}

/** Memory of `droplets` x `perDroplet` from a run's cost per droplet and per endpoint. */
export function scaledMemoryBytes(r: ScaleRun, droplets: number, perDroplet: number): number {
  return droplets * r.memory.perDropletBytes + droplets * perDroplet * r.memory.perEndpointBytes;
}

function runRows(r: ScaleRun): Row[] {
  const sce = `${r.endpoints.toLocaleString('en')} endpoints on ${r.shape.hosts} droplet(s)${r.shape.switchHost ? ' + a switch droplet' : ''}`
    + (r.shape.transitd === 'shared' ? ', one shared transitd process' : '')
    + (r.shape.endpointNamespace === 'shared' ? ', endpoints sharing one namespace per droplet' : ', a namespace per endpoint');
  const m = r.memory;
  const rows: Row[] = [
    { section: SEC, scenario: sce, metric: 'up: runScenario() to ready', value: r.upSeconds, unit: 's' },
    { section: SEC, scenario: sce, metric: 'of it: droplets stage', value: r.dropletsSeconds, unit: 's' },
    { section: SEC, scenario: sce, metric: 'of it: endpoints stage', value: r.stages.endpoints ?? NaN, unit: 's' },
    { section: SEC, scenario: sce, metric: 'down: cleanupAll(prefix), as xvpc down', value: r.downSeconds, unit: 's' },
    { section: SEC, scenario: sce, metric: `pingall sample answered (of ${r.pingall.pairs} pairs)`, value: r.pingall.answered, unit: 'pairs' },
    { section: SEC, scenario: sce, metric: `memory in all at ready (${m.method})`, value: sig(m.total.bytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: 'memory per droplet (droplets stage / droplets)', value: sig(m.perDropletBytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: 'memory per endpoint (the rest / endpoints)', value: sig(m.perEndpointBytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: 'of all: memory cgroup', value: sig(m.total.cgroupBytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: '  of it: kernel (kmem)', value: sig(m.total.cgroupKernelBytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: 'of all: kernel growth beyond the cgroup\'s (system-wide)', value: sig(m.total.unchargedKernelBytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: 'transitds: RSS summed (shared pages counted in each)', value: sig(m.transitdRssSumBytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: 'transitds: anonymous memory summed', value: sig(m.transitdAnonSumBytes / MB), unit: 'MB' },
    { section: SEC, scenario: sce, metric: 'system-wide MemAvailable drop (other work included)', value: sig(m.total.memAvailableDropBytes / MB), unit: 'MB' },
  ];
  return rows;
}

export function scaleReport(sc: ScaleResult): { rows: Row[]; targets: TargetCheck[] } {
  const rows: Row[] = [];
  const targets: TargetCheck[] = [];
  const g = SCALE_GOALS;
  const est = sc.quick;
  const target = (t: TargetCheck, row: Omit<Row, 'target' | 'met'> & { target: string }) => {
    targets.push(t);
    rows.push({ ...row, value: t.measured ?? NaN, met: metCell(t) });
  };
  for (const r of [sc.oneHost, sc.oneHostShared, sc.tenHosts, sc.hundred]) if (r) rows.push(...runRows(r));

  // 10,000 endpoints on 10 droplets: up and down.
  const ten = sc.tenHosts;
  const tenBad = unusable(sc, 'tenHosts');
  const f10 = ten ? g.tenK.endpoints / ten.endpoints : 1;
  const from = (r: ScaleRun | undefined) => (r && est ? ` (extrapolated from ${r.endpoints.toLocaleString('en')} endpoints on ${r.shape.hosts} droplet(s))` : '');
  const tenScenario = '10,000 endpoints on 10 droplets';
  const upT = check('scale_10k_up_seconds', `10,000 endpoints on 10 droplets up, runScenario() to ready${from(ten)}`, '≤ 2 min', ten && !tenBad ? sig(scaledUpSeconds(ten, g.tenK.endpoints)) : undefined,
    's', g.tenK.upSeconds, '<=', tenBad ? { notMeasured: tenBad } : { ...(est ? { estimated: true } : {}), why: ten ? `stages (s): ${JSON.stringify(ten.stages)}` : undefined });
  target(upT, { section: SEC, scenario: tenScenario, metric: `up${est ? ' (estimate)' : ''}`, value: NaN, unit: 's', target: '≤120 s' });
  const downT = check('scale_10k_down_seconds', `10,000 endpoints on 10 droplets down, cleanupAll(prefix) as xvpc down${from(ten)}`, '≤ 1 min',
    ten && !tenBad ? sig(ten.downSeconds * f10) : undefined, 's', g.tenK.downSeconds, '<=', tenBad ? { notMeasured: tenBad } : (est ? { estimated: true } : {}));
  target(downT, { section: SEC, scenario: tenScenario, metric: `down${est ? ' (estimate)' : ''}`, value: NaN, unit: 's', target: '≤60 s' });

  // 1,000 endpoints on one host: ready.
  const one = sc.oneHost;
  const oneBad = unusable(sc, 'oneHost');
  const readyT = check('scale_1k_one_host_ready_seconds', `1,000 endpoints on one droplet (a second droplet switches) ready, runScenario() to ready${from(one)}`, '≤ 10 s',
    one && !oneBad ? sig(scaledUpSeconds(one, g.oneHost.endpoints)) : undefined, 's', g.oneHost.readySeconds, '<=',
    oneBad ? { notMeasured: oneBad } : { ...(est ? { estimated: true } : {}), why: one ? `stages (s): ${JSON.stringify(one.stages)}` : undefined });
  target(readyT, { section: SEC, scenario: '1,000 endpoints on one droplet', metric: `ready${est ? ' (estimate)' : ''}`, value: NaN, unit: 's', target: '≤10 s' });

  // Memory per endpoint: the ten-droplet run's endpoints stage (the most endpoints, so the least noise per endpoint).
  const memT = check('scale_memory_per_endpoint', `memory per endpoint: growth from the droplets stage's end to ready / endpoints, ${ten?.endpoints.toLocaleString('en') ?? '?'} endpoints on 10 droplets${sharedNs(ten)} (${ten?.memory.method ?? '?'})`
    + (est ? ' (a smaller run than the goal\'s)' : ''), '≤ 0.2 MB per endpoint', ten && !tenBad ? sig(ten.memory.perEndpointBytes / MB) : undefined, 'MB', g.perEndpointMB, '<=',
  tenBad ? { notMeasured: tenBad } : (est ? { estimated: true } : {}));
  target(memT, { section: SEC, scenario: tenScenario, metric: `memory per endpoint${est ? ' (estimate)' : ''}`, value: NaN, unit: 'MB', target: '≤0.2 MB' });

  // 100 droplets x 100 endpoints: memory in all (measured; under --quick from the ten-droplet run's per-droplet and per-endpoint costs).
  const h = sc.hundred;
  let memAll: TargetCheck;
  const whatAll = `100 droplets with 100 endpoints each${h?.shape.transitd === 'shared' ? ' (one shared transitd process)' : ''}${sharedNs(h ?? (est ? ten : undefined))}: memory in all at ready`;
  if (!est) {
    const bad = unusable(sc, 'hundred');
    memAll = check('scale_100x100_memory_gb', `${whatAll} (${h?.memory.method ?? '?'})`, '≤ 4 GB in all', h && !bad ? sig(h.memory.total.bytes / GB) : undefined, 'GB', g.hundred.totalGB, '<=',
      bad ? { notMeasured: bad } : { why: `per droplet ${sig(h!.memory.perDropletBytes / MB)} MB, per endpoint ${sig(h!.memory.perEndpointBytes / MB)} MB` });
  } else {
    memAll = check('scale_100x100_memory_gb', `${whatAll}, extrapolated: 100 x the ten-droplet run's memory per droplet + 10,000 x its memory per endpoint`, '≤ 4 GB in all',
      ten && !tenBad ? sig(scaledMemoryBytes(ten, g.hundred.droplets, g.hundred.perDroplet) / GB) : undefined, 'GB', g.hundred.totalGB, '<=',
      tenBad ? { notMeasured: tenBad } : { estimated: true, why: `per droplet ${sig(ten!.memory.perDropletBytes / MB)} MB, per endpoint ${sig(ten!.memory.perEndpointBytes / MB)} MB` });
  }
  target(memAll, { section: SEC, scenario: '100 droplets x 100 endpoints', metric: `memory in all${est ? ' (estimate)' : ''}`, value: NaN, unit: 'GB', target: '≤4 GB' });
  return { rows, targets };
}

// runScenario: `xvpc up` as a library call. Plans the scenario, then runs it
// as a staged task graph on the public droplet/Controller API:
//   droplets -> shaping, vpcs -> networks, security-groups -> endpoints -> record -> checks
// The run file is written before anything is made (state 'starting'), so a
// crash or Ctrl-C at any point leaves nothing `down` (cleanupAll of the
// prefix) cannot find and remove.
import { resolve } from 'node:path';
import { Controller } from '../controller/controller.js';
import type { Endpoint } from '../controller/endpoint.js';
import { createDroplets, type Droplet } from '../droplet/index.js';
import { PREFIX_RE } from '../droplet/names.js';
import { listRecords } from '../droplet/records.js';
import { XvpcError, failedPrecondition, invalid } from '../errors.js';
import { listNamespaces } from '../util/netns.js';
import { coordinated, iperfPair, pingall, rttCheck, unreachable, type CheckReport } from './checks.js';
import { CancelledError, StageError, runGraph, type ProgressEvent, type Stage, type StageTiming, type Task } from './graph.js';
import { parseScenarioText, readScenarioFile } from './parse.js';
import { makePlan } from './plan.js';
import { writeReport, type ScenarioReport } from './report.js';
import { readRunFile, upAlive, writeRunFile, type RunEndpoint, type RunFile } from './runfile.js';
import { applyShaping, assertShapingPossible } from './shaping.js';
import type { Plan } from './types.js';

export const STAGES = ['droplets', 'shaping', 'vpcs', 'networks', 'security-groups', 'endpoints', 'record', 'checks'] as const;
/**
 * Tasks at once: most are Controller calls, which queue and sync together
 * (one desired-state diff per batch, hosts attaching in parallel), so a wide
 * window makes big batches; the processes they cause are per host and serial.
 */
const DEFAULT_PARALLELISM = 128;

/** What `up` cannot do without: masks may leave out only shaping, security-groups and checks. */
const ESSENTIAL = ['droplets', 'vpcs', 'networks', 'endpoints', 'record'];

function checkMasks(only?: string[], skip?: string[]): void {
  for (const m of [...(only ?? []), ...(skip ?? [])]) {
    if (!(STAGES as readonly string[]).includes(m)) throw invalid(`mask: no stage named '${m}' (stages: ${STAGES.join(', ')})`);
  }
  const dropped = ESSENTIAL.filter((s) => (only && !only.includes(s)) || skip?.includes(s));
  if (dropped.length) throw invalid(`mask: up cannot leave out ${dropped.join(', ')} (only shaping, security-groups and checks may be skipped)`);
}

export interface RunScenarioOptions {
  /** the scenario file, or its text with `text` */
  file?: string;
  text?: string;
  /** ≤ 6 characters of [a-z0-9]; default 'xs' */
  prefix?: string;
  signal?: AbortSignal;
  /** tasks at once across stages (default DEFAULT_PARALLELISM) */
  parallelism?: number;
  /** stage masks */
  only?: string[];
  skip?: string[];
  onProgress?: (e: ProgressEvent) => void;
  /** where to write <base>.json/.html; default ./xvpc-up-<prefix> */
  reportBase?: string;
}

export interface RunScenarioResult {
  report: ScenarioReport;
  reportFiles: { json: string; html: string };
  run: RunFile;
  /** every check passed */
  ok: boolean;
}

/** Transient: a transitd that does not answer yet. Bad input is never retried. */
const transient = (err: unknown) => err instanceof XvpcError ? err.code === 'UNAVAILABLE' : !(err instanceof Error && /INVALID|NOT_FOUND|ALREADY/.test(err.message));

/** Refuses a prefix that has a run, droplets or namespaces already. */
async function assertPrefixFree(prefix: string): Promise<void> {
  const run = await readRunFile(prefix);
  if (run) {
    const live = run.state !== 'starting' || upAlive(run);
    throw failedPrecondition(`prefix '${prefix}' is already up (scenario ${run.plan.name}, state ${run.state}${live ? '' : ', its up process is gone'}); run xvpc down ${prefix} first`);
  }
  if ((await listRecords(prefix)).length) throw failedPrecondition(`prefix '${prefix}' has droplets already; run xvpc down ${prefix} first`);
  const ns = (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`));
  if (ns.length) throw failedPrecondition(`prefix '${prefix}' has namespaces left (${ns.slice(0, 3).join(', ')}); run xvpc down ${prefix} first`);
}

/** Security groups need Controller.createSecurityGroup (API.md additions); refuse them clearly until it exists. */
function assertSupported(plan: Plan): void {
  const c = Controller.prototype as unknown as Record<string, unknown>;
  if (plan.securityGroups.length && typeof c.createSecurityGroup !== 'function') {
    throw new XvpcError('FAILED_PRECONDITION', 'securityGroups: not supported yet (this build\'s Controller has no createSecurityGroup); leave the section empty');
  }
  if (plan.endpoints.some((e) => e.securityGroups?.length) && typeof c.attachSecurityGroup !== 'function') {
    throw new XvpcError('FAILED_PRECONDITION', 'endpoints[].securityGroups: not supported yet (this build\'s Controller has no security groups)');
  }
}

export async function runScenario(opts: RunScenarioOptions): Promise<RunScenarioResult> {
  const prefix = opts.prefix ?? 'xs';
  if (!PREFIX_RE.test(prefix)) throw invalid(`prefix: '${prefix}' must be 1-6 characters of [a-z0-9]`);
  if ((opts.file === undefined) === (opts.text === undefined)) throw invalid('file: give a scenario file or its text (one of them)');
  checkMasks(opts.only, opts.skip);
  const { scenario, source } = opts.text !== undefined ? parseScenarioText(opts.text, 'scenario') : await readScenarioFile(opts.file!);
  const plan = makePlan(scenario, source);
  assertSupported(plan);
  await assertShapingPossible(plan.shaping);
  await assertPrefixFree(prefix);

  const t0 = performance.now();
  const run: RunFile = {
    prefix, state: 'starting', pid: process.pid, startedAt: new Date().toISOString(),
    scenarioFile: opts.file ? resolve(opts.file) : '(text)', plan, hosts: [], endpoints: [],
  };
  await writeRunFile(run);

  let droplets: Record<string, Droplet> | undefined;
  let controller: Controller<Droplet> | undefined;
  const made: { spec: Plan['endpoints'][number]; ep: Endpoint<Droplet> }[] = [];
  const checks: CheckReport = { results: [], pings: [], throughput: [] };
  let readyMs: number | undefined;
  const one = (object: string, fn: () => Promise<void>): Task[] => [{ object, run: fn }];

  const stages: Stage[] = [
    {
      name: 'droplets',
      tasks: () => one(`droplets ${plan.hosts.length > 4 ? `${plan.hosts.slice(0, 4).join(', ')}, ... (${plan.hosts.length})` : plan.hosts.join(', ')}`, async () => {
        droplets = await createDroplets(plan.hosts, {
          prefix, backend: plan.backend, ...(plan.mode ? { mode: plan.mode } : {}), ...(plan.transitd ? { transitd: plan.transitd } : {}),
          ...(plan.endpointNamespace ? { endpointNamespace: plan.endpointNamespace } : {}),
        });
        controller = new Controller(droplets);
        // Where each host lives, as its droplet record says (namespace or container).
        run.hosts = (await listRecords(prefix)).map((r) => ({
          name: r.name, backend: r.backend, ip: r.ip, ...(r.ns ? { ns: r.ns } : {}), ...(r.container ? { container: r.container } : {}),
        }));
        await writeRunFile(run);
      }),
    },
    {
      name: 'shaping', after: ['droplets'], retry: { attempts: 3, backoffMs: 200 },
      tasks: () => plan.shaping.map((hs) => ({
        object: `host ${hs.host}`,
        run: () => applyShaping(hs, { ns: droplets![hs.host].underlayNs, port: droplets![hs.host].underlayPort }, (h) => droplets![h].ip),
      })),
    },
    {
      name: 'vpcs', after: ['droplets'], retry: { attempts: 3, backoffMs: 200, transient },
      tasks: () => plan.vpcs.map((v) => ({ object: `vpc ${v.vni}`, run: () => controller!.createVpc(v) })),
    },
    {
      name: 'networks', after: ['vpcs'], retry: { attempts: 3, backoffMs: 200, transient },
      tasks: () => plan.networks.map((n) => ({ object: `network ${n.vni}/${n.netId}`, run: () => controller!.createNetwork(n) })),
    },
    {
      name: 'security-groups', after: ['vpcs'], retry: { attempts: 3, backoffMs: 200, transient },
      tasks: () => plan.securityGroups.map((g) => ({
        object: `security group ${g.vni}/${g.name}`,
        run: () => (controller as unknown as { createSecurityGroup(a: unknown): Promise<void> }).createSecurityGroup(g),
      })),
    },
    {
      name: 'endpoints', after: ['networks', 'security-groups'], retry: { attempts: 3, backoffMs: 200, transient },
      tasks: () => plan.endpoints.map((e) => ({
        object: `endpoint ${e.name} (${e.vni}/${e.ip} on ${e.host})`,
        run: async () => {
          const ep = await controller!.createSimpleEndpoint({ vni: e.vni, netId: e.netId, ip: e.ip, host: e.host,
            ...(e.securityGroups?.length ? { securityGroups: e.securityGroups } : {}) } as Parameters<Controller['createSimpleEndpoint']>[0]);
          made.push({ spec: e, ep });
        },
      })),
    },
    {
      name: 'record', after: ['endpoints', 'shaping'],
      tasks: () => one(`run file of ${prefix}`, async () => {
        readyMs = performance.now() - t0;
        const order = new Map(plan.endpoints.map((e, i) => [e.name, i]));
        run.endpoints = made.sort((a, b) => order.get(a.spec.name)! - order.get(b.spec.name)!).map(({ spec, ep }): RunEndpoint => ({
          name: spec.name, vni: spec.vni, netId: spec.netId, ip: spec.ip, mac: ep.mac, host: spec.host, netns: ep.netns,
          ...(ep.sharedNamespace ? { sharedNamespace: true } : {}),
        }));
        run.state = 'up';
        await writeRunFile(run);
      }),
    },
    {
      name: 'checks', after: ['record'], parallelism: 1, // checks measure: one at a time
      tasks: () => {
        const c = plan.checks;
        const tasks: Task[] = [];
        if (c.pingall) {
          tasks.push({ object: 'pingall', run: async () => { const r = await pingall(run, c.pingall); checks.results.push(r.result); checks.pings.push(...r.pings); } });
        }
        for (const x of c.rtt ?? []) tasks.push({ object: `rtt ${x.from}->${x.to}`, run: async () => { const r = await rttCheck(run, x); checks.results.push(r.result); checks.pings.push(...r.pings); } });
        for (const x of c.iperf ?? []) tasks.push({ object: `iperf ${x.client}->${x.server}`, run: async () => { const r = await iperfPair(run, x); checks.results.push(r.result); checks.throughput.push(r.tput); } });
        (c.coordinated ?? []).forEach((x, i) => tasks.push({ object: `coordinated #${i}`, run: async () => { const r = await coordinated(run, x, i); checks.results.push(r.result); checks.throughput.push(...r.tputs); } }));
        for (const x of c.unreachable ?? []) tasks.push({ object: `unreachable ${x.from}->${x.to}`, run: async () => { checks.results.push(await unreachable(run, x)); } });
        return tasks;
      },
    },
  ];

  let timings: StageTiming[] = [];
  let outcome = 'up';
  let error: unknown;
  try {
    timings = await runGraph(stages, { parallelism: opts.parallelism ?? DEFAULT_PARALLELISM, only: opts.only, skip: opts.skip, signal: opts.signal, onProgress: opts.onProgress });
    if (checks.results.some((r) => !r.ok)) outcome = 'checks-failed';
  } catch (err) {
    error = err;
    if (err instanceof StageError || err instanceof CancelledError) timings = err.timings;
    outcome = err instanceof CancelledError ? 'interrupted' : 'failed';
    run.state = outcome === 'interrupted' ? 'interrupted' : 'failed';
    await writeRunFile(run).catch(() => undefined);
  } finally {
    await controller?.close().catch(() => undefined);
  }

  const report: ScenarioReport = {
    scenario: plan.name, prefix, startedAt: run.startedAt, outcome,
    ...(error !== undefined ? { error: error instanceof Error ? error.message : String(error) } : {}),
    hosts: plan.hosts.length, endpoints: made.length, ...(readyMs !== undefined ? { readyMs } : {}),
    totalMs: performance.now() - t0, stages: timings, checks,
  };
  const reportFiles = await writeReport(report, opts.reportBase ?? resolve(`xvpc-up-${prefix}`));
  run.report = reportFiles;
  await writeRunFile(run).catch(() => undefined);
  if (error !== undefined) {
    if (error instanceof Error) Object.assign(error, { reportFiles });
    throw error;
  }
  return { report, reportFiles, run, ok: outcome === 'up' };
}

// `npm run bench [-- --quick]`: runs every benchmark section on droplets, writes
// bench/results.json (or --out) and prints the table and the targets.
//
// Sections (run in this order; the table keeps the issue's numbering):
//   1 throughput/latency: xvpc on XDP and on TC (switch remote with direct path on and off, switch local) vs direct
//     vs kernel VXLAN, the first packet with direct path on and off, alternating on/off rounds,
//     plus a perf profile of xvpc TCP and the generic-XDP agent as a design lever
//   2 per-packet cost: BPF_PROG_TEST_RUN per path vs an empty XDP program
//   4 provisioning: createSimpleEndpoint() to first ping; many endpoints on one host
//   3 control plane: endpoint records/s through transitd vs raw batched map updates
//   5 security groups: TCP 1 stream and UDP 64 B with a 100-rule group vs none, in phases of one run with an A/A control, TC and XDP
//   6 emulation at scale: generated scenarios through runScenario (up, ready, down, memory)
// Everything is created under prefixes `<run id><letter>` and removed in a
// finally (and on Ctrl-C), whatever fails.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { repoRoot } from '../dist/dataplane/addon.js';
import { cleanupAll } from '../dist/droplet/index.js';
import { PIN_ROOT } from '../dist/droplet/names.js';
import { run } from '../dist/util/exec.js';
import { measureAgentMode } from './agent-mode.js';
import { measureControlPlane } from './ctlplane.js';
import { measureControllerStores } from './controller-store.js';
import * as iperf from './iperf.js';
import { Background } from './ns.js';
import { measurePacketCost } from './pktcost.js';
import { profileDuring } from './profile.js';
import { Progress } from './progress.js';
import { measureProvisioning } from './provisioning.js';
import { SG_PAIRS, SG_PHASE_SECONDS, measureSgThroughput } from './sg.js';
import { measureScale } from './scale.js';
import { buildReport, renderTable, renderTargets } from './report.js';
import type { BenchResults, Meta, Sections } from './results.js';
import { check, unmeasured } from './targets.js';
import { sig } from './measure.js';
import { freshPort, measureThroughput } from './throughput.js';

export class BenchUsageError extends Error {}

export const BENCH_USAGE = 'npm run bench -- [--quick] [--only throughput,pktcost,provisioning,ctlplane,sg,scenario] [--out FILE] [--no-profile] [--no-lever] [--keep-going]';

const SECTIONS = ['throughput', 'pktcost', 'provisioning', 'ctlplane', 'sg', 'scenario'] as const;
type Section = (typeof SECTIONS)[number];

interface Settings {
  secondsPerRun: number;
  rrRounds: number;
  pktRunsPerPath: number;
  pktRepeat: number;
  ctlSizes: number[];
  ctlChunk: number;
  ctlWindow: number;
  /** endpoints created through the Controller per store (controller-store.ts) */
  ctlControllerEndpoints: number;
  readyCount: number;
  scaleCount: number;
  /** records applied while transitd is profiled */
  ctlProfileEndpoints: number;
  /** fresh endpoint pairs per side (direct path on, off) per data path for the first-packet latency */
  firstPacketRounds: number;
  /** alternating rounds of TCP 1 stream, direct path on vs off, per data path */
  pairedRounds: number;
  /** security groups: pairs of phases (group on, off) per metric and build */
  sgPairs: number;
}

const QUICK: Settings = {
  secondsPerRun: 3, rrRounds: 5000, pktRunsPerPath: 5000, pktRepeat: 100_000,
  ctlSizes: [1_000, 10_000, 100_000], ctlChunk: 30_000, ctlWindow: 2, ctlControllerEndpoints: 10_000, readyCount: 20, scaleCount: 100, ctlProfileEndpoints: 100_000, firstPacketRounds: 20, pairedRounds: 7, sgPairs: SG_PAIRS.quick,
};
const FULL: Settings = {
  secondsPerRun: 10, rrRounds: 20_000, pktRunsPerPath: 20_000, pktRepeat: 1_000_000,
  ctlSizes: [1_000, 10_000, 100_000, 1_000_000], ctlChunk: 30_000, ctlWindow: 2, ctlControllerEndpoints: 100_000, readyCount: 100, scaleCount: 1_000, ctlProfileEndpoints: 200_000, firstPacketRounds: 50, pairedRounds: 15, sgPairs: SG_PAIRS.full,
};

interface Options { quick: boolean; only: Section[]; out: string; profile: boolean; lever: boolean; keepGoing: boolean }

function parseOptions(args: string[]): Options {
  const o: Options = { quick: false, only: [...SECTIONS], out: `${repoRoot}bench/results.json`, profile: true, lever: true, keepGoing: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--no-lever') o.lever = false;
    else if (a === '--keep-going') o.keepGoing = true;
    else if (a === '--out' || a === '--only') {
      const v = args[++i];
      if (!v) throw new BenchUsageError(`${a} needs a value`);
      if (a === '--out') o.out = v;
      else {
        const list = v.split(',').map((x) => x.trim()).filter(Boolean);
        const bad = list.find((x) => !(SECTIONS as readonly string[]).includes(x));
        if (bad) throw new BenchUsageError(`--only: unknown section '${bad}' (sections: ${SECTIONS.join(', ')})`);
        o.only = SECTIONS.filter((x) => list.includes(x));
      }
    } else throw new BenchUsageError(`unexpected argument '${a}'`);
  }
  return o;
}

async function hostMeta(): Promise<Meta['host']> {
  const uname = await run(['uname', '-r']);
  const ip3 = await run(['iperf3', '--version']).catch(() => ({ stdout: '' }));
  return {
    name: hostname(), kernel: uname.stdout.trim(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memTotalBytes: totalmem(), node: process.version,
    iperf3: ip3.stdout.split('\n')[0]?.trim() ?? '',
  };
}

async function gitDescribe(): Promise<string | undefined> {
  const r = await run(['git', '-C', repoRoot, 'rev-parse', '--short', 'HEAD']).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  const dirty = await run(['git', '-C', repoRoot, 'status', '--porcelain']).catch(() => undefined);
  return `${r.stdout.trim()}${dirty && dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}`;
}

export async function runBench(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  if (process.getuid?.() !== 0) throw new Error('the bench needs root: it creates namespaces and loads XDP programs');
  const cfg = opts.quick ? QUICK : FULL;
  const runId = `b${randomBytes(2).toString('hex')}`;
  const scalePrefix = { oneHost: `${runId}e`, oneHostShared: `${runId}n`, tenHosts: `${runId}m`, hundred: `${runId}h` };
  const prefix = {
    throughput: `${runId}t`, lever: `${runId}g`, provisioning: `${runId}p`, ctlplane: `${runId}c`, pktcost: `${runId}k`, sg: `${runId}s`, sgXdp: `${runId}x`,
    ...scalePrefix,
  };
  const sectionPrefixes: Record<Section, string[]> = {
    throughput: [prefix.throughput, prefix.lever], pktcost: [prefix.pktcost], provisioning: [prefix.provisioning], ctlplane: [prefix.ctlplane],
    sg: [prefix.sg, prefix.sgXdp], scenario: Object.values(scalePrefix),
  };
  const workDir = `/tmp/xvpc-bench-${runId}`;
  const started = Date.now();
  const progress = new Progress(opts.only.length);
  const sections: Sections = {};
  const errors: Record<string, string> = {};
  const meta: Meta = {
    date: new Date().toISOString(), quick: opts.quick, host: await hostMeta(), git: await gitDescribe(),
    loadAverage: { start: loadavg().map((x) => sig(x)) },
    settings: { ...cfg, ctlSizes: cfg.ctlSizes.join(','), runId }, sections: [...opts.only],
    notes: [
      'All traffic runs between network namespaces this run creates on this machine; droplets are netns droplets, '
        + 'on the TC data path (their default) except in scenarios (a) and (b), the generic-agent lever and the XDP half of the sg section, which run XDP.',
      'Ratios "vs direct"/"vs vxlan" divide by the same metric of (c)/(d): above 1 is more throughput, or more latency.',
      `The machine has ${cpus().length} CPUs and may be shared with other work while the bench runs; CPU shares per run and the load average at the start and end are recorded as noise indicators.`,
      'Units: rows carry {value, unit}; in sections, keys end in their unit (Ns, Us, Ms, Seconds, Bytes, Pps, BitsPerSecond, Percent, '
        + 'PerSecond); plain numbers are counts; cpuShare values are fractions of all CPUs; vs* and *_vs_* are ratios.',
    ],
  };

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    Background.killAll();
    for (const p of Object.values(prefix)) await cleanupAll(p).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    progress.note(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const section = async (name: Section, title: string, fn: () => Promise<void>) => {
    if (!opts.only.includes(name)) return;
    progress.beginSection(title);
    try {
      await fn();
    } catch (err) {
      errors[name] = err instanceof Error ? err.message : String(err);
      progress.note(`FAILED: ${errors[name].split('\n')[0]}`);
    } finally {
      // A section's leftovers go before the next one starts, so memory and CPU readings start clean.
      for (const p of sectionPrefixes[name]) await cleanupAll(p).catch(() => undefined);
    }
  };
  const hooks = { step: (t: string) => progress.begin(t), done: (t: string) => progress.done(t) };

  try {
    mkdirSync(workDir, { recursive: true });
    await section('throughput', '1 throughput and latency (xvpc XDP a/a-off/b, TC at/at-off/bt, direct, VXLAN; first packet)', async () => {
      sections.throughput = await measureThroughput(prefix.throughput, cfg.secondsPerRun, cfg.rrRounds, cfg.firstPacketRounds, cfg.pairedRounds, {
        ...hooks,
        afterA: opts.profile ? async (pair) => {
          progress.begin('(a) profile: perf record -a during TCP 1 stream');
          const secs = Math.max(4, cfg.secondsPerRun);
          const { all, ...profile } = await profileDuring(
            { label: '(a) TCP 1 stream', seconds: 2, delayMs: 1000, dataPath: `${workDir}/perf.data` },
            () => iperf.tcp(pair, 1, secs, freshPort()));
          void all; // every symbol: too much for results.json
          sections.profile = profile;
          progress.done(sections.profile.error ?? `${sections.profile.samples} samples`);
        } : undefined,
        afterAt: opts.profile ? async (on, off) => {
          const one = async (pair: typeof on, label: string) => {
            progress.begin(`${label} profile: perf record -a during TCP 1 stream`);
            const { all, ...profile } = await profileDuring(
              { label: `${label} TCP 1 stream`, seconds: 2, delayMs: 1000, dataPath: `${workDir}/perf.data` },
              () => iperf.tcp(pair, 1, Math.max(4, cfg.secondsPerRun), freshPort()));
            void all;
            progress.done(profile.error ?? `${profile.samples} samples`);
            return profile;
          };
          sections.profileTc = { on: await one(on, '(at)'), off: await one(off, '(at-off)') };
        } : undefined,
      });
      if (opts.lever) {
        try {
          sections.agentMode = await measureAgentMode(prefix.lever, cfg.secondsPerRun, freshPort() + 100, hooks.step, hooks.done);
        } catch (err) {
          errors.agentMode = err instanceof Error ? err.message : String(err);
          progress.note(`agent-mode lever FAILED: ${errors.agentMode.split('\n')[0]}`);
        } finally {
          await cleanupAll(prefix.lever).catch(() => undefined);
        }
      }
    });
    await section('pktcost', '2 per-packet cost (BPF_PROG_TEST_RUN)', async () => {
      progress.begin('private copy of xvpc.o, packets and maps for each path');
      sections.pktcost = await measurePacketCost(`${PIN_ROOT}/${prefix.pktcost}-pkt`, `${workDir}/restore`, cfg.pktRunsPerPath, cfg.pktRepeat,
        (t) => { progress.done(''); progress.begin(t); });
      const sw = sections.pktcost.paths.find((p) => p.path === 'switch');
      progress.done(sw ? `switch ${sw.nsPerPacket} ns/packet, ${sw.vsEmpty}× empty` : '');
    });
    await section('provisioning', '4 provisioning (endpoint ready to ping; many endpoints)', async () => {
      sections.provisioning = await measureProvisioning(prefix.provisioning, cfg.readyCount, cfg.scaleCount, hooks.step, hooks.done);
    });
    await section('ctlplane', '3 control plane (records/s via transitd vs raw map updates; the Controller with its stores)', async () => {
      sections.ctlplane = await measureControlPlane(prefix.ctlplane, `${PIN_ROOT}/${prefix.ctlplane}-raw`, cfg.ctlSizes, cfg.ctlChunk, cfg.ctlWindow,
        hooks.step, hooks.done, opts.profile ? { endpoints: cfg.ctlProfileEndpoints, dataPath: `${workDir}/transitd.perf.data` } : undefined);
      try {
        sections.ctlplane.controller = await measureControllerStores(prefix.ctlplane, cfg.ctlControllerEndpoints, hooks.step, hooks.done);
      } catch (err) {
        sections.ctlplane.controllerError = err instanceof Error ? err.message : String(err);
        hooks.done(`failed: ${sections.ctlplane.controllerError}`);
      }
    });
    await section('sg', '5 security groups (TCP 1 stream, UDP 64 B: a 100-rule group on and off in phases of one run, with an A/A control, TC and XDP)', async () => {
      sections.sg = await measureSgThroughput({ tc: prefix.sg, native: prefix.sgXdp }, cfg.sgPairs, SG_PHASE_SECONDS, hooks.step, hooks.done);
    });
    await section('scenario', '6 emulation at scale (scenarios through runScenario: 1k on one droplet, 10k on 10, 100 droplets x 100)', async () => {
      sections.scale = await measureScale(scalePrefix, opts.quick, workDir, hooks.step, hooks.done);
      const failed = Object.entries(sections.scale.errors);
      if (failed.length) progress.note(`runs failed: ${failed.map(([k, v]) => `${k}: ${v.split('\n')[0]}`).join('; ')}`);
    });
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    progress.stop();
  }

  meta.durationSeconds = Math.round((Date.now() - started) / 100) / 10;
  meta.loadAverage.end = loadavg().map((x) => sig(x));
  const report = buildReport(sections, { cpus: meta.host.cpus });
  // A section that failed measured none of its targets: say so, never leave them out silently.
  for (const [name, err] of Object.entries(errors)) {
    report.targets.push(check(`${name}_targets`, `every target of section ${name} (bench/README.md lists them)`, 'see bench/README.md', undefined, '', 1, '>=',
      { notMeasured: `section ${name} failed: ${err.split('\n')[0]}` }));
  }
  const results: BenchResults = { meta, sections, errors, ...report };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);

  const out: string[] = [];
  out.push(`npm run bench${opts.quick ? ' --quick' : ''}: ${meta.host.name}, ${meta.host.cpus} CPUs, kernel ${meta.host.kernel}, ${meta.durationSeconds} s, `
    + `load average (1/5/15 min) ${meta.loadAverage.start.join('/')} at the start, ${meta.loadAverage.end?.join('/')} at the end`);
  out.push('');
  out.push(renderTable(report.rows));
  out.push('');
  out.push('Targets (goals for the bench report, never test thresholds):');
  out.push(renderTargets(report.targets));
  if (Object.keys(errors).length) {
    out.push('');
    out.push('Failed:');
    for (const [k, v] of Object.entries(errors)) out.push(`  ${k}: ${v}`);
  }
  const lost = unmeasured(report.targets);
  if (lost.length) {
    out.push('');
    out.push('Targets not measured (the measurement they name failed or is impossible):');
    for (const t of lost) out.push(`  ${t.id}: ${t.margin}`);
  }
  out.push('');
  out.push(`results: ${opts.out}`);
  const failed = Object.keys(errors).length > 0 || lost.length > 0;
  if (failed) out.push(opts.keepGoing ? '--keep-going: exit 0 despite the failures above' : 'exit 1: failures above (--keep-going exits 0)');
  console.log(out.join('\n'));
  return failed && !opts.keepGoing ? 1 : 0;
}

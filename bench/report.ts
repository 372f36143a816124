// From the sections' raw results to what a reader needs: the metric rows
// (every number with its unit), every comparison as a ratio, the targets with
// their margins and, where one is missed, why (from counters, CPU shares and
// the profile). Also renders the table.
import type { BenchResults, Row, Sections } from './results.js';
import type { PairResult } from './throughput.js';
import { DIRECT_OFF_OF, SCENARIO_LABELS, SCENARIO_ORDER, isXvpc, type ScenarioKey } from './scenario-keys.js';
import { pathSentence, pathTaken } from './path-evidence.js';
import type { FirstPacketResult } from './first-packet.js';
import type { PairedRounds } from './paired.js';
import { check, metCell, type TargetCheck } from './targets.js';
import { scaleReport } from './scale-report.js';
import { controllerStoreReport } from './controller-store-report.js';

export { metCell };
import type { PathCost, PktCostResult } from './pktcost.js';
import type { SgThroughputResult } from './sg.js';
import { controlDisagrees, emptyPhasesDisagree, emptyPhasesText } from './sg-paired.js';
import { spreadOf, spreadText, tooWideToJudge } from './spread.js';
import { sig } from './measure.js';

const SNAME: Record<ScenarioKey, string> = {
  a: 'xvpc_switch_remote', 'a-off': 'xvpc_switch_remote_direct_off', b: 'xvpc_switch_local',
  at: 'xvpc_tc_switch_remote', 'at-off': 'xvpc_tc_switch_remote_direct_off', bt: 'xvpc_tc_switch_local', c: 'direct', d: 'vxlan',
};
/** The host the scenarios put the network's switch on (scenarios.ts). */
const SWITCH_HOST: Partial<Record<ScenarioKey, string>> = { a: 'switch', 'a-off': 'switch', at: 'switch', 'at-off': 'switch' };
/** The scenario with the switch on the client host -> the one with it on a third host. */
const REMOTE_OF: Partial<Record<ScenarioKey, ScenarioKey>> = { b: 'a', bt: 'at' };
/** TC data-path scenario -> the same one on XDP. */
const XDP_OF: Partial<Record<ScenarioKey, ScenarioKey>> = { at: 'a', 'at-off': 'a-off', bt: 'b' };
const TC_KEYS: readonly ScenarioKey[] = ['at', 'at-off', 'bt'];

interface PairMetric { id: string; label: string; unit: string; get: (r: PairResult) => number }
const PAIR_METRICS: PairMetric[] = [
  { id: 'tcp1', label: 'TCP 1 stream', unit: 'Gbit/s', get: (r) => r.tcp1.bitsPerSecond / 1e9 },
  { id: 'tcp4', label: 'TCP 4 streams', unit: 'Gbit/s', get: (r) => r.tcp4.bitsPerSecond / 1e9 },
  { id: 'udp64_pps', label: 'UDP 64 B received', unit: 'kpps', get: (r) => r.udp64.receivedPps / 1000 },
  { id: 'rr_p50', label: 'TCP RR latency p50', unit: 'µs', get: (r) => r.rr.p50Us },
  { id: 'rr_p99', label: 'TCP RR latency p99', unit: 'µs', get: (r) => r.rr.p99Us },
];

const MB = 1e6;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** What the report needs to know about the machine the run measured (os.cpus() of that run). */
export interface HostFacts { cpus: number }

export function buildReport(s: Sections, host: HostFacts): Pick<BenchResults, 'rows' | 'ratios' | 'targets'> {
  const rows: Row[] = [];
  const ratios: Record<string, number> = {};
  const targets: TargetCheck[] = [];
  const ratio = (name: string, x: number) => { if (Number.isFinite(x)) ratios[name] = sig(x); };

  // 1. throughput and latency
  const tp = s.throughput;
  if (tp) {
    const sc = tp.scenarios;
    for (const key of SCENARIO_ORDER) {
      const r = sc[key];
      if (!r) continue;
      for (const m of PAIR_METRICS) {
        const v = m.get(r);
        const vsDirect = sc.c ? v / m.get(sc.c) : undefined;
        const vsVxlan = sc.d ? v / m.get(sc.d) : undefined;
        if (key !== 'c' && vsDirect !== undefined) ratio(`${m.id}_${SNAME[key]}_vs_direct`, vsDirect);
        if (key !== 'd' && vsVxlan !== undefined) ratio(`${m.id}_${SNAME[key]}_vs_vxlan`, vsVxlan);
        const remote = sc[REMOTE_OF[key]!];
        if (remote) ratio(`${m.id}_${SNAME[key]}_vs_${SNAME[REMOTE_OF[key]!]}`, v / m.get(remote));
        const xdp = sc[XDP_OF[key]!];
        if (xdp) ratio(`${m.id}_${SNAME[key]}_vs_${SNAME[XDP_OF[key]!]}`, v / m.get(xdp));
        const off = sc[DIRECT_OFF_OF[key]!];
        if (off) ratio(`${m.id}_${SNAME[key]}_vs_${SNAME[DIRECT_OFF_OF[key]!]}`, v / m.get(off));
        const row: Row = {
          section: '1 throughput/latency', scenario: `(${key}) ${SCENARIO_LABELS[key]}`, metric: m.label, value: sig(v), unit: m.unit,
          ...(vsDirect !== undefined ? { vsDirect: sig(vsDirect) } : {}), ...(vsVxlan !== undefined ? { vsVxlan: sig(vsVxlan) } : {}),
        };
        // The targets hold the scenarios as shipped (direct path on); the -off rows are their reference.
        const judged = isXvpc(key) && !key.endsWith('-off');
        if (judged && (m.id === 'tcp1' || m.id === 'tcp4') && vsVxlan !== undefined && vsDirect !== undefined) {
          const why = TC_KEYS.includes(key) ? tcpTcWhy(s) : tcpWhy(s);
          const t1 = check(`${m.id}_${SNAME[key]}_vs_vxlan`, `${m.label} through xvpc (${key}) vs kernel VXLAN`, '≥ 1.0× kernel VXLAN', sig(vsVxlan), '×', 1.0, '>=', { why });
          const t2 = check(`${m.id}_${SNAME[key]}_vs_direct`, `${m.label} through xvpc (${key}) vs direct`, '≥ 0.8× direct', sig(vsDirect), '×', 0.8, '>=', { why });
          targets.push(t1, t2);
          row.target = '≥1.0× vxlan, ≥0.8× direct';
          row.met = `${metCell(t1)} / ${metCell(t2)}`;
        }
        if (judged && m.id === 'udp64_pps' && vsVxlan !== undefined) {
          const t = check(`udp64_pps_${SNAME[key]}_vs_vxlan`, `64-byte UDP packets/s through xvpc (${key}) vs kernel VXLAN`, '≥ 1.2× kernel VXLAN',
            sig(vsVxlan), '×', 1.2, '>=', { why: TC_KEYS.includes(key) ? udpTcWhy(s, host) : udpWhy(s) });
          targets.push(t);
          row.target = '≥1.2× vxlan';
          row.met = metCell(t);
        }
        if (key.endsWith('-off')) row.target = 'reference for the direct path';
        rows.push(row);
      }
    }
    rows.push(...directPathRows(tp.scenarios, ratio));
    for (const mode of ['native', 'tc'] as const) {
      const p = tp.paired?.[mode];
      if (!p) continue;
      const [on, off] = mode === 'tc' ? ['at', 'at-off'] : ['a', 'a-off'];
      const sce = `(${on}) / (${off})`;
      const med = (x: number[]) => sig(spreadOf(x).median);
      rows.push({ section: '1 throughput/latency', scenario: sce, metric: `TCP 1 stream, ${p.on.length} alternating rounds of ${tp.pairedSecondsPerRun}s: on / off per round, median`, value: sig(p.ratio.median), unit: '×' });
      rows.push({ section: '1 throughput/latency', scenario: sce, metric: `  on / off per round, min-max (IQR ${p.ratio.p25.toFixed(2)}-${p.ratio.p75.toFixed(2)})`,
        value: sig(p.ratio.max - p.ratio.min), unit: `× (${p.ratio.min.toFixed(2)}-${p.ratio.max.toFixed(2)})` });
      rows.push({ section: '1 throughput/latency', scenario: sce, metric: '  median rate, direct path on', value: med(p.on), unit: 'Gbit/s' });
      rows.push({ section: '1 throughput/latency', scenario: sce, metric: '  median rate, direct path off', value: med(p.off), unit: 'Gbit/s' });
      ratio(`tcp1_${SNAME[on as ScenarioKey]}_vs_direct_off_paired_median`, p.ratio.median);
    }
    for (const mode of ['native', 'tc'] as const) {
      const fp = tp.firstPacket?.[mode];
      if (!fp) continue;
      const { rows: fr, target } = firstPacketReport(mode, fp);
      rows.push(...fr);
      targets.push(target);
      if (fp.ratio) ratio(`first_packet_${mode === 'tc' ? 'tc' : 'xdp'}_direct_on_vs_off`, fp.ratio.median);
    }
  }

  // the design lever: agent in generic XDP
  const am = s.agentMode;
  if (am && tp?.scenarios.a) {
    const native = tp.scenarios.a;
    const sc = tp.scenarios;
    const gm: [string, string, string, number, number][] = [
      ['tcp1', 'TCP 1 stream', 'Gbit/s', am.tcp1.bitsPerSecond / 1e9, native.tcp1.bitsPerSecond / 1e9],
      ['tcp4', 'TCP 4 streams', 'Gbit/s', am.tcp4.bitsPerSecond / 1e9, native.tcp4.bitsPerSecond / 1e9],
      ['udp64_pps', 'UDP 64 B received', 'kpps', am.udp64.receivedPps / 1000, native.udp64.receivedPps / 1000],
    ];
    for (const [id, label, unit, v, nat] of gm) {
      const base = PAIR_METRICS.find((m) => m.id === id)!;
      const vsDirect = sc.c ? v / base.get(sc.c) : undefined;
      const vsVxlan = sc.d ? v / base.get(sc.d) : undefined;
      ratio(`${id}_generic_agent_vs_native_agent`, v / nat);
      if (vsDirect !== undefined) ratio(`${id}_xvpc_switch_remote_generic_agent_vs_direct`, vsDirect);
      if (vsVxlan !== undefined) ratio(`${id}_xvpc_switch_remote_generic_agent_vs_vxlan`, vsVxlan);
      rows.push({
        section: '1 throughput/latency', scenario: '(a) with generic-XDP agent', metric: `${label} (${(v / nat).toFixed(2)}× native agent)`, value: sig(v), unit,
        ...(vsDirect !== undefined ? { vsDirect: sig(vsDirect) } : {}), ...(vsVxlan !== undefined ? { vsVxlan: sig(vsVxlan) } : {}),
      });
    }
  }

  // 2. per-packet cost
  const pc = s.pktcost;
  if (pc) {
    for (const p of pc.paths) {
      const sp = p.restored?.vsEmptySpread;
      rows.push({ section: '2 per-packet cost', scenario: p.path, metric: `ns/packet (${p.method}${p.restored ? `, median of ${p.restored.rounds} rounds` : ''})`, value: p.nsPerPacket, unit: 'ns' });
      if (p.path === 'empty' || p.path === 'tc_empty') continue;
      if (p.path.startsWith('tc_')) {
        ratio(`pkt_${p.path}_vs_tc_empty`, p.vsEmpty);
        rows.push({ section: '2 per-packet cost', scenario: p.path, metric: 'vs empty TC program (repeat=1)', value: p.vsEmpty, unit: '×' });
        continue;
      }
      ratio(`pkt_${p.path}_vs_empty`, p.vsEmpty);
      ratio(`pkt_${p.path}_repeat1_vs_empty`, p.repeat1.vsEmpty);
      const row: Row = { section: '2 per-packet cost', scenario: p.path, metric: `vs empty XDP program (${p.method})`, value: p.vsEmpty, unit: '×' };
      const spreadRow = (): Row | undefined => (sp ? {
        section: '2 per-packet cost', scenario: p.path, metric: `vs empty: spread, min-max (IQR ${sp.p25.toFixed(2)}-${sp.p75.toFixed(2)})`,
        value: sig(sp.max - sp.min), unit: `× (${sp.min.toFixed(2)}-${sp.max.toFixed(2)})`,
      } : undefined);
      if (p.path === 'switch') {
        const t = pktSwitchTarget(pc, p);
        targets.push(t);
        row.target = `≤${PKT_SWITCH_GOAL}× empty`;
        row.met = metCell(t);
      }
      rows.push(row);
      const sr = spreadRow();
      if (sr) rows.push(sr);
      rows.push({ section: '2 per-packet cost', scenario: p.path, metric: 'vs empty, repeat=1 cross-check', value: p.repeat1.vsEmpty, unit: '×' });
    }
    for (const t of sgPacketTargets(pc)) {
      targets.push(t);
      rows.push({ section: '2 per-packet cost', scenario: t.id, metric: t.what, value: t.measured ?? NaN, unit: '×', target: `≤${SG_PKT_GOAL}×`, met: metCell(t) });
    }
  }

  // 3. control plane
  const cp = s.ctlplane;
  if (cp && cp.sizes.length) {
    for (const z of cp.sizes) {
      const n = z.endpoints.toLocaleString('en');
      ratio(`ctl_${z.endpoints}_vs_raw`, z.vsRaw);
      rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'time via gRPC PutEndpoints, packing included', value: sig(z.seconds), unit: 's' });
      rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'of it: packing the records', value: sig(z.packSeconds), unit: 's' });
      if (z.callerThread) {
        rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'before: PutEndpoints from the caller\'s thread', value: sig(z.callerThread.seconds), unit: 's' });
        rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'before: rate / raw rate', value: z.callerThread.vsRaw, unit: '×' });
      }
      rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'rate via transitd', value: sig(z.recordsPerSecond / 1000), unit: 'k/s' });
      rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'rate raw updateBatch', value: sig(z.raw.recordsPerSecond / 1000), unit: 'k/s' });
      rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'transitd rate / raw rate', value: z.vsRaw, unit: '×' });
      rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'transitd RSS after', value: sig(z.transitdRssBytes.after / MB), unit: 'MB' });
      rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: 'endpoints map memlock', value: sig(z.mapMemlockBytes / MB), unit: 'MB' });
      const p = z.preallocated;
      if (p) {
        ratio(`ctl_${z.endpoints}_prealloc_vs_raw`, p.vsRaw);
        const pre = (metric: string, value: number, unit: string) =>
          rows.push({ section: '3 control plane', scenario: `${n} endpoints`, metric: `map preallocated: ${metric}`, value, unit });
        pre('time via gRPC PutEndpoints, packing included', sig(p.seconds), 's');
        pre('of it: packing the records', sig(p.packSeconds), 's');
        pre('rate via transitd', sig(p.recordsPerSecond / 1000), 'k/s');
        pre('rate raw updateBatch', sig(p.raw.recordsPerSecond / 1000), 'k/s');
        pre('transitd rate / raw rate', p.vsRaw, '×');
        pre('endpoints map memlock', sig(p.mapMemlockBytes / MB), 'MB');
      }
    }
    const last = cp.sizes[cp.sizes.length - 1];
    const million = cp.sizes.find((z) => z.endpoints === 1_000_000);
    const why = ctlWhy(s);
    const est = !million;
    const secondsFor1M = million ? million.seconds : (1_000_000 / last.recordsPerSecond);
    const flagsNote = ' (endpoints map BPF_F_NO_PREALLOC, as emulated droplets run it)';
    const t1m = check('ctl_1m_seconds', `1M endpoint records programmed into one host via transitd, packing included${flagsNote}${est ? ` (extrapolated from ${last.endpoints.toLocaleString('en')} at the measured rate; --quick stops there)` : ''}`,
      '≤ 1 s', sig(secondsFor1M), 's', 1, '<=', { why, ...(est ? { estimated: true } : {}) });
    targets.push(t1m);
    if (est) {
      rows.push({ section: '3 control plane', scenario: '1,000,000 endpoints', metric: `time (extrapolated from ${last.endpoints.toLocaleString('en')})`,
        value: sig(secondsFor1M), unit: 's', target: '≤1 s', met: metCell(t1m) });
    } else {
      const row = rows.find((r) => r.section === '3 control plane' && r.scenario === '1,000,000 endpoints' && r.metric.startsWith('time via'))!;
      row.target = '≤1 s';
      row.met = metCell(t1m);
    }
    const rateAt = million ?? last;
    const tr = check('ctl_rate_vs_raw', `records/s via transitd (packing included) vs raw BpfMap.updateBatch (pre-encoded) at ${rateAt.endpoints.toLocaleString('en')}${flagsNote}, raw on maps with the same flags`,
      '≥ 70% of the raw map rate', rateAt.vsRaw, '×', 0.7, '>=', { why });
    targets.push(tr);
    const rr = rows.filter((r) => r.section === '3 control plane' && r.metric === 'transitd rate / raw rate');
    const tail = rr[rr.length - 1];
    tail.target = '≥0.7× raw';
    tail.met = metCell(tr);
    // The same two targets with the map preallocated (transitd --preallocate endpoints: a real host), raw likewise.
    const p = last.preallocated;
    if (p) {
      const pNote = ' (endpoints map preallocated, as a real host runs it: transitd --preallocate endpoints)';
      const pSeconds = million ? p.seconds : 1_000_000 / p.recordsPerSecond;
      const tp = check('ctl_1m_seconds_prealloc', `1M endpoint records programmed into one host via transitd, packing included${pNote}${est ? ` (extrapolated from ${last.endpoints.toLocaleString('en')} at the measured rate; --quick stops there)` : ''}`,
        '≤ 1 s', sig(pSeconds), 's', 1, '<=', { why, ...(est ? { estimated: true } : {}) });
      targets.push(tp);
      const tpr = check('ctl_rate_vs_raw_prealloc', `records/s via transitd (packing included) vs raw BpfMap.updateBatch (pre-encoded) at ${last.endpoints.toLocaleString('en')}${pNote}, raw on a preallocated map too`,
        '≥ 70% of the raw map rate', p.vsRaw, '×', 0.7, '>=', { why });
      targets.push(tpr);
      const prow = (metric: string) => rows.find((r) => r.section === '3 control plane' && r.scenario === `${last.endpoints.toLocaleString('en')} endpoints` && r.metric === `map preallocated: ${metric}`);
      const timeRow = prow('time via gRPC PutEndpoints, packing included');
      if (timeRow && !est) { timeRow.target = '≤1 s'; timeRow.met = metCell(tp); }
      const ratioRow = prow('transitd rate / raw rate');
      if (ratioRow) { ratioRow.target = '≥0.7× raw'; ratioRow.met = metCell(tpr); }
    }
  }
  if (cp?.controller) {
    const c = controllerStoreReport(cp.controller);
    rows.push(...c.rows);
    targets.push(...c.targets);
    Object.assign(ratios, c.ratios);
  } else if (cp?.controllerError) {
    targets.push(check('ctl_controller_store_targets', 'the Controller-with-store targets (store ≤ 1.5× memory, resume and reconcile of 100k ≤ 2 s)',
      'see bench/README.md', undefined, '', 1, '>=', { notMeasured: cp.controllerError }));
  }
  if (cp && !cp.sizes.length) {
    targets.push(check('ctl_1m_seconds', '1M endpoint records programmed into one host via transitd', '≤ 1 s', undefined, 's', 1, '<=', { notMeasured: 'the control-plane section measured no size' }));
  }

  // 4. provisioning
  const pv = s.provisioning;
  if (pv) {
    const r = pv.ready;
    const t = check('ready_p50_ms', `createSimpleEndpoint() to first ping reply, p50 over ${r.endpoints}`, '≤ 50 ms p50', r.p50Ms, 'ms', 50, '<=', { why: readyWhy(s) });
    targets.push(t);
    const sec = '4 provisioning';
    const sce = `${r.endpoints} endpoints, one by one`;
    rows.push({ section: sec, scenario: sce, metric: 'ready to ping p50', value: r.p50Ms, unit: 'ms', target: '≤50 ms', met: metCell(t) });
    rows.push({ section: sec, scenario: sce, metric: 'ready to ping p99', value: r.p99Ms, unit: 'ms' });
    rows.push({ section: sec, scenario: sce, metric: 'of it: createSimpleEndpoint() p50', value: r.createP50Ms, unit: 'ms' });
    rows.push({ section: sec, scenario: sce, metric: 'of it: then first reply p50', value: r.pingP50Ms, unit: 'ms' });
    rows.push({ section: sec, scenario: sce, metric: "transitd's AttachEndpoint alone p50", value: r.attachP50Ms, unit: 'ms' });
    ratio('ready_p50_vs_target', r.p50Ms / 50);
    const z = pv.scale;
    const sz = `${z.endpoints.toLocaleString('en')} endpoints on one host`;
    rows.push({ section: sec, scenario: sz, metric: 'total time', value: z.totalSeconds, unit: 's' });
    rows.push({ section: sec, scenario: sz, metric: 'per endpoint, first tenth', value: z.firstTenthPerEndpointMs, unit: 'ms' });
    rows.push({ section: sec, scenario: sz, metric: 'per endpoint, last tenth', value: z.lastTenthPerEndpointMs, unit: 'ms' });
    rows.push({ section: sec, scenario: sz, metric: 'CPU: controller (this process)', value: z.cpuSeconds.controller, unit: 's' });
    rows.push({ section: sec, scenario: sz, metric: 'CPU: host transitd + its commands', value: z.cpuSeconds.hostTransitd, unit: 's' });
    const perEp = z.memory.perEndpointBytes;
    const tm = check('memory_per_endpoint', `memory per endpoint over ${z.endpoints} (${z.memory.method})`,
      '≤ 1.1 MB per endpoint', sig(perEp / MB), 'MB', 1.1, '<=', { why: memWhy(s) });
    targets.push(tm);
    rows.push({ section: sec, scenario: sz, metric: 'memory per endpoint', value: sig(perEp / MB), unit: 'MB', target: '≤1.1 MB', met: metCell(tm) });
    rows.push({ section: sec, scenario: sz, metric: 'of it: transitd RSS', value: sig(z.memory.perEndpointTransitdBytes / MB), unit: 'MB' });
    if (z.memory.cgroup) {
      rows.push({ section: sec, scenario: sz, metric: 'of it: kernel (cgroup kmem)', value: sig(z.memory.cgroup.perEndpointKernelBytes / MB), unit: 'MB' });
    }
    rows.push({ section: sec, scenario: sz, metric: 'system-wide MemAvailable drop (other work included)', value: sig(z.memory.memAvailableDropBytes / z.endpoints / MB), unit: 'MB' });
    ratio('memory_per_endpoint_vs_target', perEp / MB / 1.1);
  }
  // 5. security groups: throughput with a 100-rule group vs none
  if (s.sg) {
    const r = sgThroughputReport(s.sg);
    rows.push(...r.rows);
    targets.push(...r.targets);
    for (const [k, v] of Object.entries(r.ratios)) ratio(k, v);
  }
  // 6. emulation at scale
  if (s.scale) {
    const sr = scaleReport(s.scale);
    rows.push(...sr.rows);
    targets.push(...sr.targets);
  }
  for (const t of targets) if (t.score !== undefined) ratios[`target_${t.id}_score`] = t.score;
  return { rows, ratios, targets };
}

/** Issue 13's goal: throughput with security groups at least this share of the same without (Mizar lost 6%). */
export const SG_THROUGHPUT_GOAL = 0.97;

/**
 * Per data path and metric (TCP 1 stream, UDP 64 B received): the ratio policed / open per pair of
 * phases of one run (sg.ts; median, spread) against ≥ 0.97×; not judged either when its A/A
 * control's interval leaves out 1.0; "not judged" when the goal lies inside the interval that holds
 * the median with 95% confidence (spread.ts).
 */
export function sgThroughputReport(sg: SgThroughputResult): { rows: Row[]; targets: TargetCheck[]; ratios: Record<string, number> } {
  const rows: Row[] = [];
  const targets: TargetCheck[] = [];
  const ratios: Record<string, number> = {};
  const sec = '5 security groups';
  for (const mode of ['tc', 'native'] as const) {
    const m = sg.modes[mode];
    if (!m) continue;
    const build = mode === 'tc' ? 'TC' : 'XDP';
    const sce = `(${build}) ${sg.rules}-rule group / none`;
    for (const [id, label, unit, p] of [['tcp1', 'TCP 1 stream', 'Gbit/s', m.tcp1], ['udp64_pps', 'UDP 64 B received', 'kpps', m.udp64Kpps]] as const) {
      const sp = p.ratio;
      const tid = `sg_${id}_${mode === 'tc' ? 'tc' : 'xdp'}_vs_no_policy`;
      // The run is judged only when its own A/A control agrees with itself, and no more
      // phases with the group than without came back empty (sg-paired.ts).
      const notJudged = tooWideToJudge(sp, SG_THROUGHPUT_GOAL) ?? controlDisagrees(p.control) ?? emptyPhasesDisagree(p.emptyPhases);
      const t = check(tid, `${label} through xvpc (${build}) with a ${sg.rules}-rule security group on both endpoints vs none, ratio per pair of phases (the group attached, detached) of one run, median of ${sp.rounds} pairs`,
        `≥ ${SG_THROUGHPUT_GOAL}× no policy`, sig(sp.median), '×', SG_THROUGHPUT_GOAL, '>=', {
          ...(notJudged ? { notJudged } : {}),
          why: `${spreadText(sp)}; median rates ${sig(spreadOf(p.policed).median)} vs `
            + `${sig(spreadOf(p.open).median)} ${unit}${p.perBusyCpuRatio ? `; per busy CPU-second (steal and idle left out) ${spreadText(p.perBusyCpuRatio)}` : ''}; `
            + `${p.control ? `A/A control (nothing of the flow toggled) ${spreadText(p.control)}; ` : ''}`
            + emptyPhasesText(p.emptyPhases)
            + `over both runs the hosts opened ${m.counters.sg_ct_new} conntrack entries and denied `
            + `${SG_DENIALS.reduce((a, k) => a + (m.counters[k] ?? 0), 0)} packets`,
        });
      targets.push(t);
      ratios[`${tid}_paired_median`] = sig(sp.median);
      rows.push({ section: sec, scenario: sce, metric: `${label}, ${sp.rounds} pairs of ${sg.secondsPerRound}s phases in one run: policed / open per pair, median`,
        value: sig(sp.median), unit: '×', target: `≥${SG_THROUGHPUT_GOAL}×`, met: metCell(t) });
      rows.push({ section: sec, scenario: sce, metric: `  policed / open per pair, min-max (IQR ${sp.p25.toFixed(2)}-${sp.p75.toFixed(2)})`,
        value: sig(sp.max - sp.min), unit: `× (${sp.min.toFixed(2)}-${sp.max.toFixed(2)})` });
      if (p.control) {
        const ci = p.control.medianInterval;
        rows.push({ section: sec, scenario: sce, metric: `  A/A control (nothing of the flow toggled), median${ci ? ` (95%: ${ci.low.toFixed(3)}-${ci.high.toFixed(3)})` : ''}`,
          value: sig(p.control.median), unit: '×' });
      }
      rows.push({ section: sec, scenario: sce, metric: `  median rate with the group attached`, value: sig(spreadOf(p.policed).median), unit });
      rows.push({ section: sec, scenario: sce, metric: `  median rate with it detached`, value: sig(spreadOf(p.open).median), unit });
      const pc = p.perBusyCpuRatio;
      if (pc) {
        // No target: the rate per busy CPU-second, which steal (other guests) and idle moments do not move.
        rows.push({ section: sec, scenario: sce, metric: `  policed / open per busy CPU-second, median`
          + (pc.medianInterval ? ` (95%: ${pc.medianInterval.low.toFixed(2)}-${pc.medianInterval.high.toFixed(2)})` : ''), value: sig(pc.median), unit: '×' });
        ratios[`${tid}_per_busy_cpu_median`] = sig(pc.median);
      }
    }
    rows.push({ section: sec, scenario: sce, metric: 'conntrack entries opened (sg_ct_new, all hosts, both runs)', value: m.counters.sg_ct_new, unit: '' });
    rows.push({ section: sec, scenario: sce, metric: 'packets denied (drop_sg_*, all hosts, both runs)', value: SG_DENIALS.reduce((a, k) => a + (m.counters[k] ?? 0), 0), unit: '' });
  }
  return { rows, targets, ratios };
}

const SG_DENIALS = ['drop_sg_ingress', 'drop_sg_egress', 'drop_sg_unsolicited', 'drop_sg_icmp_error', 'drop_sg_fragment'];


/** Issue 13's goal: a packet of an endpoint with security groups costs at most this much more than without. */
export const SG_PKT_GOAL = 1.3;

/**
 * Security groups' per-packet cost (1 and 1,000 rules, a tracked flow) against the same path
 * without a group: ingress (decap) and egress (agent encap), both builds, side by side in one
 * run: ≤ 1.3×. XDP paths: the ratio per restoring-wrapper round (both paths ran in the same
 * round), median over rounds, "not judged" when the goal lies inside the median's 95% interval. TC paths: the
 * repeat=1 medians (interleaved run by run).
 */
export function sgPacketTargets(pc: PktCostResult): TargetCheck[] {
  const by = new Map(pc.paths.map((p) => [p.path, p]));
  const out: TargetCheck[] = [];
  for (const [prefix, build] of [['', 'XDP'], ['tc_', 'TC']] as const) {
    for (const [base, where] of [['decap', 'decap (ingress group)'], ['agent_encap', 'agent encap (egress group)']] as const) {
      for (const n of [1, 1000]) {
        const p = by.get(`${prefix}${base}_sg${n}`);
        const b = by.get(`${prefix}${base}`);
        const id = `pkt_${prefix}${base}_sg${n}_vs_no_policy`;
        const what = `${build} ${where} per packet with a ${n}-rule security group vs none (${p?.method ?? '?'}${p?.restored ? ', per-round ratio' : ''})`;
        if (!p || !b || !(b.nsPerPacket > 0)) {
          out.push(check(id, what, `≤ ${SG_PKT_GOAL}× no policy`, undefined, '×', SG_PKT_GOAL, '<=', { notMeasured: 'a path did not run' }));
          continue;
        }
        const pr = p.restored?.perRoundNs, br = b.restored?.perRoundNs;
        if (pr && br && pr.length === br.length) {
          const sp = spreadOf(pr.map((x, i) => x / br[i]));
          const notJudged = tooWideToJudge(sp, SG_PKT_GOAL);
          out.push(check(id, what, `≤ ${SG_PKT_GOAL}× no policy`, sig(sp.median), '×', SG_PKT_GOAL, '<=', {
            ...(notJudged ? { notJudged } : {}),
            why: `${spreadText(sp)}; `
              + `medians ${p.nsPerPacket} ns vs ${b.nsPerPacket} ns per packet`,
          }));
        } else {
          out.push(check(id, what, `≤ ${SG_PKT_GOAL}× no policy`, sig(p.nsPerPacket / b.nsPerPacket), '×', SG_PKT_GOAL, '<=',
            { why: `${p.nsPerPacket} ns vs ${b.nsPerPacket} ns per packet (medians of ${p.repeat1.runs} interleaved runs)` }));
        }
      }
    }
  }
  return out;
}

/** The per-packet target: judged only on the restoring-wrapper rounds, and only when their spread allows. */
/** Issue 10's goal for the switch path against the empty XDP program. */
const PKT_SWITCH_GOAL = 2.5;

export function pktSwitchTarget(pc: PktCostResult, p: PathCost): TargetCheck {
  const what = 'switch path per packet vs the empty XDP program (restoring wrapper, median of interleaved rounds)';
  const goal = `≤ ${PKT_SWITCH_GOAL}× the empty program`;
  if (p.method !== 'restore-wrapper' || !p.restored) {
    return check('pkt_switch_vs_empty', what, goal, undefined, '×', PKT_SWITCH_GOAL, '<=', {
      notMeasured: `the restoring wrapper could not be used (${pc.restoreWrapper.error ?? 'no rounds'}); the repeat=1 ratio `
        + `(${p.repeat1.vsEmpty}×) is compressed toward 1 and is not the measure this target names`,
    });
  }
  const r = p.restored;
  const sp = r.vsEmptySpread;
  const notJudged = tooWideToJudge(sp, PKT_SWITCH_GOAL);
  return check('pkt_switch_vs_empty', what, goal, p.vsEmpty, '×', PKT_SWITCH_GOAL, '<=', {
    ...(notJudged ? { notJudged } : {}),
    why: `measured through the restoring wrapper, ${r.rounds} rounds of repeat ${r.repeat.toLocaleString('en')} (switch_fwd moved by exactly `
      + `${r.counter?.delta.toLocaleString('en') ?? '?'}): median ${p.nsPerPacket} ns vs ${pc.emptyRepeatedNs} ns for the empty program, `
      + `ratio ${spreadText(sp)}; `
      + `the repeat=1 cross-check gives ${p.repeat1.vsEmpty}× (${p.repeat1.grossNs} vs ${pc.paths[0].repeat1.grossNs} ns, both including the kernel's timing overhead)`,
  });
}

/** Per scenario pair (on, off): the on/off ratio of every metric, and which path the counters say each run took. */
function directPathRows(sc: Partial<Record<ScenarioKey, PairResult>>, ratio: (name: string, x: number) => void): Row[] {
  const rows: Row[] = [];
  for (const [on, off] of Object.entries(DIRECT_OFF_OF) as [ScenarioKey, ScenarioKey][]) {
    const a = sc[on], b = sc[off];
    if (!a || !b) continue;
    for (const m of PAIR_METRICS) {
      rows.push({ section: '1 throughput/latency', scenario: `(${on}) / (${off})`, metric: `${m.label}, direct path on / off`, value: sig(m.get(a) / m.get(b)), unit: '×' });
    }
    for (const [k, r] of [[on, a], [off, b]] as const) {
      for (const id of ['tcp1', 'udp64'] as const) {
        const c = r.counters?.[id];
        if (!c) continue;
        const p = pathTaken(c, SWITCH_HOST[k]!);
        const share = p.encap ? p.directTx / p.encap : 0;
        ratio(`${id}_${SNAME[k]}_direct_tx_share`, share);
        rows.push({ section: '1 throughput/latency', scenario: `(${k}) ${SCENARIO_LABELS[k]}`,
          metric: `${id === 'tcp1' ? 'TCP 1 stream' : 'UDP 64 B'}: sent straight (direct_tx / encap; switch_fwd ${p.switchFwd.toLocaleString('en')}, path: ${p.path})`,
          value: sig(share), unit: '×' });
      }
    }
  }
  return rows;
}

/** Which path each TCP 1 stream and UDP run of the direct-path pairs took, from this run's counters. */
function pathFindings(s: Sections, keys: readonly ScenarioKey[]): string {
  const sc = s.throughput!.scenarios;
  const out = keys.flatMap((k) => (['tcp1', 'udp64'] as const).map((id) => {
    const c = sc[k]?.counters?.[id];
    return c && SWITCH_HOST[k] ? pathSentence(`(${k}) ${id === 'tcp1' ? 'TCP 1 stream' : 'UDP 64 B'}`, pathTaken(c, SWITCH_HOST[k]!)) : '';
  })).filter(Boolean);
  const ratios = keys.filter((k) => DIRECT_OFF_OF[k] && sc[k] && sc[DIRECT_OFF_OF[k]!]).map((k) => {
    const on = sc[k]!, off = sc[DIRECT_OFF_OF[k]!]!;
    return `(${k}) vs (${DIRECT_OFF_OF[k]}): TCP 1 stream ${(on.tcp1.bitsPerSecond / off.tcp1.bitsPerSecond).toFixed(2)}×, `
      + `UDP 64 B ${(on.udp64.receivedPps / off.udp64.receivedPps).toFixed(2)}× with direct path on`;
  });
  const mode = keys.includes('at') ? 'tc' : 'native';
  const p = s.throughput!.paired?.[mode];
  const rounds = p ? ` ${pairedFinding(`(${keys[0]}) vs (${keys[1]})`, p)}` : '';
  return out.length || ratios.length ? ` Path, from the counters of every host: ${[...out, ...ratios].join('; ')}.${rounds}` : rounds;
}

/** What alternating rounds of TCP 1 stream say about direct path on vs off, against the rounds' own spread. */
export function pairedFinding(label: string, p: PairedRounds): string {
  const r = p.ratio;
  const range = `on / off per round ${r.min.toFixed(2)}-${r.max.toFixed(2)}, middle half ${r.p25.toFixed(2)}-${r.p75.toFixed(2)}, median ${r.median.toFixed(2)} over ${r.rounds} rounds`;
  const verdict = r.rounds < 3 ? 'too few rounds to tell a difference from noise'
    : r.p25 > 1 ? 'direct path on was faster in more than three quarters of the rounds'
      : r.p75 < 1 ? 'direct path on was slower in more than three quarters of the rounds'
        : 'no difference beyond the spread of the rounds';
  return `${label} TCP 1 stream in alternating rounds: ${range}: ${verdict}.`;
}

/** The first packet's latency, direct path on vs off: rows and the target. */
export function firstPacketReport(mode: 'native' | 'tc', fp: FirstPacketResult): { rows: Row[]; target: TargetCheck } {
  const build = mode === 'tc' ? 'TC' : 'XDP';
  const sec = '1 throughput/latency';
  const sce = `${build}: first ping of a fresh pair`;
  const rows: Row[] = [];
  for (const [side, r] of [['on', fp.on], ['off', fp.off]] as const) {
    if (r.spread) {
      rows.push({ section: sec, scenario: sce, metric: `direct path ${side}: RTT median of ${r.spread.rounds} (${r.lost} lost)`, value: sig(r.spread.median), unit: 'ms' });
      rows.push({ section: sec, scenario: sce, metric: `direct path ${side}: RTT spread min-max (IQR ${r.spread.p25.toFixed(3)}-${r.spread.p75.toFixed(3)})`,
        value: sig(r.spread.max - r.spread.min), unit: `ms (${r.spread.min.toFixed(3)}-${r.spread.max.toFixed(3)})` });
    }
  }
  const id = `first_packet_${mode === 'tc' ? 'tc' : 'xdp'}_direct_on_vs_off`;
  const what = `first-ping RTT of a fresh endpoint pair on ${build}, direct path on / off (median of per-round ratios, the two measured back to back)`;
  const paths = `${pathSentence('direct path on, all first pings', fp.on.path)}; ${pathSentence('direct path off, all first pings', fp.off.path)}`;
  if (!fp.ratio) {
    return { rows, target: check(id, what, '≤ 1.0× (not worse)', undefined, '×', 1, '<=',
      { notMeasured: `no round got a reply on both sides (${fp.on.lost} lost with direct path on, ${fp.off.lost} off, of ${fp.rounds.length})` }) };
  }
  const r = fp.ratio;
  const notJudged = tooWideToJudge(r, 1);
  const target = check(id, what, '≤ 1.0× (not worse)', sig(r.median), '×', 1, '<=', {
    ...(notJudged ? { notJudged } : {}),
    why: `ratio ${spreadText(r)}; ${paths}.`,
  });
  const row: Row = { section: sec, scenario: sce, metric: `RTT direct path on / off, median of ${r.rounds} rounds`, value: sig(r.median), unit: '×', target: '≤1.0×', met: metCell(target) };
  rows.push(row);
  return { rows, target };
}

// --- why a target is missed: evidence from the run ------------------------------
// Every sentence here is built from this run's numbers; an explanation the
// run did not measure is printed only labelled "hypothesis".

function profileText(s: Sections): string {
  const p = s.profile;
  if (!p || p.error || !p.samples) return p?.error ? ` (no profile: ${p.error})` : '';
  const inc = p.inclusive;
  const bpf = Object.entries(inc).filter(([k]) => k.startsWith('bpf:')).reduce((a, [, v]) => a + v, 0);
  const parts = [
    inc.veth_xdp_rcv_skb !== undefined ? `veth_xdp_rcv_skb ${inc.veth_xdp_rcv_skb}% (of it skb_pp_cow_data ${inc.skb_pp_cow_data ?? 0}%)` : '',
    `the XDP programs themselves ${bpf.toFixed(1)}%`,
    inc.br_handle_frame !== undefined ? `the underlay bridge ${inc.br_handle_frame}%` : '',
    inc.tcp_sendmsg !== undefined ? `tcp_sendmsg ${inc.tcp_sendmsg}%` : '',
    inc.tcp_recvmsg !== undefined ? `tcp_recvmsg ${inc.tcp_recvmsg}%` : '',
  ].filter(Boolean);
  return ` Profile of (a) TCP 1 stream (perf, all CPUs, ${p.samples} samples): ${parts.join(', ')}.`;
}

/** Bytes per packet the client host's agent encapsulated in a TCP run (NaN without counters). */
function bytesPerEncap(s: Sections, key: ScenarioKey, id: 'tcp1' | 'tcp4'): number {
  const tp = s.throughput!;
  const r = tp.scenarios[key];
  const encap = r?.counters?.[id]?.left?.encap ?? 0;
  return r && encap ? (r[id].bitsPerSecond / 8) * tp.secondsPerRun / encap : NaN;
}

/** Per TCP run: packets the client host's agent encapsulated, bytes in each, CPU. */
function encapEvidence(s: Sections, keys: readonly ScenarioKey[]): string[] {
  const tp = s.throughput!;
  return keys.flatMap((key) => (['tcp1', 'tcp4'] as const).map((id) => {
    const r = tp.scenarios[key];
    if (!r) return '';
    const encap = r.counters?.[id]?.left?.encap ?? 0;
    const perPkt = bytesPerEncap(s, key, id);
    return `(${key}) ${id === 'tcp1' ? '1 stream' : '4 streams'}: ${Math.round(encap / tp.secondsPerRun / 1000)}k packets/s encapsulated `
      + `(${Number.isFinite(perPkt) ? Math.round(perPkt) : '?'} B each), CPU ${pct(r[id].cpuShare.softirq)} softirq / ${pct(r[id].cpuShare.idle)} idle`;
  })).filter(Boolean);
}

/** What the measured bytes per encapsulated packet say against the endpoint MTU. */
export function aggregateFinding(bytesPerPacket: number[], mtu: number): string {
  const seen = bytesPerPacket.filter(Number.isFinite);
  if (!seen.length || !(mtu > 0)) return 'No encapsulation counters in this run, so nothing is said about packet sizes.';
  const lo = Math.min(...seen), hi = Math.max(...seen);
  const range = lo === hi ? `${Math.round(lo)} B` : `${Math.round(lo)}-${Math.round(hi)} B`;
  if (lo > mtu) return `The agent encapsulated ${range} of payload per packet, more than the endpoint MTU (${mtu} B): it handled GSO aggregates, not segments.`;
  if (hi <= mtu) return `The agent encapsulated ${range} of payload per packet, within the endpoint MTU (${mtu} B): one packet per segment.`;
  return `The agent encapsulated ${range} of payload per packet against an endpoint MTU of ${mtu} B: some runs carried aggregates, some segments.`;
}

function tcpTcWhy(s: Sections): string {
  const tp = s.throughput!;
  const sc = tp.scenarios;
  const gain = sc.at && sc.a ? ` The TC path carried ${(sc.at.tcp1.bitsPerSecond / sc.a.tcp1.bitsPerSecond).toFixed(2)}× the XDP path's 1-stream rate.` : '';
  const sizes = (['at', 'at-off', 'bt'] as const).flatMap((k) => (['tcp1', 'tcp4'] as const).map((id) => bytesPerEncap(s, k, id)));
  return `Counters on the client host: ${encapEvidence(s, ['at', 'at-off', 'bt']).join('; ')}. ${aggregateFinding(sizes, tp.endpointMtu)}${gain}${pathFindings(s, ['at', 'at-off'])} `
    + `${tcProfileText(s)}Hypothesis (not measured in this run): what is left against (d) is path length, not segmentation: `
    + 'a veth hands the packet to its peer on the sending CPU, (d) terminates the tunnel inside the endpoint namespaces (one veth '
    + 'crossing each way) while xvpc\'s endpoints sit behind a veth into their host (two more), and (at-off) adds the switch host.';
}

/** (at) vs (at-off) TCP 1 stream profiles: the same functions' inclusive shares side by side. */
function tcProfileText(s: Sections): string {
  const p = s.profileTc;
  if (!p) return '';
  if (p.on.error || p.off.error) return `(no TC profile: ${p.on.error ?? p.off.error}) `;
  const keys = ['tcp_sendmsg', 'tcp_recvmsg', '__dev_queue_xmit', '__napi_poll', 'br_handle_frame', 'bpf:tc_agent', 'bpf:tc_transit', 'pv_native_safe_halt'];
  const share = (r: typeof p.on, k: string) => (r.inclusive[k] !== undefined ? `${r.inclusive[k]}%` : '-');
  const parts = keys.filter((k) => p.on.inclusive[k] !== undefined || p.off.inclusive[k] !== undefined)
    .map((k) => `${k === 'pv_native_safe_halt' ? 'idle (pv_native_safe_halt)' : k} ${share(p.on, k)} / ${share(p.off, k)}`);
  const top = (r: typeof p.on) => r.topSelf.slice(0, 4).map((t) => `${t.symbol.replace('[k] ', '')} ${t.percent}%`).join(', ');
  return `Profiles of TCP 1 stream (perf, all CPUs, ${p.on.samples} / ${p.off.samples} samples, direct path on / off), inclusive: ${parts.join(', ')}; `
    + `most self time on: ${top(p.on)}; off: ${top(p.off)}. `;
}

function udpTcWhy(s: Sections, host: HostFacts): string {
  const sc = s.throughput!.scenarios;
  const runs = (['at', 'at-off', 'bt'] as const).filter((k) => sc[k]).map((k) => `(${k}) ${sig(sc[k]!.udp64.sentPps / 1000)}k sent/s, `
    + `${sc[k]!.udp64.lostPercent.toFixed(1)}% lost, CPU ${pct(sc[k]!.udp64.cpuShare.softirq)} softirq / ${pct(sc[k]!.udp64.cpuShare.user)} user`).join('; ');
  return `This machine has ${host.cpus} CPU${host.cpus === 1 ? '' : 's'} for the iperf3 sender, the receiver and every softirq: ${runs}.${pathFindings(s, ['at', 'at-off'])} `
    + 'Hypothesis (not measured in this run): a 64-byte datagram is one skb on every hop, so GSO does not help, and per packet the TC '
    + 'path does one program run per host and one veth hand-over per hop, (at) having more veth hops than VXLAN.';
}

function tcpWhy(s: Sections): string {
  const tp = s.throughput!;
  const evidence = encapEvidence(s, ['a', 'a-off', 'b']);
  const a = tp.scenarios.a;
  let gen = '';
  if (s.agentMode && a) {
    const r1 = s.agentMode.tcp1.bitsPerSecond / a.tcp1.bitsPerSecond;
    const r4 = s.agentMode.tcp4.bitsPerSecond / a.tcp4.bitsPerSecond;
    gen = ` Design lever tried, the agent in generic XDP: ${r1.toFixed(2)}× (1 stream) and ${r4.toFixed(2)}× (4 streams) the native agent's rate, one run each.`;
  }
  let streams = '';
  if (a) {
    const x = a.tcp4.bitsPerSecond / a.tcp1.bitsPerSecond;
    const idle = a.tcp4.cpuShare.idle;
    streams = ` In (a), 4 streams carried ${x.toFixed(2)}× the 1-stream rate with ${pct(idle)} of the CPUs idle`
      + (idle < 0.1 ? ': the CPUs were busy.' : '.');
  }
  const sizes = (['a', 'a-off', 'b'] as const).flatMap((k) => (['tcp1', 'tcp4'] as const).map((id) => bytesPerEncap(s, k, id)));
  return `Counters on the client host: ${evidence.join('; ')}. ${aggregateFinding(sizes, tp.endpointMtu)}${streams}${pathFindings(s, ['a', 'a-off'])}${profileText(s)}${gen} `
    + 'Hypothesis (not measured in this run): veth0 in the endpoint has TX checksum offload off (the agent cannot finish a '
    + 'CHECKSUM_PARTIAL checksum), hence no TSO, and native XDP on a veth turns GSO off on its peer, while the direct and VXLAN '
    + 'baselines keep their aggregates; the TC data path, rows (at) and (bt), keeps GSO end to end.';
}

function udpWhy(s: Sections): string {
  const sc = s.throughput!.scenarios;
  const loss = (['a', 'a-off', 'b'] as const).filter((k) => sc[k]).map((k) => `(${k}) ${sig(sc[k]!.udp64.sentPps / 1000)}k sent/s, `
    + `${sc[k]!.udp64.lostPercent.toFixed(1)}% lost, CPU ${pct(sc[k]!.udp64.cpuShare.softirq)} softirq`).join('; ');
  const ab = sc.a && sc.b ? ` (b), with the switch on the client host, got ${(sc.b.udp64.receivedPps / sc.a.udp64.receivedPps).toFixed(2)}× the rate of (a).` : '';
  const progs = s.pktcost ? s.pktcost.paths.filter((p) => ['agent_encap', 'switch', 'decap'].includes(p.path)).reduce((x, p) => x + p.nsPerPacket, 0) : NaN;
  let gen = '';
  if (s.agentMode && sc.a) {
    const g = s.agentMode.udp64.receivedPps;
    const x = g / sc.a.udp64.receivedPps;
    gen = ` Design lever: with the agent in generic XDP, (a) received ${x.toFixed(2)}× as many (${(g / 1000).toFixed(0)}k/s`
      + `${sc.d ? `, ${(g / sc.d.udp64.receivedPps).toFixed(2)}× VXLAN` : ''}; one run each, run-to-run noise not measured).`;
  }
  return `The sender is one iperf3 thread: ${loss}.${ab}${pathFindings(s, ['a', 'a-off'])}`
    + (Number.isFinite(progs) ? ` The agent, switch and decap programs together cost ~${progs.toFixed(0)} ns per packet (section 2).` : '')
    + `${gen} Hypothesis (not measured in this run): each crossing of a native-XDP veth copies the skb into an XDP buffer and the `
    + 'next veth rebuilds an skb from the redirected frame, where kernel VXLAN encapsulates once inside the stack.';
}

function ctlWhy(s: Sections): string {
  const cp = s.ctlplane!;
  const last = cp.sizes[cp.sizes.length - 1];
  const p = cp.profile;
  const prof = p && !p.error
    ? ` transitd's profile while applying ${p.endpoints.toLocaleString('en')} records (perf -p, ${p.samples ?? '?'} samples): `
      + `${Object.entries(p.areas).filter(([, v]) => v >= 3).map(([k, v]) => `${k} ${v}%`).join(', ')}`
      + `${p.sysBpfInclusive !== undefined ? `; inside bpf() syscalls ${p.sysBpfInclusive}%` : ''}.`
    : p?.error ? ` (no transitd profile: ${p.error})` : '';
  const pa = last.preallocated;
  const pre = pa
    ? ` With the endpoints map preallocated (transitd --preallocate endpoints; raw on a preallocated map too): ${sig(pa.seconds)} s, `
      + `${sig(pa.recordsPerSecond / 1000)}k/s vs ${sig(pa.raw.recordsPerSecond / 1000)}k/s raw = ${pa.vsRaw}× (the kernel's insert alone takes about half `
      + `the CPU of the per-record allocation; the path's own CPU is the same, so its share grows).`
    : '';
  return `Records travel packed (PutEndpoints: the kernel's layout, sent without the empty backend slots): packed on the caller's thread into reused buffers that move to `
    + `a worker thread, which sends them (EndpointBatchSender); transitd reads each batch as views of the received message, expands the values, checks them and `
    + `tells new from rewritten records with one probe of its key index on arrival, while the kernel still writes the batch before, `
    + `then writes it with one batch update off its JS thread (old values are read only for rewritten ones, for the all-or-nothing undo), `
    + `as the raw path does with ${last.chunk.toLocaleString('en')} pre-encoded records per syscall. At ${last.endpoints.toLocaleString('en')} `
    + `(map ${last.mapFlags?.transitd ?? '?'}, raw ${last.mapFlags?.raw ?? '?'}): ${sig(last.recordsPerSecond / 1000)}k/s vs ${sig(last.raw.recordsPerSecond / 1000)}k/s raw`
    + `${last.callerThread ? ` (PutEndpoints from the caller's thread: ${sig(last.callerThread.recordsPerSecond / 1000)}k/s)` : ''}.${pre}${prof} gRPC chunks: `
    + `${last.chunk.toLocaleString('en')} records = ${sig(last.chunkBytes / MB)} MB per PutEndpoints (under transitd's 64 MiB limit), `
    + `${last.window} in flight. On 2 CPUs the caller's packing (~0.35 CPU-s per 1M), the sender's worker (~0.3), transitd's JavaScript `
    + `(~0.5, a quarter of it the index probes) and garbage collection (~0.2) share the machine with the kernel's insert (~1.0 CPU-s, ~0.5 preallocated); `
    + `raw is the insert alone (bench/README.md, section 3).`;
}

function readyWhy(s: Sections): string {
  const p = s.provisioning!;
  const r = p.ready;
  const z = p.scale;
  return `Of the ${r.p50Ms} ms p50, createSimpleEndpoint() takes ${r.createP50Ms} ms and the first echo reply comes ${r.pingP50Ms} ms after it returns `
    + `(ping's start-up included; ${r.lostBeforeFirstReply} requests lost before a first reply over all ${r.endpoints}). transitd's AttachEndpoint alone `
    + `takes ${r.attachP50Ms} ms p50: it builds the namespace and veth with three processes (two 'ip -batch' and one ethtool for the veth's offloads; `
    + `a short 'ip' command took ${p.commandSpawnMs} ms to run in this run). `
    + `${z.lastTenthPerEndpointMs > 1.3 * z.firstTenthPerEndpointMs ? 'The cost grows' : 'The cost barely grows'} with the endpoints already there: ${z.firstTenthPerEndpointMs} ms per `
    + `endpoint in the first tenth of ${z.endpoints.toLocaleString('en')}, ${z.lastTenthPerEndpointMs} ms in the last (CPU over the run: `
    + `Controller ${z.cpuSeconds.controller} s, host transitd with its commands ${z.cpuSeconds.hostTransitd} s). Hypothesis (not measured in this run): `
    + 'the rest of createSimpleEndpoint() is the Controller recomputing every host\'s goal state and the gRPC round trips. '
    + 'Levers: netlink from transitd instead of processes, and a Controller that diffs only what a call changed.';
}

function memWhy(s: Sections): string {
  const z = s.provisioning!.scale;
  const m = z.memory;
  const cg = m.cgroup
    ? `this run's cgroup grew ${sig(m.cgroup.usageDeltaBytes / MB)} MB for ${z.endpoints} endpoints, ${sig(m.cgroup.kernelDeltaBytes / MB)} MB of it kernel `
      + '(hypothesis, not broken down in this run: a network namespace, a veth pair with its queues, sysctl tables per endpoint)'
    : `MemAvailable dropped ${sig(m.memAvailableDropBytes / MB)} MB for ${z.endpoints} endpoints`;
  return `${cg}; transitd's RSS grew ${sig(m.transitdRssDeltaBytes / MB)} MB; system-wide kernel memory grew ${sig(m.systemKernelDeltaBytes / MB)} MB `
    + '(system-wide figures include whatever else ran on the machine meanwhile).';
}

// --- the table -----------------------------------------------------------------

function fmt(v: number | undefined, unit = ''): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  const abs = Math.abs(v);
  const text = abs >= 1000 ? Math.round(v).toLocaleString('en') : abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

export function renderTable(rows: Row[]): string {
  const head = ['scenario', 'metric', 'value', 'vs direct', 'vs vxlan', 'target', 'met?'];
  const cells = rows.map((r) => [
    r.scenario, r.metric, fmt(r.value, r.unit), r.vsDirect !== undefined ? `${fmt(r.vsDirect)}×` : '',
    r.vsVxlan !== undefined ? `${fmt(r.vsVxlan)}×` : '', r.target ?? '', r.met ?? '',
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const right = new Set([2, 3, 4]);
  const line = (c: string[]) => c.map((x, i) => (right.has(i) ? x.padStart(width[i]) : x.padEnd(width[i]))).join('  ').trimEnd();
  const out: string[] = [];
  let section = '';
  const total = width.reduce((a, b) => a + b + 2, -2);
  out.push(line(head), '-'.repeat(total));
  rows.forEach((r, i) => {
    if (r.section !== section) {
      if (section) out.push('');
      section = r.section;
      out.push(`== ${section}`);
    }
    out.push(line(cells[i]));
  });
  return out.join('\n');
}

const STATUS_LABEL: Record<TargetCheck['status'], string> = {
  met: '[met]', missed: '[MISSED]', 'not measured': '[NOT MEASURED]', invalid: '[INVALID]', estimate: '[ESTIMATE]', 'not judged': '[NOT JUDGED]',
};

export function renderTargets(targets: TargetCheck[]): string {
  const met = targets.filter((t) => t.met).length;
  const others = (['missed', 'not judged', 'estimate', 'not measured', 'invalid'] as const)
    .map((st) => [st, targets.filter((t) => t.status === st).length] as const).filter(([, n]) => n > 0).map(([st, n]) => `${n} ${st}`);
  const told = new Set<string>();
  const lines = targets.map((t) => {
    let why = '';
    if (t.why && !t.met) {
      why = told.has(t.why) ? '\n           why: as above' : `\n           why: ${t.why}`;
      told.add(t.why);
    }
    const value = t.measured !== undefined ? `${fmt(t.measured, t.unit)} ` : '';
    return `${STATUS_LABEL[t.status].padEnd(14)} ${t.what}: ${value}(goal ${t.goal}) — ${t.margin}${why}`;
  });
  return [`${met} of ${targets.length} met${others.length ? `; ${others.join(', ')}` : ''}`, ...lines].join('\n');
}

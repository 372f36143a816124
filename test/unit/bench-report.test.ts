// The bench report's pure logic (bench/report.ts): how the per-packet and
// control-plane targets are judged, and the findings built from counters.
import { describe, expect, it } from 'vitest';
import type { CtlPlaneResult, CtlSizeResult } from '../../bench/ctlplane.js';
import type { ControllerStoreResult, StoreRun } from '../../bench/controller-store.js';
import type { PathCost, PktCostResult } from '../../bench/pktcost.js';
import { aggregateFinding, buildReport, metCell, pktSwitchTarget, renderTargets, sgPacketTargets, sgThroughputReport } from '../../bench/report.js';
import type { SgThroughputResult } from '../../bench/sg.js';
import { controlDisagrees, controlSpread, emptyPhasesDisagree, emptyPhasesText, receivedSoFar, sgPaired } from '../../bench/sg-paired.js';
import { check } from '../../bench/targets.js';
import { spreadOf } from '../../bench/spread.js';

const repeat1 = (grossNs: number, vsEmpty: number): PathCost['repeat1'] => ({ runs: 100, grossNs, p10Ns: grossNs, p90Ns: grossNs, netNs: 0, vsEmpty });

function pktcost(switchRounds: number[] | undefined, wrapperError?: string): PktCostResult {
  const empty: PathCost = { path: 'empty', description: '', verdict: 'PASS', frameBytes: 100, nsPerPacket: 20, vsEmpty: 1, method: 'repeat-1', repeat1: repeat1(60, 1) };
  const sw: PathCost = {
    path: 'switch', description: '', verdict: 'TX', frameBytes: 100, method: switchRounds ? 'restore-wrapper' : 'repeat-1',
    nsPerPacket: switchRounds ? 20 * spreadOf(switchRounds).median : 115, vsEmpty: switchRounds ? spreadOf(switchRounds).median : 1.91,
    repeat1: repeat1(115, 1.91),
    ...(switchRounds ? {
      restored: {
        repeat: 1000, rounds: switchRounds.length, wrappedNs: 90, netNs: 60, nsSpread: spreadOf(switchRounds.map((x) => x * 20)),
        vsEmptySpread: spreadOf(switchRounds), perRoundNs: switchRounds.map((x) => x * 20), counter: { name: 'switch_fwd', delta: 1000 * switchRounds.length },
      },
    } : {}),
  };
  return {
    method: '', ...(switchRounds ? { emptyRepeatedNs: 20 } : {}),
    restoreWrapper: switchRounds ? { available: true, repeat: 1000, rounds: switchRounds.length } : { available: false, error: wrapperError },
    paths: [empty, sw],
  };
}

describe('bench report: the per-packet target', () => {
  it('is not measured without the restoring wrapper, whatever the repeat=1 ratio says', () => {
    const pc = pktcost(undefined, 'clang: not found');
    const t = pktSwitchTarget(pc, pc.paths[1]);
    expect(t.status).toBe('not measured');
    expect(t.met).toBe(false);
    expect(t.margin).toMatch(/restoring wrapper could not be used \(clang: not found\)/);
    expect(metCell(t)).toBe('not measured');
  });

  it('is judged on the median of the rounds when their spread is tight', () => {
    const pc = pktcost([2.0, 2.1, 2.2, 2.05, 2.15, 2.12, 2.08]);
    const t = pktSwitchTarget(pc, pc.paths[1]);
    expect(t).toMatchObject({ status: 'met', measured: 2.1 });
    expect(metCell(t)).toBe('yes');
    const missed = pktcost([4.3, 4.4, 4.2, 4.35, 4.25, 4.32, 4.28]);
    expect(pktSwitchTarget(missed, missed.paths[1])).toMatchObject({ status: 'missed', measured: 4.3 });
  });

  it('is not judged when the goal lies inside the interval that holds the median with 95% confidence', () => {
    const pc = pktcost([1.9, 2.6, 4.3, 2.0, 4.0, 2.2, 3.0]);
    const t = pktSwitchTarget(pc, pc.paths[1]);
    expect(t.status).toBe('not judged');
    expect(t.margin).toMatch(/the goal 2\.5 lies inside the median's 95% interval 1\.90-4\.30/);
  });
});

function ctlSize(endpoints: number, seconds: number): CtlSizeResult {
  return {
    endpoints, chunk: 30_000, chunkBytes: 2e6, window: 2, seconds, packSeconds: seconds / 4, recordsPerSecond: endpoints / seconds,
    raw: { seconds: seconds / 2, recordsPerSecond: (2 * endpoints) / seconds }, vsRaw: 0.5,
    transitdRssBytes: { before: 1, after: 2, delta: 1 }, mapMemlockBytes: 1e6, verified: '',
    mapFlags: { transitd: 'BPF_F_NO_PREALLOC (map_flags 1)', raw: 'BPF_F_NO_PREALLOC (map_flags 1)' },
  };
}

/** The largest size with its preallocated pair (transitd and raw on preallocated maps). */
function withPrealloc(z: CtlSizeResult, seconds: number, rawSeconds: number): CtlSizeResult {
  return {
    ...z, preallocated: {
      seconds, packSeconds: seconds / 4, recordsPerSecond: z.endpoints / seconds, raw: { seconds: rawSeconds, recordsPerSecond: z.endpoints / rawSeconds },
      vsRaw: rawSeconds / seconds, mapFlags: { transitd: 'preallocated (map_flags 0)', raw: 'preallocated (map_flags 0)' }, mapMemlockBytes: 2e8,
    },
  };
}

describe('bench report: the 1M control-plane target', () => {
  it('is an estimate, never met, when --quick stops at 100k', () => {
    const ctlplane: CtlPlaneResult = { path: '', raw: '', sizes: [ctlSize(1_000, 0.01), ctlSize(100_000, 0.1)] };
    const { targets, rows } = buildReport({ ctlplane }, { cpus: 2 });
    const t = targets.find((x) => x.id === 'ctl_1m_seconds')!;
    expect(t).toMatchObject({ status: 'estimate', met: false, estimated: true, measured: 1 });
    expect(rows.find((r) => r.metric.startsWith('time (extrapolated'))?.met).toBe('estimate');
  });

  it('is judged on the measured 1M run, packing included', () => {
    const ctlplane: CtlPlaneResult = { path: '', raw: '', sizes: [ctlSize(1_000_000, 3)] };
    const { targets, rows } = buildReport({ ctlplane }, { cpus: 2 });
    expect(targets.find((x) => x.id === 'ctl_1m_seconds')).toMatchObject({ status: 'missed', measured: 3 });
    expect(rows.find((r) => r.scenario === '1,000,000 endpoints' && r.metric.startsWith('time via'))?.met).toBe('no');
    expect(rows.find((r) => r.metric === 'of it: packing the records')?.value).toBe(0.75);
    expect(targets.find((x) => x.id === 'ctl_1m_seconds_prealloc')).toBeUndefined();
  });

  it('judges both targets again on the preallocated pair, each against raw on a map with the same flags', () => {
    const ctlplane: CtlPlaneResult = { path: '', raw: '', sizes: [withPrealloc(ctlSize(1_000_000, 2), 0.9, 0.5)] };
    const { targets, rows, ratios } = buildReport({ ctlplane }, { cpus: 2 });
    const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
    expect(byId.ctl_1m_seconds).toMatchObject({ status: 'missed', measured: 2 });
    expect(byId.ctl_rate_vs_raw).toMatchObject({ status: 'missed', measured: 0.5 });
    expect(byId.ctl_1m_seconds_prealloc).toMatchObject({ status: 'met', measured: 0.9 });
    expect(byId.ctl_rate_vs_raw_prealloc).toMatchObject({ status: 'missed', measured: 0.5 / 0.9 });
    expect(byId.ctl_1m_seconds_prealloc.what).toMatch(/preallocated/);
    expect(byId.ctl_1m_seconds.what).toMatch(/BPF_F_NO_PREALLOC/);
    expect(ratios.ctl_1000000_prealloc_vs_raw).toBeCloseTo(0.556, 3);
    const pre = rows.filter((r) => r.metric.startsWith('map preallocated: '));
    expect(pre.find((r) => r.metric.endsWith('time via gRPC PutEndpoints, packing included'))).toMatchObject({ value: 0.9, met: 'yes' });
    expect(pre.find((r) => r.metric.endsWith('transitd rate / raw rate'))).toMatchObject({ target: '≥0.7× raw', met: 'no' });
  });

  it('under --quick, the preallocated 1M time is an estimate too', () => {
    const ctlplane: CtlPlaneResult = { path: '', raw: '', sizes: [ctlSize(1_000, 0.01), withPrealloc(ctlSize(100_000, 0.1), 0.05, 0.04)] };
    const { targets } = buildReport({ ctlplane }, { cpus: 2 });
    expect(targets.find((x) => x.id === 'ctl_1m_seconds_prealloc')).toMatchObject({ status: 'estimate', measured: 0.5 });
  });
});

describe('bench report: findings from the counters', () => {
  it('says aggregates only when the measured bytes per packet exceed the MTU', () => {
    expect(aggregateFinding([30_000, 45_000], 1450)).toMatch(/30000-45000 B .* more than the endpoint MTU \(1450 B\): it handled GSO aggregates/);
    expect(aggregateFinding([1398, 1398], 1450)).toMatch(/1398 B .* within the endpoint MTU \(1450 B\): one packet per segment/);
    expect(aggregateFinding([1398, 30_000], 1450)).toMatch(/some runs carried aggregates, some segments/);
    expect(aggregateFinding([NaN], 1450)).toMatch(/No encapsulation counters/);
  });
});

describe('bench report: the targets as printed', () => {
  it('counts only met targets as met and labels every other status', () => {
    const text = renderTargets([
      check('a', 'A', '≤ 2 s', 1, 's', 2, '<='),
      check('b', 'B', '≤ 2 s', 1, 's', 2, '<=', { estimated: true }),
      check('c', 'C', '≤ 1.1 MB', -1.68, 'MB', 1.1, '<='),
      check('d', 'D', '≤ 3×', undefined, '×', 3, '<=', { notMeasured: 'wrapper failed' }),
      check('e', 'E', '≤ 3×', 2.9, '×', 3, '<=', { notJudged: 'spread too wide' }),
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('1 of 5 met; 1 not judged, 1 estimate, 1 not measured, 1 invalid');
    expect(lines.slice(1).map((l) => l.split(' ')[0])).toEqual(['[met]', '[ESTIMATE]', '[INVALID]', '[NOT', '[NOT']);
    expect(text).toMatch(/\[NOT MEASURED\] +D: \(goal ≤ 3×\) — not measured: wrapper failed/);
    expect(text).toMatch(/\[NOT JUDGED\] +E: 2\.90 × \(goal ≤ 3×\)/);
    expect(text).not.toMatch(/to spare.*-/);
  });
});

describe('bench report: security groups (issue 13)', () => {
  const path = (name: string, ns: number, rounds?: number[]): PathCost => ({
    path: name, description: '', verdict: 'REDIRECT', frameBytes: 100, nsPerPacket: ns, vsEmpty: 1, method: rounds ? 'restore-wrapper' : 'repeat-1',
    repeat1: repeat1(ns, 1),
    ...(rounds ? { restored: { repeat: 1000, rounds: rounds.length, wrappedNs: ns, netNs: ns, nsSpread: spreadOf(rounds), vsEmptySpread: spreadOf(rounds), perRoundNs: rounds } } : {}),
  });

  it('judges the XDP per-packet cost on the per-round ratio, TC on the medians, for ingress and egress, 1 and 1,000 rules', () => {
    const base = [100, 200, 100, 100, 100, 100, 100];
    const pc: PktCostResult = {
      method: '', restoreWrapper: { available: true }, paths: [
        path('decap', 100, base), path('decap_sg1', 120, base.map((x) => x * 1.2)), path('decap_sg1000', 150, base.map((x) => x * 1.5)),
        path('agent_encap', 100, base), path('agent_encap_sg1', 125, base.map((x) => x * 1.25)),
        path('tc_decap', 300), path('tc_decap_sg1', 330), path('tc_decap_sg1000', 450),
        path('tc_agent_encap', 400), path('tc_agent_encap_sg1', 400), path('tc_agent_encap_sg1000', 420),
      ],
    };
    const by = new Map(sgPacketTargets(pc).map((t) => [t.id, t]));
    expect([...by.keys()].sort()).toEqual([
      'pkt_agent_encap_sg1000_vs_no_policy', 'pkt_agent_encap_sg1_vs_no_policy', 'pkt_decap_sg1000_vs_no_policy', 'pkt_decap_sg1_vs_no_policy',
      'pkt_tc_agent_encap_sg1000_vs_no_policy', 'pkt_tc_agent_encap_sg1_vs_no_policy', 'pkt_tc_decap_sg1000_vs_no_policy', 'pkt_tc_decap_sg1_vs_no_policy',
    ]);
    // The slow round (200 ns) cancels out round by round.
    expect(by.get('pkt_decap_sg1_vs_no_policy')).toMatchObject({ status: 'met', measured: 1.2 });
    expect(by.get('pkt_decap_sg1000_vs_no_policy')).toMatchObject({ status: 'missed', measured: 1.5 });
    expect(by.get('pkt_agent_encap_sg1_vs_no_policy')).toMatchObject({ status: 'met', measured: 1.25 });
    expect(by.get('pkt_agent_encap_sg1000_vs_no_policy')).toMatchObject({ status: 'not measured' });
    expect(by.get('pkt_tc_decap_sg1_vs_no_policy')).toMatchObject({ status: 'met', measured: 1.1 });
    expect(by.get('pkt_tc_decap_sg1000_vs_no_policy')).toMatchObject({ status: 'missed', measured: 1.5 });
    expect(by.get('pkt_tc_agent_encap_sg1000_vs_no_policy')).toMatchObject({ status: 'met', measured: 1.05 });
  });

  it('pairs each run\'s rate with the CPU it kept busy: a run slowed by steal costs the same per busy CPU-second', () => {
    // Round 2: other guests took a tenth of the machine from the policed run, and a tenth of its rate.
    const p = sgPaired([10, 9], [10, 10], { policed: [0.5, 0.45], open: [0.5, 0.5] });
    expect([p.ratio.min, p.ratio.max]).toEqual([0.9, 1]);
    expect([p.perBusyCpuRatio?.min, p.perBusyCpuRatio?.max]).toEqual([1, 1]);
    // A policed run that did less with the same CPU costs more per busy CPU-second.
    expect(sgPaired([9], [10], { policed: [0.5], open: [0.5] }).perBusyCpuRatio?.median).toBeCloseTo(0.9, 9);
    expect(sgPaired([1], [1]).perBusyCpuRatio).toBeUndefined();
    expect(() => sgPaired([1], [1], { policed: [0], open: [0.5] })).toThrow(/busy share is not in/);
    expect(() => sgPaired([1, 1], [1, 1], { policed: [0.5], open: [0.5, 0.5] })).toThrow(/busy share per phase is missing/);
  });

  it('reads what a phase received from /proc/<pid>/net: bytes on every device but lo, UDP datagrams delivered', () => {
    const dev = ['Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:  999999      10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0',
      '  eth0: 1234567   12345    0    0    0     0          0         0     1000      10    0    0    0     0       0          0',
      'ep1a2b:     100       1    0    0    0     0          0         0        0       0    0    0    0     0       0          0'].join('\n');
    const snmp = ['Ip: Forwarding DefaultTTL', 'Ip: 2 64',
      'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
      'Udp: 4242 1 7 3 7 0 0 0 0', 'UdpLite: InDatagrams NoPorts', 'UdpLite: 0 0'].join('\n');
    expect(receivedSoFar('tcp', { dev, snmp })).toBe(1234667);
    expect(receivedSoFar('udp', { dev, snmp })).toBe(4242);
    expect(() => receivedSoFar('udp', { dev, snmp: 'Ip: 1' })).toThrow(/InDatagrams/);
  });

  it('judges throughput with a group on the per-pair ratio against 0.97x, and not when the pairs straddle it', () => {
    const steady = controlSpread([1, 1.01, 0.99, 1, 1.02, 0.98, 1], [1, 1, 1, 1, 1, 1, 1]);
    const paired = (policed: number[], open: number[]) => ({ policed, open, ratio: spreadOf(policed.map((x, i) => x / open[i])), control: steady });
    const sg: SgThroughputResult = {
      rules: 100, rounds: 7, secondsPerRound: 1, settleSeconds: 0.3, method: '', group: '',
      modes: {
        tc: { tcp1: paired([9.9, 5, 9.9, 9.9, 9.9, 9.9, 9.9], [10, 5, 10, 10, 10, 10, 10]), udp64Kpps: paired([90, 91, 90, 90, 90, 90, 90], [100, 100, 100, 100, 100, 100, 100]), counters: { sg_ct_new: 40, drop_sg_ingress: 0 } },
        native: { tcp1: paired([9, 11, 10, 9.5, 10.5, 9.8, 10.2], [10, 10, 10, 10, 10, 10, 10]), udp64Kpps: paired([1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]), counters: { sg_ct_new: 40, drop_sg_egress: 2 } },
      },
    };
    const { targets, rows, ratios } = sgThroughputReport(sg);
    const by = new Map(targets.map((t) => [t.id, t]));
    expect(by.get('sg_tcp1_tc_vs_no_policy')).toMatchObject({ status: 'met', measured: 0.99 });
    expect(by.get('sg_udp64_pps_tc_vs_no_policy')).toMatchObject({ status: 'missed', measured: 0.9 });
    expect(by.get('sg_tcp1_xdp_vs_no_policy')?.status).toBe('not judged');
    expect(by.get('sg_udp64_pps_xdp_vs_no_policy')).toMatchObject({ status: 'met', measured: 1 });
    expect(ratios.sg_tcp1_tc_vs_no_policy_paired_median).toBe(0.99);
    expect(rows.filter((r) => r.metric.startsWith('packets denied')).map((r) => r.value)).toEqual([0, 2]);
    expect(rows.filter((r) => r.metric.includes('A/A control')).map((r) => r.value)).toEqual([1, 1, 1, 1]);
  });

  it('does not judge a run whose A/A control leaves out 1.0, or that has none', () => {
    const clear = { policed: [9, 9, 9, 9, 9, 9, 9], open: [10, 10, 10, 10, 10, 10, 10], ratio: spreadOf([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]) };
    const drifting = controlSpread([0.95, 0.94, 0.96, 0.95, 0.93, 0.95, 0.96], [1, 1, 1, 1, 1, 1, 1]);
    const sg: SgThroughputResult = {
      rules: 100, rounds: 7, secondsPerRound: 0.25, settleSeconds: 0.1, method: '', group: '',
      modes: { tc: { tcp1: { ...clear, control: drifting }, udp64Kpps: clear, counters: { sg_ct_new: 4 } } },
    };
    const by = new Map(sgThroughputReport(sg).targets.map((t) => [t.id, t]));
    expect(by.get('sg_tcp1_tc_vs_no_policy')).toMatchObject({ status: 'not judged' });
    expect(by.get('sg_tcp1_tc_vs_no_policy')?.margin).toMatch(/A\/A control .* leaves out 1\.0/);
    expect(by.get('sg_udp64_pps_tc_vs_no_policy')?.margin).toMatch(/no A\/A control/);
    expect(controlDisagrees(controlSpread([1, 1], [1, 1]))).toMatch(/too few/);
    expect(controlDisagrees(drifting)).toMatch(/0\.950/);
    expect(() => controlSpread([1], [0])).toThrow(/not positive/);
    expect(() => controlSpread([1, 1], [1])).toThrow(/1 open/);
  });

  it('does not judge a run whose phases with the group came back empty more often than without', () => {
    const steady = controlSpread([1, 1.01, 0.99, 1, 1.02, 0.98, 1], [1, 1, 1, 1, 1, 1, 1]);
    const clear = { policed: [10, 10, 10, 10, 10, 10, 10], open: [10, 10, 10, 10, 10, 10, 10], ratio: spreadOf([1, 1, 1, 1, 1, 1, 1]), control: steady };
    const sg: SgThroughputResult = {
      rules: 100, rounds: 7, secondsPerRound: 0.02, settleSeconds: 0.005, method: '', group: '',
      modes: { tc: {
        tcp1: { ...clear, emptyPhases: { policed: 2, open: 1, decoy: 0, 'no decoy': 0 } },
        udp64Kpps: { ...clear, emptyPhases: { policed: 1, open: 1, decoy: 3, 'no decoy': 0 } },
        counters: { sg_ct_new: 4 },
      } },
    };
    const by = new Map(sgThroughputReport(sg).targets.map((t) => [t.id, t]));
    expect(by.get('sg_tcp1_tc_vs_no_policy')).toMatchObject({ status: 'not judged' });
    expect(by.get('sg_tcp1_tc_vs_no_policy')?.margin).toMatch(/2 phases with the group received nothing against 1 without/);
    // As many empty without the group: judged, and the empty phases are said.
    expect(by.get('sg_udp64_pps_tc_vs_no_policy')).toMatchObject({ status: 'met' });
    expect(by.get('sg_udp64_pps_tc_vs_no_policy')?.why).toMatch(/received nothing \(cycle measured again\): policed 1, open 1, decoy 3/);
    expect(emptyPhasesDisagree(undefined)).toBeUndefined();
    expect(emptyPhasesDisagree({ policed: 0, open: 0 })).toBeUndefined();
    expect(emptyPhasesText({ policed: 0, open: 0 })).toBe('');
  });
});

function controllerRun(endpoints: number, create: { memory: number; sqlite: number; etcd: number }, resume: number, reconcile: number): ControllerStoreResult {
  const run = (store: 'memory' | 'sqlite' | 'etcd'): StoreRun => ({
    store, spec: store, createSeconds: create[store], vsMemory: create[store] / create.memory, verified: '',
    ...(store === 'memory' ? {} : { resumeSeconds: resume, reconcileSeconds: reconcile, reconcile: { checked: endpoints, repaired: 0 } }),
  });
  return { endpoints, wave: 10_000, what: '', runs: [run('memory'), run('sqlite'), run('etcd'), run('memory')] };
}

describe('bench report: the Controller with its store', () => {
  it('judges store ratios, resume and reconcile at 100k', () => {
    const ctlplane: CtlPlaneResult = { path: '', raw: '', sizes: [ctlSize(1_000, 0.01)], controller: controllerRun(100_000, { memory: 10, sqlite: 12, etcd: 16 }, 0.5, 2.5) };
    const { targets, ratios } = buildReport({ ctlplane }, { cpus: 2 });
    const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
    expect(byId.ctl_store_sqlite_vs_memory).toMatchObject({ status: 'met', measured: 1.2 });
    expect(byId.ctl_store_etcd_vs_memory).toMatchObject({ status: 'missed', measured: 1.6 });
    expect(byId.ctl_resume_100k_sqlite_seconds).toMatchObject({ status: 'met', measured: 0.5 });
    expect(byId.ctl_reconcile_100k_etcd_seconds).toMatchObject({ status: 'missed', measured: 2.5 });
    expect(byId.ctl_resume_100k_memory_seconds).toBeUndefined();
    expect(ratios.ctl_store_etcd_vs_memory).toBe(1.6);
  });

  it('marks every 100k figure an estimate below 100k (--quick), times scaled linearly', () => {
    const ctlplane: CtlPlaneResult = { path: '', raw: '', sizes: [ctlSize(1_000, 0.01)], controller: controllerRun(10_000, { memory: 1, sqlite: 1.1, etcd: 1.2 }, 0.05, 0.1) };
    const { targets, rows } = buildReport({ ctlplane }, { cpus: 2 });
    const ours = targets.filter((t) => t.id.startsWith('ctl_store_') || t.id.startsWith('ctl_resume_') || t.id.startsWith('ctl_reconcile_'));
    expect(ours).toHaveLength(6);
    for (const t of ours) expect(t).toMatchObject({ status: 'estimate', met: false, estimated: true });
    expect(ours.find((t) => t.id === 'ctl_reconcile_100k_sqlite_seconds')!.measured).toBe(1);
    expect(rows.find((r) => r.metric === 'reconcile, store sqlite (extrapolated from 10,000)')?.value).toBe(1);
  });

  it('a failed Controller measurement is a target not measured, never left out', () => {
    const ctlplane: CtlPlaneResult = { path: '', raw: '', sizes: [ctlSize(1_000, 0.01)], controllerError: 'etcd did not start' };
    const { targets } = buildReport({ ctlplane }, { cpus: 2 });
    expect(targets.find((t) => t.id === 'ctl_controller_store_targets')).toMatchObject({ status: 'not measured' });
  });
});

// The bench report's pure logic (bench/report.ts): how the per-packet and
// control-plane targets are judged, and the findings built from counters.
import { describe, expect, it } from 'vitest';
import type { CtlPlaneResult, CtlSizeResult } from '../../bench/ctlplane.js';
import type { ControllerStoreResult, StoreRun } from '../../bench/controller-store.js';
import type { PathCost, PktCostResult } from '../../bench/pktcost.js';
import { aggregateFinding, buildReport, metCell, pktSwitchTarget, renderTargets } from '../../bench/report.js';
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
        vsEmptySpread: spreadOf(switchRounds), counter: { name: 'switch_fwd', delta: 1000 * switchRounds.length },
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
    const pc = pktcost([2.0, 2.1, 2.2, 2.05, 2.15]);
    const t = pktSwitchTarget(pc, pc.paths[1]);
    expect(t).toMatchObject({ status: 'met', measured: 2.1 });
    expect(metCell(t)).toBe('yes');
    const missed = pktcost([4.3, 4.4, 4.2, 4.35, 4.25]);
    expect(pktSwitchTarget(missed, missed.paths[1])).toMatchObject({ status: 'missed', measured: 4.3 });
  });

  it('is not judged when the rounds spread too wide', () => {
    const pc = pktcost([1.9, 2.5, 4.3, 2.0, 4.0]);
    const t = pktSwitchTarget(pc, pc.paths[1]);
    expect(t.status).toBe('not judged');
    expect(t.margin).toMatch(/spread too wide/);
  });
});

function ctlSize(endpoints: number, seconds: number): CtlSizeResult {
  return {
    endpoints, chunk: 30_000, chunkBytes: 2e6, window: 2, seconds, packSeconds: seconds / 4, recordsPerSecond: endpoints / seconds,
    raw: { seconds: seconds / 2, recordsPerSecond: (2 * endpoints) / seconds }, vsRaw: 0.5,
    transitdRssBytes: { before: 1, after: 2, delta: 1 }, mapMemlockBytes: 1e6, verified: '',
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

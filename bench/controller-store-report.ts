// Rows and targets of the Controller-with-store measurement (controller-store.ts):
// the store's cost as a ratio to the memory store, resume and a converged
// reconcile of 100,000 endpoints. Below 100,000 (--quick) the 100k figures
// are estimates: the ratios as measured, the times scaled linearly.
import type { Row } from './results.js';
import type { ControllerStoreResult, StoreRun } from './controller-store.js';
import { check, metCell, type TargetCheck } from './targets.js';
import { sig } from './measure.js';

export const CONTROLLER_TARGET_ENDPOINTS = 100_000;
const SECTION = '3 control plane';

export function controllerStoreReport(r: ControllerStoreResult): { rows: Row[]; targets: TargetCheck[]; ratios: Record<string, number> } {
  const rows: Row[] = [];
  const targets: TargetCheck[] = [];
  const ratios: Record<string, number> = {};
  const n = r.endpoints;
  const est = n !== CONTROLLER_TARGET_ENDPOINTS;
  const scale = CONTROLLER_TARGET_ENDPOINTS / n;
  const at = `${n.toLocaleString('en')} endpoints`;
  const estOf = (what: string) => (est ? ` (estimate: measured at ${n.toLocaleString('en')}, ${what}; --quick stops there)` : '');
  const estNote = estOf('times scaled linearly, which overstates fixed costs');
  const extra = est ? { estimated: true } : {};
  const scenario = `${at} via Controller`;
  const memory = r.runs.find((x) => x.store === 'memory');
  r.runs.forEach((run, i) => {
    const again = run.store === 'memory' && r.runs.slice(0, i).some((x) => x.store === 'memory');
    rows.push({ section: SECTION, scenario, metric: `create, store ${run.store}${again ? ' (again, last)' : ''}`, value: sig(run.createSeconds), unit: 's' });
  });
  for (const run of r.runs) {
    if (run.store === 'memory') continue;
    ratios[`ctl_store_${run.store}_vs_memory`] = run.vsMemory;
    const t = check(`ctl_store_${run.store}_vs_memory`, `100k endpoints created through the Controller with the ${run.store === 'sqlite' ? 'embedded (SQLite)' : 'etcd'} store, `
      + `time / the same with the memory store (mean of a run before and after)${estOf('the ratio as measured there')}`, '≤ 1.5× no store', memory ? run.vsMemory : undefined, '×', 1.5, '<=',
      { ...extra, ...(memory ? {} : { notMeasured: 'the memory-store run failed' }) });
    targets.push(t);
    rows.push({ section: SECTION, scenario, metric: `create, store ${run.store} / memory (mean)`, value: run.vsMemory, unit: '×', target: '≤1.5×', met: metCell(t) });
  }
  const timed = (run: StoreRun, what: 'resume' | 'reconcile') => {
    const s = what === 'resume' ? run.resumeSeconds : run.reconcileSeconds;
    if (s === undefined) return;
    const id = `ctl_${what}_100k_${run.store}_seconds`;
    const words = what === 'resume'
      ? `a new Controller resuming 100k endpoints from the ${run.store} store (constructed to its first answer)`
      : `reconcile() over 100k endpoints, converged (Dump of every host, diff, nothing to repair), store ${run.store}`;
    const t = check(id, `${words}${estNote}`, '≤ 2 s', sig(s * scale), 's', 2, '<=', extra);
    targets.push(t);
    rows.push({ section: SECTION, scenario, metric: `${what}, store ${run.store}`, value: sig(s), unit: 's', ...(est ? {} : { target: '≤2 s', met: metCell(t) }) });
    if (est) {
      rows.push({ section: SECTION, scenario: `${CONTROLLER_TARGET_ENDPOINTS.toLocaleString('en')} endpoints via Controller`,
        metric: `${what}, store ${run.store} (extrapolated from ${n.toLocaleString('en')})`, value: sig(s * scale), unit: 's', target: '≤2 s', met: metCell(t) });
    }
  };
  for (const run of r.runs) timed(run, 'resume');
  for (const run of r.runs) timed(run, 'reconcile');
  for (const run of r.runs) {
    if (run.reconcileAgainSeconds !== undefined) {
      rows.push({ section: SECTION, scenario, metric: `reconcile, store ${run.store}, the next pass (no target)`, value: sig(run.reconcileAgainSeconds), unit: 's' });
    }
  }
  return { rows, targets, ratios };
}

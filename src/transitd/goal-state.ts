// A goal-state batch: validated whole first, then applied; if any write fails,
// every record it touched is put back as it was. Upserts make it idempotent.
import { XvpcError } from '../errors.js';
import type { KeyOf, RecordKindName, RecordOf } from '../abi/index.js';
import type { GoalState } from '../gen/transit.js';
import { TRANSIT_KINDS, type HostRecords, type TransitKind } from './records.js';

/** Each kind's fields in a GoalState, and the names errors give them. */
const FIELDS: { [N in RecordKindName]: { put: keyof GoalState; del: keyof GoalState; delName: string } } = {
  substrate: { put: 'substrate', del: 'deleteSubstrate', delName: 'delete_substrate' },
  vpcs: { put: 'vpcs', del: 'deleteVpcs', delName: 'delete_vpcs' },
  networks: { put: 'networks', del: 'deleteNetworks', delName: 'delete_networks' },
  endpoints: { put: 'endpoints', del: 'deleteEndpoints', delName: 'delete_endpoints' },
};
/** Validation follows the message's field order. */
const VALIDATE_ORDER: RecordKindName[] = ['substrate', 'vpcs', 'networks', 'endpoints'];
/** Endpoints before networks: a switch knows its endpoints before any agent is told to send to it. */
const UPSERT_ORDER: RecordKindName[] = ['substrate', 'vpcs', 'endpoints', 'networks'];
/** Deletions the other way round: what points at a record goes first. */
const DELETE_ORDER: RecordKindName[] = ['endpoints', 'networks', 'vpcs', 'substrate'];

function field<T, R>(list: unknown, name: string, fn: (x: T) => R): R[] {
  return ((list as T[] | undefined) ?? []).map((x, i) => {
    try {
      return fn(x);
    } catch (err) {
      if (err instanceof XvpcError) throw new XvpcError(err.code, `${name}[${i}].${err.message}`);
      throw err;
    }
  });
}

export function applyGoalState(records: HostRecords, m: GoalState): void {
  const undo: (() => void)[] = [];
  /** Remembers how to put k back as it is now. */
  const remember = <N extends RecordKindName>(kind: N, k: KeyOf<N>) => {
    const old = records.dp.get(kind, k);
    undo.push(() => (old ? records.dp.put(kind, old) : records.dp.delete(kind, k)));
  };

  // Validate everything first; each kind's writes wait in a closure.
  const upserts = new Map<RecordKindName, () => void>();
  const deletes = new Map<RecordKindName, () => void>();
  const validatePuts = <N extends RecordKindName>(kind: N) => {
    const t: TransitKind<N> = TRANSIT_KINDS[kind];
    const list: RecordOf<N>[] = field(m[FIELDS[kind].put], FIELDS[kind].put, (x) => t.record(x));
    upserts.set(kind, () => { for (const r of list) { remember(kind, r); records.put(kind, r, 'upsert'); } });
  };
  const validateDeletes = <N extends RecordKindName>(kind: N) => {
    const t: TransitKind<N> = TRANSIT_KINDS[kind];
    const list: KeyOf<N>[] = field(m[FIELDS[kind].del], FIELDS[kind].delName, (x) => t.key(x));
    deletes.set(kind, () => { for (const k of list) { remember(kind, k); records.delete(kind, k); } });
  };
  VALIDATE_ORDER.forEach(validatePuts);
  VALIDATE_ORDER.forEach(validateDeletes);

  try {
    for (const kind of UPSERT_ORDER) upserts.get(kind)!();
    for (const kind of DELETE_ORDER) deletes.get(kind)!();
  } catch (err) {
    for (const fn of undo.reverse()) {
      try { fn(); } catch { /* best effort: the original error is what matters */ }
    }
    throw new XvpcError('INTERNAL', `goal state not applied (rolled back): ${(err as Error).message}`);
  }
}

// A goal-state batch: validated whole first, then applied; if any write fails,
// every record it touched is put back as it was. Upserts make it idempotent.
import { XvpcError } from '../errors.js';
import type { KeyOf, RecordKindName, RecordOf } from '../abi/index.js';
import type { GoalState } from '../gen/transit.js';
import { TRANSIT_KINDS, type HostRecords, type KindMessages, type TransitKind } from './records.js';

/** Each kind's lists in a GoalState, and the names errors give them. */
const FIELDS: {
  [N in RecordKindName]: {
    put(g: GoalState): KindMessages[N][0][]; putName: string;
    del(g: GoalState): KindMessages[N][1][]; delName: string;
  }
} = {
  substrate: { put: (g) => g.substrate, putName: 'substrate', del: (g) => g.deleteSubstrate, delName: 'delete_substrate' },
  vpcs: { put: (g) => g.vpcs, putName: 'vpcs', del: (g) => g.deleteVpcs, delName: 'delete_vpcs' },
  networks: { put: (g) => g.networks, putName: 'networks', del: (g) => g.deleteNetworks, delName: 'delete_networks' },
  endpoints: { put: (g) => g.endpoints, putName: 'endpoints', del: (g) => g.deleteEndpoints, delName: 'delete_endpoints' },
};
/** Validation follows the message's field order. */
const VALIDATE_ORDER: RecordKindName[] = ['substrate', 'vpcs', 'networks', 'endpoints'];
/** Endpoints before networks: a switch knows its endpoints before any agent is told to send to it. */
const UPSERT_ORDER: RecordKindName[] = ['substrate', 'vpcs', 'endpoints', 'networks'];
/** Deletions the other way round: what points at a record goes first. */
const DELETE_ORDER: RecordKindName[] = ['endpoints', 'networks', 'vpcs', 'substrate'];

function field<T, R>(list: T[] | undefined, name: string, fn: (x: T) => R): R[] {
  return (list ?? []).map((x, i) => {
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
    const list: RecordOf<N>[] = field(FIELDS[kind].put(m), FIELDS[kind].putName, (x) => t.record(x));
    upserts.set(kind, () => { for (const r of list) { remember(kind, r); records.put(kind, r, 'upsert'); } });
  };
  const validateDeletes = <N extends RecordKindName>(kind: N) => {
    const t: TransitKind<N> = TRANSIT_KINDS[kind];
    const list: KeyOf<N>[] = field(FIELDS[kind].del(m), FIELDS[kind].delName, (x) => t.key(x));
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

// A goal-state batch: validated whole first, then applied; if any write fails,
// every record it touched is put back as it was. Upserts make it idempotent.
// Before the first write the records it touches are journalled (journal.ts),
// so a crash mid-batch is rolled back by the next transitd.
import { notAppliedError } from './map-full.js';
import { XvpcError, atField } from '../errors.js';
import { RECORD_KINDS, type KeyOf, type RecordKindName, type RecordOf } from '../abi/index.js';
import type { HostDataplane } from '../dataplane/host.js';
import type { GoalState } from '../gen/transit.js';
import { crashHook, type GoalStateJournal, type UndoEntry } from './journal.js';
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
  sg_groups: { put: (g) => g.securityGroups, putName: 'security_groups', del: (g) => g.deleteSecurityGroups, delName: 'delete_security_groups' },
  sg_attach: { put: (g) => g.securityAttachments, putName: 'security_attachments', del: (g) => g.deleteSecurityAttachments, delName: 'delete_security_attachments' },
};
/** Validation follows the message's field order. */
const VALIDATE_ORDER: RecordKindName[] = ['substrate', 'vpcs', 'networks', 'endpoints', 'sg_groups', 'sg_attach'];
/** Endpoints before networks: a switch knows its endpoints before any agent is told to send to it. Groups before what attaches them. */
const UPSERT_ORDER: RecordKindName[] = ['substrate', 'vpcs', 'sg_groups', 'sg_attach', 'endpoints', 'networks'];
/** Deletions the other way round: what points at a record goes first. */
const DELETE_ORDER: RecordKindName[] = ['endpoints', 'networks', 'vpcs', 'substrate', 'sg_attach', 'sg_groups'];

function field<T, R>(list: T[] | undefined, name: string, fn: (x: T) => R): R[] {
  return (list ?? []).map((x, i) => {
    try {
      return fn(x);
    } catch (err) {
      throw atField(err, `${name}[${i}]`);
    }
  });
}

/** One write of a batch: the record it touches (kind, key) and how to make it. */
interface Write { kind: RecordKindName; key: unknown; write: () => void }

/** Puts every journalled record back exactly as it was (raw, hostedIfindex included), last first; returns how many. */
export function rollBack(dp: HostDataplane, entries: readonly UndoEntry[]): number {
  for (const e of [...entries].reverse()) {
    const kind = e.kind as RecordKindName;
    if (!Object.hasOwn(RECORD_KINDS, kind)) throw new XvpcError('FAILED_PRECONDITION', `journal: unknown record kind '${e.kind}'`);
    if (e.old) dp.put(kind, e.old as RecordOf<typeof kind>);
    else dp.delete(kind, e.key as KeyOf<typeof kind>);
  }
  return entries.length;
}

/** Rolls back the batch a crashed transitd left in its journal, if any; returns the records restored. */
export function recoverGoalState(dp: HostDataplane, journal: GoalStateJournal): number {
  const entries = journal.pending();
  if (!entries) return 0;
  const n = rollBack(dp, entries);
  journal.end();
  return n;
}

export function applyGoalState(records: HostRecords, m: GoalState, journal?: GoalStateJournal): void {
  // Validate everything first; each kind's writes wait in a list.
  const upserts = new Map<RecordKindName, Write[]>();
  const deletes = new Map<RecordKindName, Write[]>();
  const validatePuts = <N extends RecordKindName>(kind: N) => {
    const t: TransitKind<N> = TRANSIT_KINDS[kind];
    const list: RecordOf<N>[] = field(FIELDS[kind].put(m), FIELDS[kind].putName, (x) => t.record(x));
    upserts.set(kind, list.map((r) => ({ kind, key: r, write: () => records.put(kind, r, 'upsert') })));
  };
  const validateDeletes = <N extends RecordKindName>(kind: N) => {
    const t: TransitKind<N> = TRANSIT_KINDS[kind];
    const list: KeyOf<N>[] = field(FIELDS[kind].del(m), FIELDS[kind].delName, (x) => t.key(x));
    deletes.set(kind, list.map((k) => ({ kind, key: k, write: () => { records.delete(kind, k); } })));
  };
  VALIDATE_ORDER.forEach(validatePuts);
  VALIDATE_ORDER.forEach(validateDeletes);
  // An upsert's key is its record (validatePuts); a delete's, its key.
  const written = <N extends RecordKindName>(kind: N) => upserts.get(kind)!.map((w) => w.key as RecordOf<N>);
  const deleted = <N extends RecordKindName>(kind: N) => deletes.get(kind)!.map((w) => w.key as KeyOf<N>);
  records.checkSecurityChange({
    groups: written('sg_groups'), attachments: written('sg_attach'),
    deleteGroups: deleted('sg_groups').map((k) => k.id), deleteAttachments: deleted('sg_attach'),
    attachmentsField: FIELDS.sg_attach.putName,
  });

  // (1) Every write in order, with the record it touches as it is now, all read before the first write.
  const writes: Write[] = [...UPSERT_ORDER.flatMap((k) => upserts.get(k)!), ...DELETE_ORDER.flatMap((k) => deletes.get(k)!)];
  if (writes.length === 0) return;
  const undo: UndoEntry[] = writes.map((w) => ({
    kind: w.kind, key: w.key, old: records.dp.get(w.kind, w.key as KeyOf<typeof w.kind>),
  }));

  // (2) Journal them, (3) apply, (4) forget them.
  journal?.begin(undo);
  const crash = crashHook();
  let done = 0;
  try {
    for (const w of writes) {
      w.write();
      done++;
      crash?.(done);
    }
  } catch (err) {
    let rolledBack = true;
    try { rollBack(records.dp, undo.slice(0, done + 1)); } catch { rolledBack = false; /* the journal stays: the next start finishes it */ }
    if (rolledBack) journal?.end();
    throw notAppliedError(err, 'goal state not applied (rolled back)');
  }
  journal?.end();
}

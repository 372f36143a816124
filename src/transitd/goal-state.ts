// A goal-state batch: validated whole first, then applied; if any write fails,
// every record it touched is put back as it was. Upserts make it idempotent.
// Before the first write the records it touches are journalled (journal.ts),
// so a crash mid-batch is rolled back by the next transitd.
import { XvpcError } from '../errors.js';
import type { HostDataplane } from '../dataplane/host.js';
import type { GoalState } from '../gen/transit.js';
import { crashHook, type GoalStateJournal, type UndoEntry } from './journal.js';
import type { TransitService } from './service.js';
import * as v from './validate.js';

type Kind = 'substrate' | 'vpcs' | 'networks' | 'endpoints';

/** How each kind's records are read back and restored exactly as they were (raw, hostedIfindex included). */
const RESTORE: Record<Kind, { get(dp: HostDataplane, k: any): unknown; put(dp: HostDataplane, r: any): void; del(dp: HostDataplane, k: any): void }> = {
  substrate: { get: (dp, k) => dp.getSubstrate(k.ip), put: (dp, r) => dp.putSubstrate(r), del: (dp, k) => dp.deleteSubstrate(k.ip) },
  vpcs: { get: (dp, k) => dp.getVpc(k.vni), put: (dp, r) => dp.putVpc(r), del: (dp, k) => dp.deleteVpc(k.vni) },
  networks: { get: (dp, k) => dp.getNetwork(k.vni, k.cidr), put: (dp, r) => dp.putNetwork(r), del: (dp, k) => dp.deleteNetwork(k.vni, k.cidr) },
  endpoints: { get: (dp, k) => dp.getEndpoint(k.vni, k.ip), put: (dp, r) => dp.putEndpoint(r), del: (dp, k) => dp.deleteEndpoint(k.vni, k.ip) },
};

/** Puts every journalled record back, last first; returns how many. */
export function rollBack(dp: HostDataplane, entries: readonly UndoEntry[]): number {
  for (const e of [...entries].reverse()) {
    const kind = RESTORE[e.kind as Kind];
    if (!kind) throw new XvpcError('FAILED_PRECONDITION', `journal: unknown record kind '${e.kind}'`);
    if (e.old) kind.put(dp, e.old);
    else kind.del(dp, e.key);
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

export function applyGoalState(svc: TransitService, m: GoalState, journal?: GoalStateJournal): void {
  const field = <T, R>(list: T[] | undefined, name: string, fn: (x: T) => R): R[] =>
    (list ?? []).map((x, i) => {
      try {
        return fn(x);
      } catch (err) {
        if (err instanceof XvpcError) throw new XvpcError(err.code, `${name}[${i}].${err.message}`);
        throw err;
      }
    });
  const substrate = field(m.substrate, 'substrate', v.substrateRecord);
  const vpcs = field(m.vpcs, 'vpcs', v.vpcRecord);
  const networks = field(m.networks, 'networks', v.networkRecord);
  const endpoints = field(m.endpoints, 'endpoints', v.endpointRecord);
  const delSubstrate = field(m.deleteSubstrate, 'delete_substrate', (k) => v.ipv4(k.ip, 'ip'));
  const delVpcs = field(m.deleteVpcs, 'delete_vpcs', (k) => v.vni(k.vni));
  const delNetworks = field(m.deleteNetworks, 'delete_networks', v.networkKey);
  const delEndpoints = field(m.deleteEndpoints, 'delete_endpoints', v.endpointKey);

  const dp = svc.dp;
  // Every write in order, with the key it touches. Endpoints before networks:
  // a switch knows its endpoints before any agent is told to send to it.
  const writes: { kind: Kind; key: unknown; write: () => void }[] = [
    ...substrate.map((r) => ({ kind: 'substrate' as const, key: { ip: r.ip }, write: () => dp.putSubstrate(r) })),
    ...vpcs.map((r) => ({ kind: 'vpcs' as const, key: { vni: r.vni }, write: () => dp.putVpc(r) })),
    ...endpoints.map((r) => ({ kind: 'endpoints' as const, key: { vni: r.vni, ip: r.ip }, write: () => svc.putEndpoint(r, 'upsert') })),
    ...networks.map((r) => ({ kind: 'networks' as const, key: { vni: r.vni, cidr: r.cidr }, write: () => dp.putNetwork(r) })),
    ...delEndpoints.map((k) => ({ kind: 'endpoints' as const, key: k, write: () => { dp.deleteEndpoint(k.vni, k.ip); } })),
    ...delNetworks.map((k) => ({ kind: 'networks' as const, key: k, write: () => { dp.deleteNetwork(k.vni, k.cidr); } })),
    ...delVpcs.map((vni) => ({ kind: 'vpcs' as const, key: { vni }, write: () => { dp.deleteVpc(vni); } })),
    ...delSubstrate.map((ip) => ({ kind: 'substrate' as const, key: { ip }, write: () => { dp.deleteSubstrate(ip); } })),
  ];
  // Each touched record as it is now, all read before the first write.
  const undo: UndoEntry[] = writes.map((w) => ({ kind: w.kind, key: w.key, old: RESTORE[w.kind].get(dp, w.key) }));
  if (writes.length === 0) return;

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
    try { rollBack(dp, undo.slice(0, done + 1)); } catch { rolledBack = false; /* the journal stays: the next start finishes it */ }
    if (rolledBack) journal?.end();
    throw new XvpcError('INTERNAL', `goal state not applied (rolled back): ${(err as Error).message}`);
  }
  journal?.end();
}

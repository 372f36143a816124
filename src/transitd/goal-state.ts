// A goal-state batch: validated whole first, then applied; if any write fails,
// every record it touched is put back as it was. Upserts make it idempotent.
import { XvpcError } from '../errors.js';
import type { GoalState } from '../gen/transit.js';
import type { TransitService } from './service.js';
import * as v from './validate.js';

export function applyGoalState(svc: TransitService, m: GoalState): void {
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
  const undo: (() => void)[] = [];
  const restoreSubstrate = (ip: string) => {
    const old = dp.getSubstrate(ip);
    undo.push(() => (old ? dp.putSubstrate(old) : dp.deleteSubstrate(ip)));
  };
  const restoreVpc = (vni: number) => {
    const old = dp.getVpc(vni);
    undo.push(() => (old ? dp.putVpc(old) : dp.deleteVpc(vni)));
  };
  const restoreNetwork = (vni: number, cidr: string) => {
    const old = dp.getNetwork(vni, cidr);
    undo.push(() => (old ? dp.putNetwork(old) : dp.deleteNetwork(vni, cidr)));
  };
  const restoreEndpoint = (vni: number, ip: string) => {
    const old = dp.getEndpoint(vni, ip);
    undo.push(() => (old ? dp.putEndpoint(old) : dp.deleteEndpoint(vni, ip)));
  };

  try {
    // Endpoints before networks: a switch knows its endpoints before any
    // agent is told to send to it.
    for (const r of substrate) { restoreSubstrate(r.ip); dp.putSubstrate(r); }
    for (const r of vpcs) { restoreVpc(r.vni); dp.putVpc(r); }
    for (const r of endpoints) { restoreEndpoint(r.vni, r.ip); svc.putEndpoint(r, 'upsert'); }
    for (const r of networks) { restoreNetwork(r.vni, r.cidr); dp.putNetwork(r); }
    for (const k of delEndpoints) { restoreEndpoint(k.vni, k.ip); dp.deleteEndpoint(k.vni, k.ip); }
    for (const k of delNetworks) { restoreNetwork(k.vni, k.cidr); dp.deleteNetwork(k.vni, k.cidr); }
    for (const vni of delVpcs) { restoreVpc(vni); dp.deleteVpc(vni); }
    for (const ip of delSubstrate) { restoreSubstrate(ip); dp.deleteSubstrate(ip); }
  } catch (err) {
    for (const fn of undo.reverse()) {
      try { fn(); } catch { /* best effort: the original error is what matters */ }
    }
    throw new XvpcError('INTERNAL', `goal state not applied (rolled back): ${(err as Error).message}`);
  }
}

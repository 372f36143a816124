// Brings every host from what it was last sent to what the model wants, in
// an order that keeps traffic flowing:
//   1. attach new endpoints (namespace, veth, agent), many per call; an
//      endpoint no longer wanted whose address a new one takes on the same
//      host is detached just before (a host whose endpoints share one
//      namespace holds an address for one endpoint only, and refuses the new)
//   2. upsert substrate and VPC records, then endpoint records (packed);
//      then every host of a VPC forgets the learned host (direct path) of
//      its endpoints that go or move, before their old records go (and once
//      more after step 5, when they can no longer send)
//   3. upsert network records (switch lists): a new switch already knows its
//      endpoints before any agent is told to use it
//   4. delete records no longer wanted
//   5. detach endpoints no longer wanted
import { XvpcError } from '../errors.js';
import { MAX_ATTACH_PER_CALL, MAX_ENDPOINTS_PER_PUT, type AttachEndpointReply, type GoalState, type HostCacheFlush, type TransitdClient } from '../transitd/client.js';
import { packEndpoints } from '../abi/index.js';
import { emptyGoal, type HostGoal } from './desired.js';
import { sameJson } from '../util/json-value.js';

type Kind = 'substrate' | 'vpcs' | 'networks' | 'endpoints' | 'securityGroups' | 'securityAttachments';

const emptyBatch = (): GoalState => ({
  substrate: [], vpcs: [], networks: [], endpoints: [],
  deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
  securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
});

/** What `want` holds that `have` lacks or holds otherwise. */
export function changed<T>(want: Map<string, T>, have: Map<string, T>): [string, T][] {
  const out: [string, T][] = [];
  for (const [k, v] of want) {
    const old = have.get(k);
    if (old === undefined || !sameJson(old, v)) out.push([k, v]);
  }
  return out;
}

/** The keys `have` holds that `want` does not. */
export const gone = <T>(want: Map<string, T>, have: Map<string, T>): string[] => [...have.keys()].filter((k) => !want.has(k));

export class Reconciler {
  private readonly applied = new Map<string, HostGoal>();
  /** host -> endpoint key -> where its plumbing lives */
  readonly attachments = new Map<string, Map<string, AttachEndpointReply>>();

  constructor(private readonly clients: Record<string, TransitdClient>) {}

  private appliedFor(host: string): HostGoal {
    let g = this.applied.get(host);
    if (!g) this.applied.set(host, (g = emptyGoal()));
    return g;
  }

  async reconcile(desired: Map<string, HostGoal>): Promise<void> {
    const hosts = [...desired.keys()];
    const each = (fn: (host: string, want: HostGoal, have: HostGoal) => Promise<void>) =>
      Promise.all(hosts.map((h) => fn(h, desired.get(h)!, this.appliedFor(h))));

    // Security groups first: an endpoint's policy is in place before its veth is.
    await each((host, want, have) => this.upsert(host, want, have, ['securityGroups', 'securityAttachments']));
    await each(async (host, want, have) => {
      // Many per call: transitd plumbs a call's endpoints together (one process, not three each).
      const todo = changed(want.attachments, have.attachments);
      if (todo.length) {
        const taken = new Set(todo.map(([, req]) => req.ip));
        for (const key of gone(want.attachments, have.attachments)) if (taken.has(have.attachments.get(key)!.ip)) await this.detach(host, have, key);
      }
      for (let i = 0; i < todo.length; i += MAX_ATTACH_PER_CALL) {
        const chunk = todo.slice(i, i + MAX_ATTACH_PER_CALL);
        const { endpoints } = await this.clients[host].attachEndpoints({ endpoints: chunk.map(([, req]) => req) });
        chunk.forEach(([key, req], k) => {
          have.attachments.set(key, req);
          this.attachmentsOf(host).set(key, endpoints[k]);
        });
      }
    });
    const flush = this.flushPlan(desired, this.goneOrMoved(desired));
    await each(async (host, want, have) => {
      await this.upsert(host, want, have, ['substrate', 'vpcs']);
      await this.upsertEndpoints(host, want, have);
    });
    await this.flush(flush);
    await each((host, want, have) => this.upsert(host, want, have, ['networks']));
    await each(async (host, want, have) => {
      const batch = emptyBatch();
      const del = { substrate: gone(want.substrate, have.substrate), vpcs: gone(want.vpcs, have.vpcs),
        networks: gone(want.networks, have.networks), endpoints: gone(want.endpoints, have.endpoints),
        securityGroups: gone(want.securityGroups, have.securityGroups),
        securityAttachments: gone(want.securityAttachments, have.securityAttachments) };
      batch.deleteSubstrate = del.substrate.map((ip) => ({ ip }));
      batch.deleteVpcs = del.vpcs.map((k) => have.vpcs.get(k)!).map((v) => ({ vni: v.vni }));
      batch.deleteNetworks = del.networks.map((k) => have.networks.get(k)!).map((n) => ({ vni: n.vni, cidr: n.cidr }));
      batch.deleteEndpoints = del.endpoints.map((k) => have.endpoints.get(k)!).map((e) => ({ vni: e.vni, ip: e.ip }));
      batch.deleteSecurityGroups = del.securityGroups.map((k) => ({ id: have.securityGroups.get(k)!.id }));
      batch.deleteSecurityAttachments = del.securityAttachments.map((k) => have.securityAttachments.get(k)!).map((a) => ({ vni: a.vni, ip: a.ip }));
      if (Object.values(del).every((l) => l.length === 0)) return;
      await this.clients[host].applyGoalState(batch);
      for (const kind of Object.keys(del) as Kind[]) for (const k of del[kind]) have[kind].delete(k);
    });
    await each(async (host, want, have) => {
      for (const key of gone(want.attachments, have.attachments)) await this.detach(host, have, key);
    });
    // Again, now that the old endpoints are detached: until then they could
    // still send, and teach their old place anew.
    await this.flush(flush);
  }

  private async detach(host: string, have: HostGoal, key: string): Promise<void> {
    const req = have.attachments.get(key)!;
    try {
      await this.clients[host].detachEndpoint({ vni: req.vni, ip: req.ip });
    } catch (err) {
      // Not attached (any more): what the detach is for. Another controller on the
      // same store may have detached it since this one read the host.
      if (!(err instanceof XvpcError) || err.code !== 'NOT_FOUND') throw err;
    }
    have.attachments.delete(key);
    this.attachmentsOf(host).delete(key);
  }

  /** Endpoints (vni, ip) whose record goes away or names another host. */
  private goneOrMoved(desired: Map<string, HostGoal>): { vni: number; ip: string }[] {
    // Looked up in place (no map of every endpoint per sync): a host's record of a key is the one all its holders get.
    const hostIpNow = (k: string): string | undefined => {
      for (const g of desired.values()) {
        const r = g.endpoints.get(k);
        if (r) return r.hostIp;
      }
      return undefined;
    };
    const out = new Map<string, { vni: number; ip: string }>();
    for (const g of this.applied.values()) {
      for (const [k, e] of g.endpoints) if (!out.has(k) && hostIpNow(k) !== e.hostIp) out.set(k, { vni: e.vni, ip: e.ip });
    }
    return [...out.values()];
  }

  /**
   * Direct path: every host that holds (or held) a network of their VPC is to
   * forget where `endpoints` lived; a host that no longer holds any network of
   * a VPC, everything it learned in that VPC. Planned before the records change.
   */
  private flushPlan(desired: Map<string, HostGoal>, endpoints: { vni: number; ip: string }[]): Map<string, HostCacheFlush> {
    const vpcsOf = (g: HostGoal | undefined) => new Set([...(g?.networks.values() ?? [])].map((n) => n.vni));
    const plan = new Map<string, HostCacheFlush>();
    for (const h of desired.keys()) {
      const had = vpcsOf(this.applied.get(h));
      const has = vpcsOf(desired.get(h));
      const vnis = [...had].filter((vni) => !has.has(vni));
      const mine = endpoints.filter((e) => had.has(e.vni) || has.has(e.vni));
      if (vnis.length || mine.length) plan.set(h, { endpoints: mine, vnis });
    }
    return plan;
  }

  private async flush(plan: Map<string, HostCacheFlush>): Promise<void> {
    await Promise.all([...plan].map(([h, req]) => this.clients[h].flushHostCache(req)));
  }

  private async upsert(host: string, want: HostGoal, have: HostGoal, kinds: Kind[]): Promise<void> {
    const batch = emptyBatch();
    const todo = kinds.map((kind) => [kind, changed<any>(want[kind], have[kind])] as const);
    if (todo.every(([, list]) => list.length === 0)) return;
    for (const [kind, list] of todo) (batch[kind] as unknown[]).push(...list.map(([, v]) => v));
    await this.clients[host].applyGoalState(batch);
    for (const [kind, list] of todo) for (const [k, v] of list) (have[kind] as Map<string, unknown>).set(k, v);
  }

  /**
   * Endpoint records go packed (compact on the wire, batch-wire.ts): one batch
   * write on the host per call, calls of at most MAX_ENDPOINTS_PER_PUT (half
   * of what transitd takes in one call), each recorded as applied once answered.
   */
  private async upsertEndpoints(host: string, want: HostGoal, have: HostGoal): Promise<void> {
    const todo = changed(want.endpoints, have.endpoints);
    for (let i = 0; i < todo.length; i += MAX_ENDPOINTS_PER_PUT) {
      const chunk = todo.slice(i, i + MAX_ENDPOINTS_PER_PUT);
      await this.clients[host].putEndpoints(packEndpoints(chunk.map(([, r]) => r)));
      for (const [k, v] of chunk) have.endpoints.set(k, v);
    }
  }

  /** What `host` holds, as its Dump says (observe.ts): the next reconcile repairs the rest. */
  setApplied(host: string, have: HostGoal): void {
    this.applied.set(host, have);
  }

  attachmentsOf(host: string): Map<string, AttachEndpointReply> {
    let m = this.attachments.get(host);
    if (!m) this.attachments.set(host, (m = new Map()));
    return m;
  }
}

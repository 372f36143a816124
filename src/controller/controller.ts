// Controller: holds the desired VPCs, networks and endpoints in a store
// (store/: embedded SQLite or etcd) and drives every host's transitd to match
// (see desired.ts for what goes where). Each call is validated before anything
// changes, committed to the store, then programmed; calls run one at a time.
// A new Controller over the same droplets and store resumes what earlier ones made.
import { connectTransitd, type TransitdClient } from '../transitd/client.js';
import { EndpointType, MAX_BACKENDS, MAX_MEMBERS, endpointRecordKey } from '../abi/index.js';
import { XvpcError, alreadyExists, invalid, notFound } from '../errors.js';
import { cidrContains, cidrOverlaps, cidrWithin, maskOf, notUnicastOverlap, parseCidr, parseIpv4 } from '../util/addr.js';
import { endpointMac, gatewayIp } from './addressing.js';
import { desiredState, type HostAddress, type HostGoal } from './desired.js';
import { countDrift, goalSize, observedGoal } from './observe.js';
import { modelChanges, modelFrom } from './stored-model.js';
import { storeOpener } from './store/open.js';
import type { Leadership } from './store/leadership.js';
import { StaleStoreError, type Store } from './store/store.js';
import { DROPLET_IFACE, dropletNs } from '../droplet/names.js';
import { endpointNames } from '../transitd/plumbing.js';
import { Endpoint, type ControllerHost } from './endpoint.js';
import { Model, type EndpointModel, type NetworkModel, type VpcModel } from './model.js';
import { fencedClient } from './fenced-clients.js';
import { Reconciler } from './reconcile.js';
import { ControllerMetrics } from './metrics.js';
import * as check from '../util/check.js';
import * as sg from './security-groups.js';


/** An API call waiting its turn: a model change (batched with its neighbours) or a task run alone. */
interface PendingChange {
  mutate?(model: Model): unknown;
  run?(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface ControllerOptions {
  /**
   * Where the desired state is kept (API.md): omitted = the embedded store kept
   * with the droplets' prefix; 'etcd://host:port[,host:port...]'; 'sqlite:PATH';
   * 'memory'; or a Store object.
   */
  store?: string | Store;
  /** Run reconcile() every this many ms (default: only when called). */
  reconcileIntervalMs?: number;
  /** etcd: the TTL of the leader's lease, in seconds (default 5). */
  leaseTtlSeconds?: number;
  /** How to reach a host's transitd (default: gRPC to transitdAddress); the unit tests hand in a recording fake. */
  connect?: (name: string, address: string) => TransitdClient;
}

/** The longest prefix a network may have: a /30 holds its gateway and one endpoint. */
const NETWORK_MAX_PREFIX = 30;

const CONTROLLER_OPTIONS: readonly (keyof ControllerOptions)[] = ['store', 'reconcileIntervalMs', 'leaseTtlSeconds', 'connect'];

/** What the last reconcile found, for `xvpc status` and the embedding program. */
export interface ReconcileState { at: Date; checked: number; repaired: number; error?: string }

/** Test hook: XVPC_TEST_CRASH_AFTER_STORE_COMMIT=N kills the process (SIGKILL) right after its Nth store commit. */
function storeCommitCrashHook(): (() => void) | undefined {
  const raw = process.env.XVPC_TEST_CRASH_AFTER_STORE_COMMIT;
  if (raw === undefined || raw === '') return undefined;
  let left = Number(raw);
  if (!Number.isInteger(left) || left < 1) throw new Error(`XVPC_TEST_CRASH_AFTER_STORE_COMMIT must be a count >= 1, not '${raw}'`);
  return () => { if (--left === 0) process.kill(process.pid, 'SIGKILL'); };
}

/** How long a change waits for this controller to lead (etcd) beyond the lease's TTL (a dead leader's lease runs out within it). */
const LEADER_WAIT_EXTRA_MS = 1000;

const isLeadership = (s: Store): s is Store & Leadership => typeof (s as Partial<Leadership>).whenLeading === 'function';

const closedError = () => new XvpcError('FAILED_PRECONDITION', 'controller: closed (make a new Controller to go on)');

export class Controller<H extends ControllerHost = ControllerHost> {
  private model = new Model();
  private readonly clients: Record<string, TransitdClient>;
  private readonly reconciler: Reconciler;
  private store: Store | undefined;
  private leadership: Leadership | undefined;
  /** the store version the model was read at or last committed */
  private version = -1;
  /** whether the Reconciler knows what the hosts hold (after a Dump of each), not just what this process sent */
  private observed = false;
  /** Opening the store and its first load; made again by the next call after it failed (see drain). */
  private ready: Promise<void>;
  private openFailed = false;
  private readonly openStore: () => Promise<Store>;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: PendingChange[] = [];
  private draining = false;
  private closed = false;
  private loop: NodeJS.Timeout | undefined;
  private loopBusy = false;
  private readonly crashAfterCommit = storeCommitCrashHook();
  /** The last reconcile's outcome (a periodic one included). */
  lastReconcile: ReconcileState | undefined;
  /** Reconcile counts and durations, for Prometheus (metrics.registry). */
  readonly metrics = new ControllerMetrics();

  constructor(readonly droplets: Record<string, H>, opts: ControllerOptions = {}) {
    if (typeof droplets !== 'object' || droplets === null) throw invalid('droplets: expected a record of droplets by name');
    if (typeof opts !== 'object' || opts === null) throw invalid('opts: expected an object of options');
    check.knownKeys(opts as Record<string, unknown>, CONTROLLER_OPTIONS, 'opts'); // a misspelt reconcileIntervalMS would do nothing
    const interval = opts.reconcileIntervalMs;
    if (interval !== undefined && (!Number.isInteger(interval) || interval < 10)) throw invalid('reconcileIntervalMs: expected an integer >= 10');
    const ttl = opts.leaseTtlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) throw invalid('leaseTtlSeconds: expected an integer >= 1');
    const openStore = typeof opts.store === 'object' && opts.store !== null
      ? async () => opts.store as Store : storeOpener(opts.store, Object.values(droplets), { leaseTtlSeconds: ttl });
    const connect = (name: string, d: H) =>
      opts.connect ? opts.connect(name, d.transitdAddress) : connectTransitd(name, d.transitdAddress, undefined, d.transitdTls);
    // Without leadership (a store of one controller) it always leads, fenced as its store says.
    const lease = () => (this.leadership ? { leading: this.leadership.leading, fence: this.leadership.fence } : { leading: true, fence: this.store?.fence });
    this.clients = Object.fromEntries(Object.entries(droplets).map(([name, d]) => [name, fencedClient(connect(name, d), lease)]));
    this.reconciler = new Reconciler(this.clients);
    this.openStore = openStore;
    this.ready = this.open();
    this.ready.catch(() => undefined); // reported to every call
    if (interval !== undefined) {
      this.loop = setInterval(() => {
        if (this.loopBusy || this.closed) return;
        this.loopBusy = true;
        this.reconcile().catch(() => undefined).finally(() => { this.loopBusy = false; });
      }, interval);
      this.loop.unref();
    }
  }

  /** Opens the store (once it has opened, not again) and loads it. */
  private async open(): Promise<void> {
    if (!this.store) {
      const store = await this.openStore();
      this.store = store;
      if (this.closed) return; // closed while opening: close() closes it
      this.leadership = isLeadership(store) ? store : undefined;
      // A new leader reads the store afresh and repairs whatever the last one left.
      this.leadership?.onChange((leading) => {
        if (leading && !this.closed) {
          this.version = -1;
          void this.reconcile().catch(() => undefined);
        }
      });
    }
    await this.reload();
  }

  private get db(): Store {
    if (!this.store) throw new XvpcError('FAILED_PRECONDITION', 'controller: store not open yet');
    return this.store;
  }

  /** Where the desired state is kept ('sqlite:/run/xvpc/P/controller.db', 'etcd://...', 'memory'); '' until it is open. */
  get storeDescription(): string { return this.store?.description ?? ''; }

  /**
   * With etcd: whether this controller leads (only the leader writes and
   * reconciles). Other stores: true once open. False until the store is open:
   * it is not known yet whether this one will lead.
   */
  get leading(): boolean { return this.store !== undefined && (this.leadership?.leading ?? true); }

  /** Reads the store into the model; the hosts are observed again before the next change. */
  private async reload(): Promise<void> {
    const snap = await this.db.load();
    let model: Model;
    try {
      model = modelFrom(snap.objects);
      this.checkHostsKnown(model);
    } catch (err) {
      // Objects another version (or a hand) wrote: named, not a TypeError from deep inside.
      if (err instanceof XvpcError) throw err;
      throw new XvpcError('FAILED_PRECONDITION', `store ${this.db.description}: not a desired state this version of xvpc can read: ${(err as Error).message}`);
    }
    this.model = model;
    this.version = snap.version;
    this.observed = false;
  }

  /** A store made with other droplets cannot be driven with these. */
  private checkHostsKnown(m: Model): void {
    const known = (h: string, what: string) => {
      if (!Object.hasOwn(this.droplets, h)) {
        throw new XvpcError('FAILED_PRECONDITION', `store ${this.db.description}: ${what} names host '${h}', which is not among this controller's droplets`);
      }
    };
    for (const v of m.vpcs.values()) for (const r of v.routers) known(r, `VPC ${v.vni}'s routers`);
    for (const n of m.networks.values()) for (const s of n.switches) known(s, `network ${n.vni}/${n.netId}'s switches`);
    for (const e of m.endpoints.values()) if (e.host) known(e.host, `endpoint ${e.vni}/${e.ip}`);
  }

  /** Reloads if another controller (process) committed since this one read the store. */
  private async refresh(): Promise<void> {
    if (this.version < 0 || (await this.db.version()) !== this.version) await this.reload();
  }

  /**
   * Runs API calls in order, each validated against the model as the calls
   * before it left it. Calls that arrive while a sync runs are applied
   * together and synced once (one desired-state diff, hosts attached in
   * parallel): what makes thousands of endpoints affordable. A call that fails
   * validation is rejected alone; if a joint sync fails, the model goes back
   * and each call of the batch is tried again on its own, so a rejected call
   * changes nothing and others are not rejected for it.
   */
  private change<T>(mutate: (model: Model) => T): Promise<T> {
    return this.enqueue({ mutate });
  }

  /** Runs fn alone in the queue (after the calls before it, before those after it). */
  private task<T>(run: () => Promise<T>): Promise<T> {
    return this.enqueue({ run });
  }

  private enqueue<T>(work: { mutate?: (m: Model) => unknown; run?: () => Promise<unknown> }): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    const done = new Promise<T>((resolve, reject) => {
      this.pending.push({ ...work, resolve: resolve as (v: unknown) => void, reject });
    });
    if (!this.draining) this.queue = this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      if (this.openFailed) {
        // Not for good: the next call opens or loads the store again (etcd was down when this controller started).
        this.openFailed = false;
        this.ready = this.open();
      }
      try {
        await this.ready;
      } catch (err) {
        for (const p of this.pending.splice(0)) p.reject(err);
        this.openFailed = true;
        return;
      }
      while (this.pending.length) {
        const head = this.pending[0];
        if (head.run) {
          this.pending.shift();
          try {
            head.resolve(await head.run());
          } catch (err) {
            head.reject(err);
          }
          continue;
        }
        const end = this.pending.findIndex((p) => p.run);
        await this.applyBatch(this.pending.splice(0, end < 0 ? this.pending.length : end));
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Ordered writes: validate, commit the change to the store, then program the
   * hosts. A process killed between the two leaves the store ahead of the
   * hosts, which the next reconcile (or change) repairs from the hosts' Dumps.
   */
  private async applyBatch(batch: PendingChange[], attempt = 0): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      for (const c of batch) c.reject(err);
      return;
    }
    const before = this.model.clone();
    const applied: { change: PendingChange; result: unknown }[] = [];
    for (const change of batch) {
      // Validation throws before mutating (each call checks, then changes).
      try {
        applied.push({ change, result: change.mutate!(this.model) });
      } catch (err) {
        change.reject(err);
      }
    }
    if (!applied.length) return;
    const changes = modelChanges(before, this.model);
    if (changes.length) {
      try {
        // A controller that just started campaigns for a moment; a standby's calls fail (UNAVAILABLE, from the store).
        if (this.leadership && !this.leadership.leading) await this.leadership.whenLeading(this.leadership.leaseMs + LEADER_WAIT_EXTRA_MS);
        this.version = await this.db.commit(changes, this.version);
      } catch (err) {
        this.model = before;
        // Not refused for its version: its outcome is not known (a commit past its deadline may
        // have written part): the store is read again before the next change.
        if (!(err instanceof StaleStoreError)) this.version = -1;
        if (err instanceof StaleStoreError && attempt < 5) return this.applyBatch(applied.map((a) => a.change), attempt + 1);
        for (const { change } of applied) change.reject(err);
        return;
      }
      this.crashAfterCommit?.();
      try {
        if (!this.observed) await this.observeHosts();
        await this.sync();
      } catch (err) {
        const after = this.model;
        if (!(await this.takeBack(before, after))) {
          // The store may keep the change (taken back it was not: another controller wrote since, or the lease
          // ended): the model stays as committed, is read again before the next change, and a reconcile programs
          // the hosts. Made again one by one, each call would meet its own effect (ALREADY_EXISTS).
          const unknown = new XvpcError('UNAVAILABLE', `${(err as Error).message}; the change could not be taken back from the store, `
            + 'so it may stay there and a reconcile (or the leader) programs it: this call\'s outcome is unknown');
          for (const { change } of applied) change.reject(unknown);
          return;
        }
        this.model = before;
        await this.sync().catch(() => undefined);
        if (applied.length === 1) applied[0].change.reject(err);
        else for (const { change } of applied) await this.applyBatch([change]);
        return;
      }
    }
    for (const { change, result } of applied) change.resolve(result);
  }

  /**
   * Takes a committed change (from `before` to `after`) back out of the store
   * after its hosts refused it: true when the store is at `before` again.
   * Only from the version it committed: once another controller has written
   * on top of it (a shared store), taking it back could pull objects from
   * under theirs, so it is not tried (false; the store is read again before
   * the next change).
   */
  private async takeBack(before: Model, after: Model): Promise<boolean> {
    try {
      this.version = await this.db.commit(modelChanges(after, before), this.version);
      return true;
    } catch {
      this.version = -1;
      return false;
    }
  }

  private hostAddresses(): Record<string, HostAddress> {
    return Object.fromEntries(Object.entries(this.droplets).map(([n, d]) => [n, { ip: d.ip, mac: d.mac }]));
  }

  private sync(): Promise<void> {
    return this.metrics.time(() => this.reconciler.reconcile(desiredState(this.model, this.hostAddresses())));
  }

  /**
   * Every host's DumpPacked against the desired state: what each host holds, how many
   * records and attachments it should hold, and how many of them differ.
   */
  private async compareHosts(skip: ReadonlySet<string> = new Set()): Promise<{ desired: Map<string, HostGoal>; hosts: Map<string, { have: HostGoal; checked: number; differ: number }> }> {
    // The hosts dump while this process works out the desired state (at 100k endpoints both take a while).
    const dumps = new Map(Object.entries(this.clients).filter(([name]) => !skip.has(name))
      .map(([name, client]) => [name, client.dumpPacked({}, { timeoutMs: 120_000 })]));
    for (const p of dumps.values()) p.catch(() => undefined); // awaited below; not unhandled meanwhile
    await new Promise((r) => setImmediate(r)); // the requests leave before the CPU-bound part
    const desired = desiredState(this.model, this.hostAddresses());
    const hosts = new Map<string, { have: HostGoal; checked: number; differ: number }>();
    await Promise.all([...dumps].map(async ([name, dump]) => {
      const goal = desired.get(name)!;
      const have = observedGoal(await dump, this.droplets[name].ip, goal);
      hosts.set(name, { have, checked: goalSize(goal), differ: countDrift(goal, have) });
    }));
    return { desired, hosts };
  }

  /**
   * Tells the Reconciler what each host holds (its Dump), so the next sync
   * repairs whatever differs, not just what this process changed.
   * Returns how many records and attachments it checked and found wrong, and
   * the desired state it compared them with.
   */
  private async observeHosts(skip?: ReadonlySet<string>): Promise<{ checked: number; repaired: number; desired: Map<string, HostGoal> }> {
    const { desired, hosts } = await this.compareHosts(skip);
    let checked = 0;
    let repaired = 0;
    for (const [name, h] of hosts) {
      checked += h.checked;
      repaired += h.differ;
      this.reconciler.setApplied(name, h.have);
    }
    this.observed = true;
    return { checked, repaired, desired };
  }

  /**
   * Compares every host's Dump (records and attached endpoints) and program
   * (transit loaded) with the desired state and repairs the difference. With
   * etcd, only the leader does; a standby returns zeros. A host whose transitd
   * does not answer does not hold the others back: they are repaired, then
   * UNAVAILABLE names the host(s) left for the next reconcile.
   */
  async reconcile(): Promise<{ checked: number; repaired: number }> {
    return this.task(async () => {
      if (!this.leading) return { checked: 0, repaired: 0 };
      try {
        await this.refresh();
        let programs = 0;
        const unreachable = new Map<string, string>();
        await Promise.all(Object.entries(this.clients).map(async ([name, client]) => {
          let h: Awaited<ReturnType<TransitdClient['health']>>;
          try {
            h = await client.health({});
          } catch (err) {
            if (!(err instanceof XvpcError) || err.code !== 'UNAVAILABLE') throw err;
            unreachable.set(name, err.message);
            return;
          }
          // A droplet's transit program sits on its eth0; transitd attaches it when it starts.
          if (!h.transitLoaded && typeof (this.droplets[name] as { prefix?: unknown }).prefix === 'string') {
            await client.loadTransit({ interface: DROPLET_IFACE, mode: '' });
            programs++;
          }
        }));
        const skip = new Set(unreachable.keys());
        const { checked, repaired, desired } = await this.observeHosts(skip);
        for (const name of skip) desired.delete(name);
        // Nothing differs (countDrift compares the same kinds the Reconciler diffs): no second diff of every record.
        await this.metrics.time(async () => { if (repaired > 0) await this.reconciler.reconcile(desired); });
        const done = { checked: checked + programs, repaired: repaired + programs };
        if (unreachable.size) {
          throw new XvpcError('UNAVAILABLE', `${[...unreachable.values()].join('; ')}; the hosts that answer were reconciled `
            + `(checked ${done.checked}, repaired ${done.repaired}); the rest waits for the next reconcile`);
        }
        this.lastReconcile = { at: new Date(), ...done };
        return done;
      } catch (err) {
        this.observed = false;
        this.lastReconcile = { at: new Date(), checked: 0, repaired: 0, error: (err as Error).message };
        throw err;
      }
    });
  }

  /**
   * Compares every host's Dump with the desired state without repairing
   * anything (what `xvpc status` shows): records and attachments checked,
   * and how many differ, per host.
   */
  async checkHosts(): Promise<{ checked: number; differ: number; hosts: Record<string, { checked: number; differ: number }> }> {
    return this.task(async () => {
      await this.refresh();
      const compared = await this.compareHosts();
      const hosts = Object.fromEntries([...compared.hosts].map(([name, h]) => [name, { checked: h.checked, differ: h.differ }]));
      const sum = (k: 'checked' | 'differ') => Object.values(hosts).reduce((n, h) => n + h[k], 0);
      return { checked: sum('checked'), differ: sum('differ'), hosts };
    });
  }

  /** How many VPCs, networks and endpoints the desired state holds. */
  async counts(): Promise<{ vpcs: number; networks: number; endpoints: number }> {
    return this.task(async () => {
      await this.refresh();
      return { vpcs: this.model.vpcs.size, networks: this.model.networks.size, endpoints: this.model.endpoints.size };
    });
  }

  // --- listing -----------------------------------------------------------------
  // Reads go through the queue too: they see every call made before them, and
  // what other controllers committed to the store.

  async listVpcs(): Promise<{ vni: number; cidr: string; routers: string[]; directPath: boolean }[]> {
    return this.task(async () => {
      await this.refresh();
      return [...this.model.vpcs.values()].sort((a, b) => a.vni - b.vni).map((v) => structuredClone(v));
    });
  }

  async listNetworks(args: { vni: number }): Promise<{ vni: number; netId: number; cidr: string; switches: string[] }[]> {
    return this.task(async () => {
      const vni = check.vni(check.args(args, 'listNetworks').vni);
      await this.refresh();
      this.vpc(vni);
      return this.model.networksOf(vni).sort((a, b) => a.netId - b.netId).map((n) => structuredClone(n));
    });
  }

  async listEndpoints(args: { vni: number }): Promise<Endpoint<H>[]> {
    return this.task(async () => {
      const vni = check.vni(check.args(args, 'listEndpoints').vni);
      await this.refresh();
      this.vpc(vni);
      return this.model.endpointsOf(vni).map((ep) => this.makeEndpoint(ep));
    });
  }

  private hostArg(v: unknown, field: string): string {
    if (typeof v !== 'string' || v === '') throw invalid(`${field}: expected a droplet name`);
    if (!Object.hasOwn(this.droplets, v)) throw notFound(`${field}: no droplet named '${v}'`);
    return v;
  }

  private hostList(v: unknown, field: string): string[] {
    if (!Array.isArray(v)) throw invalid(`${field}: expected a list of droplet names`);
    if (v.length > MAX_MEMBERS) throw invalid(`${field}: at most ${MAX_MEMBERS}, got ${v.length}`);
    const names = v.map((n, i) => this.hostArg(n, `${field}[${i}]`));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw invalid(`${field}: '${dup}' is listed twice`);
    return names;
  }

  private vpc(vni: number): VpcModel {
    const vpc = this.model.vpcs.get(vni);
    if (!vpc) throw notFound(`vni: no VPC with VNI ${vni}`);
    return vpc;
  }

  private network(vni: number, netId: number): NetworkModel {
    this.vpc(vni);
    const net = this.model.networks.get(Model.netKey(vni, netId));
    if (!net) throw notFound(`netId: VPC ${vni} has no network ${netId}`);
    return net;
  }

  private endpointIp(net: NetworkModel, v: unknown): string {
    const ip = check.unicastIpv4(v, 'ip');
    const c = parseCidr(net.cidr, 'cidr');
    const n = parseIpv4(ip, 'ip');
    if (!cidrContains(c, n)) throw invalid(`ip: ${ip} is outside network ${net.netId}'s CIDR ${net.cidr}`);
    const host = (n & ~maskOf(c.len)) >>> 0;
    if (c.len < 31 && (host === 0 || host === (~maskOf(c.len) >>> 0)))
      throw invalid(`ip: ${ip} is the network or broadcast address of ${net.cidr}`);
    if (ip === gatewayIp(net.cidr)) throw invalid(`ip: ${ip} is the gateway address of ${net.cidr}`);
    if (this.model.endpoints.has(endpointRecordKey({ vni: net.vni, ip }))) throw alreadyExists(`ip: endpoint ${ip} already exists in VPC ${net.vni}`);
    return ip;
  }

  private makeEndpoint(ep: EndpointModel): Endpoint<H> {
    const reply = ep.host ? this.reconciler.attachmentsOf(ep.host).get(endpointRecordKey(ep)) : undefined;
    const host = ep.host ? this.droplets[ep.host] : undefined;
    // Not attached by this process (a resumed controller): transitd names the
    // namespace from the droplet and (vni, ip) alone.
    const prefix = (host as { prefix?: unknown } | undefined)?.prefix;
    const names = !reply && host && typeof prefix === 'string'
      ? endpointNames(dropletNs(prefix, host.id), ep.vni, ep.ip, ep.type === EndpointType.HOST, host.endpointNamespace ?? 'own') : undefined;
    const netns = reply?.netns ?? names?.netns ?? '';
    return new Endpoint<H>(ep.vni, ep.netId, ep.ip, ep.mac, host, netns, reply?.sharedNamespace ?? names?.shared ?? false, [...ep.backends]);
  }

  // --- VPCs ----------------------------------------------------------------
  // Each call validates inside the queue, against the model as the calls
  // before it left it, and throws before mutating anything.

  async createVpc(args: { vni: number; cidr: string; routers?: string[]; directPath?: boolean }): Promise<void> {
    return this.change((m) => {
      const a = check.args(args, 'createVpc', ['vni', 'cidr', 'routers', 'directPath']);
      const vni = check.vni(a.vni);
      const cidr = check.cidr(a.cidr);
      // A smaller VPC could never hold a network.
      const c = parseCidr(cidr, 'cidr');
      if (c.len > NETWORK_MAX_PREFIX) throw invalid(`cidr: ${cidr} is too small for any network (at most /${NETWORK_MAX_PREFIX})`);
      const reserved = notUnicastOverlap(c);
      if (reserved) throw invalid(`cidr: ${reserved}`);
      // A host endpoint routes the VPC's CIDR in its host's namespace: over the host's own underlay address it would cut the host off.
      const host = Object.values(this.droplets).find((h) => cidrContains(c, parseIpv4(h.ip, 'ip')));
      if (host) throw invalid(`cidr: ${cidr} holds ${host.id}'s underlay address ${host.ip}; a VPC's addresses must not be the hosts'`);
      const routers = this.hostList(a.routers ?? [], 'routers');
      if (a.directPath !== undefined && typeof a.directPath !== 'boolean') throw invalid('directPath: expected true or false');
      if (m.vpcs.has(vni)) throw alreadyExists(`vni: VPC ${vni} already exists`);
      m.vpcs.set(vni, { vni, cidr, routers, directPath: a.directPath ?? true });
    });
  }

  async deleteVpc(args: { vni: number }): Promise<void> {
    return this.change((m) => {
      const vni = check.vni(check.args(args, 'deleteVpc').vni);
      this.vpc(vni);
      for (const ep of m.endpointsOf(vni)) m.endpoints.delete(endpointRecordKey(ep));
      for (const net of m.networksOf(vni)) m.networks.delete(Model.netKey(vni, net.netId));
      for (const [k, g] of m.securityGroups) if (g.vni === vni) m.securityGroups.delete(k);
      m.vpcs.delete(vni);
    });
  }

  async addRouter(args: { vni: number; router: string }): Promise<void> {
    return this.change(() => {
      const a = check.args(args, 'addRouter');
      const vpc = this.vpc(check.vni(a.vni));
      const router = this.hostArg(a.router, 'router');
      if (vpc.routers.includes(router)) throw alreadyExists(`router: '${router}' is already a router of VPC ${vpc.vni}`);
      if (vpc.routers.length >= MAX_MEMBERS) throw invalid(`router: VPC ${vpc.vni} has ${MAX_MEMBERS} routers already`);
      vpc.routers.push(router);
    });
  }

  async removeRouter(args: { vni: number; router: string }): Promise<void> {
    return this.change(() => {
      const a = check.args(args, 'removeRouter');
      const vpc = this.vpc(check.vni(a.vni));
      const router = this.hostArg(a.router, 'router');
      if (!vpc.routers.includes(router)) throw notFound(`router: '${router}' is not a router of VPC ${vpc.vni}`);
      vpc.routers = vpc.routers.filter((r) => r !== router);
    });
  }

  // --- networks --------------------------------------------------------------
  async createNetwork(args: { vni: number; netId: number; cidr: string; switches: string[] }): Promise<void> {
    return this.change((m) => {
      const a = check.args(args, 'createNetwork', ['vni', 'netId', 'cidr', 'switches']);
      const vpc = this.vpc(check.vni(a.vni));
      const netId = check.u32(a.netId, 'netId');
      const cidr = check.cidr(a.cidr);
      const switches = this.hostList(a.switches, 'switches');
      if (switches.length === 0) throw invalid('switches: a network needs at least one switch');
      const c = parseCidr(cidr, 'cidr');
      if (!cidrWithin(c, parseCidr(vpc.cidr, 'cidr'))) throw invalid(`cidr: ${cidr} is not inside VPC ${vpc.vni}'s CIDR ${vpc.cidr}`);
      if (c.len > NETWORK_MAX_PREFIX) throw invalid(`cidr: ${cidr} is too small for a gateway and endpoints (at most /${NETWORK_MAX_PREFIX})`);
      if (m.networks.has(Model.netKey(vpc.vni, netId))) throw alreadyExists(`netId: VPC ${vpc.vni} already has network ${netId}`);
      const overlap = m.networksOf(vpc.vni).find((n) => cidrOverlaps(c, parseCidr(n.cidr, 'cidr')));
      if (overlap) throw invalid(`cidr: ${cidr} overlaps network ${overlap.netId} (${overlap.cidr}) of VPC ${vpc.vni}`);
      m.networks.set(Model.netKey(vpc.vni, netId), { vni: vpc.vni, netId, cidr, switches });
    });
  }

  async deleteNetwork(args: { vni: number; netId: number }): Promise<void> {
    return this.change((m) => {
      const a = check.args(args, 'deleteNetwork');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      // Its endpoints go with it: none may be a backend of a scaled endpoint that stays (of another network).
      const members = m.endpointsOf(net.vni, net.netId);
      const gone = new Set(members.map((ep) => ep.ip));
      const user = m.endpointsOf(net.vni).find((e) => e.netId !== net.netId && e.backends.some((b) => gone.has(b)));
      if (user) {
        throw new XvpcError('FAILED_PRECONDITION', `netId: network ${net.netId}'s endpoint ${user.backends.find((b) => gone.has(b))} `
          + `is a backend of scaled endpoint ${user.ip} (network ${user.netId}); update or delete that first`);
      }
      for (const ep of members) m.endpoints.delete(endpointRecordKey({ vni: net.vni, ip: ep.ip }));
      m.networks.delete(Model.netKey(net.vni, net.netId));
    });
  }

  async addSwitch(args: { vni: number; netId: number; switch: string }): Promise<void> {
    return this.change(() => {
      const a = check.args(args, 'addSwitch');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const sw = this.hostArg(a.switch, 'switch');
      if (net.switches.includes(sw)) throw alreadyExists(`switch: '${sw}' is already a switch of network ${net.netId}`);
      if (net.switches.length >= MAX_MEMBERS) throw invalid(`switch: network ${net.netId} has ${MAX_MEMBERS} switches already`);
      net.switches.push(sw);
    });
  }

  async removeSwitch(args: { vni: number; netId: number; switch: string }): Promise<void> {
    return this.change(() => {
      const a = check.args(args, 'removeSwitch');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const sw = this.hostArg(a.switch, 'switch');
      if (!net.switches.includes(sw)) throw notFound(`switch: '${sw}' is not a switch of network ${net.netId}`);
      if (net.switches.length === 1)
        throw new XvpcError('FAILED_PRECONDITION', `switch: '${sw}' is the last switch of network ${net.netId}; add another first`);
      net.switches = net.switches.filter((s) => s !== sw);
    });
  }

  // --- endpoints ---------------------------------------------------------------
  /**
   * A namespace holds an address for one endpoint only: a host's shared one
   * (endpointNamespace 'shared') and its own (host endpoints). A second
   * endpoint with the address there is refused here, before any host is told
   * (its transitd refuses it too). One lookup per VPC.
   */
  private refuseAddressClash(m: Model, vni: number, ip: string, host: string, type: EndpointType): void {
    const hostEndpoint = type === EndpointType.HOST;
    if (!hostEndpoint && this.droplets[host].endpointNamespace !== 'shared') return;
    for (const other of m.vpcs.keys()) {
      const ep = other === vni ? undefined : m.endpoints.get(endpointRecordKey({ vni: other, ip }));
      if (ep && ep.host === host && (ep.type === EndpointType.HOST) === hostEndpoint) {
        throw new XvpcError('FAILED_PRECONDITION', `ip: endpoint ${vni}/${ip}: endpoint ${other}/${ip} on ${host} has the same address, `
          + (hostEndpoint ? `and host endpoints live in the host's own namespace, where an address can be one endpoint's only`
            : `and ${host}'s endpoints share one namespace (endpointNamespace 'shared'), where an address can be one endpoint's only`));
      }
    }
  }

  private async createHosted(method: string, args: unknown, type: EndpointType): Promise<Endpoint<H>> {
    const ep = await this.change((m) => {
      const a = check.args(args, method, ['vni', 'netId', 'ip', 'host', 'securityGroups']);
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = this.endpointIp(net, a.ip);
      const host = this.hostArg(a.host, 'host');
      this.refuseAddressClash(m, net.vni, ip, host, type);
      const securityGroups = sg.groupNames(m, net.vni, a.securityGroups);
      const ep: EndpointModel = { vni: net.vni, netId: net.netId, ip, mac: endpointMac(net.vni, ip), type, host, backends: [], securityGroups };
      m.endpoints.set(endpointRecordKey({ vni: net.vni, ip }), ep);
      return ep;
    });
    return this.makeEndpoint(ep);
  }

  async createSimpleEndpoint(args: { vni: number; netId: number; ip: string; host: string; securityGroups?: string[] }): Promise<Endpoint<H>> {
    return this.createHosted('createSimpleEndpoint', args, EndpointType.SIMPLE);
  }

  /** An endpoint whose interface sits in the host's own namespace, so the host itself is in the VPC. */
  async createHostEndpoint(args: { vni: number; netId: number; ip: string; host: string; securityGroups?: string[] }): Promise<Endpoint<H>> {
    return this.createHosted('createHostEndpoint', args, EndpointType.HOST);
  }

  /** A scaled endpoint's backend list: endpoints of its VPC, none itself scaled, none twice. */
  private backendList(m: Model, vni: number, v: unknown): string[] {
    if (!Array.isArray(v) || v.length === 0) throw invalid('backends: a scaled endpoint needs at least one backend endpoint');
    if (v.length > MAX_BACKENDS) throw invalid(`backends: at most ${MAX_BACKENDS}, got ${v.length}`);
    const ips = v.map((b: unknown, i) => {
      const { ip: bip, vni: bvni } = (b ?? {}) as { ip?: unknown; vni?: unknown };
      // A handle of another VPC's endpoint must not pick this VPC's endpoint of the same address.
      if (bvni !== undefined && bvni !== vni) throw invalid(`backends[${i}]: an endpoint of VPC ${check.shown(bvni)}, not of VPC ${vni}`);
      const known = typeof bip === 'string' ? m.endpoints.get(endpointRecordKey({ vni, ip: bip })) : undefined;
      if (!known) throw notFound(`backends[${i}]: not an endpoint of VPC ${vni}`);
      if (known.type === EndpointType.SCALED) throw invalid(`backends[${i}]: ${known.ip} is itself a scaled endpoint`);
      return known.ip;
    });
    const dup = ips.find((ip, i) => ips.indexOf(ip) !== i);
    if (dup) throw invalid(`backends: ${dup} is listed twice`);
    return ips;
  }

  async createScaledEndpoint(args: { vni: number; netId: number; ip: string; backends: Endpoint[] }): Promise<Endpoint<H>> {
    const ep = await this.change((m) => {
      const a = check.args(args, 'createScaledEndpoint', ['vni', 'netId', 'ip', 'backends']);
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = this.endpointIp(net, a.ip);
      const backends = this.backendList(m, net.vni, a.backends);
      const ep: EndpointModel = { vni: net.vni, netId: net.netId, ip, mac: endpointMac(net.vni, ip), type: EndpointType.SCALED, backends };
      m.endpoints.set(endpointRecordKey({ vni: net.vni, ip }), ep);
      return ep;
    });
    return this.makeEndpoint(ep);
  }

  /**
   * Replaces a scaled endpoint's backends in place. Its switches pick by a
   * consistent-hash slot table: a removed backend's flows move, and the
   * flows of the slots an added backend takes.
   */
  async updateScaledEndpoint(args: { vni: number; netId: number; ip: string; backends: Endpoint[] }): Promise<void> {
    return this.change((m) => {
      const a = check.args(args, 'updateScaledEndpoint');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = check.ipv4(a.ip, 'ip');
      const ep = m.endpoints.get(endpointRecordKey({ vni: net.vni, ip }));
      if (!ep || ep.netId !== net.netId) throw notFound(`ip: network ${net.netId} of VPC ${net.vni} has no endpoint ${ip}`);
      if (ep.type !== EndpointType.SCALED) throw invalid(`ip: ${ip} is not a scaled endpoint`);
      ep.backends = this.backendList(m, net.vni, a.backends);
    });
  }

  async deleteSimpleEndpoint(args: { vni: number; netId: number; ip: string }): Promise<void> {
    return this.change((m) => {
      const a = check.args(args, 'deleteSimpleEndpoint');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = check.ipv4(a.ip, 'ip');
      const ep = m.endpoints.get(endpointRecordKey({ vni: net.vni, ip }));
      if (!ep || ep.netId !== net.netId) throw notFound(`ip: network ${net.netId} of VPC ${net.vni} has no endpoint ${ip}`);
      const usedBy = m.endpointsOf(net.vni).find((e) => e.backends.includes(ip));
      if (usedBy) throw new XvpcError('FAILED_PRECONDITION', `ip: ${ip} is a backend of scaled endpoint ${usedBy.ip}`);
      m.endpoints.delete(endpointRecordKey({ vni: net.vni, ip }));
    });
  }

  // --- security groups (security-groups.ts) ---------------------------------------
  /** Rules allow; with a group attached, each direction is default-deny; replies of allowed connections pass. */
  async createSecurityGroup(args: sg.SecurityGroupArgs): Promise<void> { return this.change((m) => sg.createSecurityGroup(m, args)); }
  /** Replaces both rule lists; applies to new connections at once. */
  async updateSecurityGroup(args: sg.SecurityGroupArgs): Promise<void> { return this.change((m) => sg.updateSecurityGroup(m, args)); }
  /** FAILED_PRECONDITION while attached. */
  async deleteSecurityGroup(args: sg.SecurityGroupRef): Promise<void> { return this.change((m) => sg.deleteSecurityGroup(m, args)); }
  async attachSecurityGroup(args: sg.SecurityAttachArgs): Promise<void> { return this.change((m) => sg.attachSecurityGroup(m, args)); }
  async detachSecurityGroup(args: sg.SecurityAttachArgs): Promise<void> { return this.change((m) => sg.detachSecurityGroup(m, args)); }
  async listSecurityGroups(args: { vni: number }): Promise<sg.SecurityGroupInfo[]> { return this.change((m) => sg.listSecurityGroups(m, args)); }

  /** Waits for the calls made before it, then closes the store and the gRPC channels; hosts keep their state. Later calls throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.loop);
    await this.queue;
    await this.ready.catch(() => undefined);
    for (const c of Object.values(this.clients)) c.close();
    await this.store?.close();
  }
}

// The Transit gRPC service: validates each request, then changes this host's
// maps and plumbing. Mutations run one at a time, so a batch's rollback never
// races another request.
import * as grpc from '@grpc/grpc-js';
import { XvpcError, alreadyExists, invalid, notFound } from '../errors.js';
import { mapFullError } from './map-full.js';
import { ATTACH_MODES, hookOf, type AttachMode, type HostDataplane } from '../dataplane/host.js';
import { checkEndpointBatch, parseEndpointRecordKey, type HostConfig, type KeyOf, type RecordKindName, type SecurityAttachRecord } from '../abi/index.js';
import type * as pb from '../gen/transit.js';
import { linkInfo } from '../util/link.js';
import { namedNetnsPath } from '../util/netns.js';
import { addon } from '../dataplane/addon.js';
import { tcQuery, xdpQuery } from '../dataplane/bpf.js';
import {
  createEndpointPlumbing, createNamespacedPlumbing, createSharedEndpointsPlumbing, deleteEndpointPlumbing, deleteEndpointsPlumbing,
  endpointMtu, endpointNames, plumbingExists, type EndpointNames, type Plumbing,
} from './plumbing.js';
import type { EndpointNamespaceMode } from './shared-plumbing.js';
import * as v from './validate.js';
import * as check from '../util/check.js';
import { applyGoalState } from './goal-state.js';
import type { GoalStateJournal } from './journal.js';
import { CallGate, DEFAULT_DUMP_ENDPOINTS_PER_MESSAGE, DEFAULT_LIMITS, Undecodable, endpointsPerMessage } from './limits.js';
import { XVPC_VERSION } from '../util/version.js';
import { applyEndpointBatch, endpointBatchValues } from './put-endpoints.js';
import { packedDumpMessages } from './packed-dump.js';
import { toEndpoint, toNetwork, toSecurityGroup, toVpc } from './convert.js';
import { HostRecords, TRANSIT_KINDS, type KindMessages, type TransitKind } from './records.js';
import { FENCE_HEADER, parseFence, type FenceToken, type HostFence } from './fence.js';

const GRPC_CODE: Record<XvpcError['code'], grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  INTERNAL: grpc.status.INTERNAL,
};

export interface HostIdentity extends HostConfig { name: string; iface: string; mtu: number }

/** XDP mode of the agent on endpoint veths: env XVPC_AGENT_MODE=native|generic (default native; main.ts validates it). */
export const AGENT_MODE: 'native' | 'generic' = process.env.XVPC_AGENT_MODE === 'generic' ? 'generic' : 'native';

const FAILED_CALLS_KEPT = 64;

export class TransitService {
  private queue: Promise<unknown> = Promise.resolve();
  /** Where loadTransit attached the transit program (Health asks the kernel whether it is still there). */
  private transit: { ifindex: number; mode: AttachMode } | undefined;
  /** Where goal states are journalled (main.ts sets it); without one a crash mid-batch is not rolled back. */
  journal: GoalStateJournal | undefined;
  /** The store epoch and highest leader term heard (serve.ts sets it, fence.ts); without one no call is fenced. */
  fence: HostFence | undefined;
  /** The largest message this transitd sends (serve.ts sets it from its limits): DumpPacked's messages stay within it. */
  maxMessageBytes = DEFAULT_LIMITS.maxMessageBytes;
  /** Calls answered with an error (GetFailedCalls). */
  private readonly failed = { total: 0, last: [] as pb.FailedCall[] };

  readonly records: HostRecords;

  /**
   * endpointNamespace: 'own' (a namespace per endpoint) or 'shared' (one per
   * droplet, shared-plumbing.ts; transitd --endpoint-namespace).
   */
  constructor(readonly dp: HostDataplane, readonly host: HostIdentity, readonly nsPrefix: string,
    readonly endpointNamespace: EndpointNamespaceMode = 'own') {
    this.records = new HostRecords(dp, host.ip);
  }

  /**
   * Runs mutations strictly one after another. A call whose client has gone
   * (cancelled, or past its deadline) while it waited in the queue is not
   * started: nobody would learn its outcome, and the client may already have
   * retried or moved on. Every change of the host runs here, so here a
   * change from a controller whose leadership has ended is refused (fence.ts):
   * at its turn, so a later leader's call that arrived while it waited counts.
   */
  private serial<T>(call: CallContext, fn: () => Promise<T> | T): Promise<T> {
    const run = () => {
      const gone = call.gone();
      if (gone) throw new CallAbandoned(gone);
      this.fence?.admit(call.fence, call.method);
      return fn();
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** How this host's agents attach: TC on the TC build, else XVPC_AGENT_MODE's XDP mode. */
  private get agentMode(): AttachMode { return this.dp.hook === 'tc' ? 'tc' : AGENT_MODE; }

  /**
   * Attaches this build's agent to every endpoint veth the pinned maps know,
   * replacing what an earlier transitd attached, so a restart (an upgrade)
   * runs its own programs everywhere. Veths that are gone are skipped; the
   * number re-attached is returned.
   */
  reattachAgents(): number {
    let n = 0;
    for (const ifindex of this.dp.listAgentMeta().keys()) {
      try {
        this.dp.attachAgent(ifindex, this.agentMode);
        n++;
      } catch (err: any) {
        if (err?.code !== 'ENODEV' && err?.code !== 'ENOENT') throw err;
      }
    }
    return n;
  }

  async loadTransit(iface: string, mode: AttachMode): Promise<void> {
    const { ifindex } = await linkInfo(iface);
    this.dp.attachTransit(ifindex, mode);
    this.transit = { ifindex, mode };
  }

  /**
   * Whether this data path's transit program is attached where loadTransit
   * put it, asked of the kernel: a filter or XDP program removed behind
   * transitd's back shows as not loaded, so a reconcile attaches it again.
   */
  private transitAttached(): boolean {
    const t = this.transit;
    if (!t) return false;
    try {
      const id = t.mode === 'tc' ? tcQuery(t.ifindex) : xdpQuery(t.ifindex, t.mode);
      return id !== 0 && id === this.dp.transitProgram.id;
    } catch {
      return false; // the interface is gone
    }
  }

  private write<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err: any) {
      if (err?.code === 'EEXIST') throw alreadyExists(`${what} already exists`);
      if (err?.code === 'ENOENT') throw notFound(`${what} does not exist`);
      throw mapFullError(err, what) ?? err;
    }
  }

  /** An endpoint's names on this host, in its endpoint namespace mode. */
  private names(k: { vni: number; ip: string }, hostEndpoint: boolean): EndpointNames {
    return endpointNames(this.nsPrefix, k.vni, k.ip, hostEndpoint, this.endpointNamespace);
  }

  /**
   * In a shared endpoint namespace an address can be one endpoint's only (its
   * source rule and table are keyed by it): an endpoint whose IP another VNI's
   * endpoint already has there, or has earlier in the same call, is refused
   * before anything changes.
   */
  private refuseAddressClash(todo: Plumbing[]): void {
    // Where an address can be one endpoint's only: the shared endpoint namespace, and the host's own (host endpoints).
    const place = (names: EndpointNames) => (names.shared ? 'shared' : names.netns ? undefined : 'host');
    const clashing = todo.filter((t) => place(t.names));
    if (clashing.length === 0) return;
    const wanted = new Set(clashing.map((t) => t.req.ip));
    const byIp = new Map<string, string>(); // place/ip -> the endpoint holding it
    for (const key of this.dp.hostedIfindexes().keys()) {
      const k = parseEndpointRecordKey(key);
      if (!wanted.has(k.ip)) continue;
      const host = this.names(k, true);
      if (linkExists(host.peer)) byIp.set(`host/${k.ip}`, key);
      const inShared = this.names(k, false);
      if (inShared.shared && linkExists(inShared.peer, namedNetnsPath(inShared.netns))) byIp.set(`shared/${k.ip}`, key);
    }
    for (const { req, names } of clashing) {
      const where = `${place(names)}/${req.ip}`;
      const other = byIp.get(where);
      const self = `${req.vni}/${req.ip}`;
      if (other !== undefined && other !== self) {
        throw new XvpcError('FAILED_PRECONDITION', `endpoint ${self}: endpoint ${other} on ${this.host.name} has the same address, and `
          + (names.shared ? 'its endpoints share one namespace (--endpoint-namespace shared)' : 'host endpoints live in the host\'s own namespace')
          + ', where an address can be one endpoint\'s only');
      }
      byIp.set(where, self);
    }
  }

  /**
   * The endpoints attached here: an agent_meta entry whose ifindex is still
   * the endpoint's veth. What the controller's reconcile compares (an entry
   * without its endpoint record is attached all the same, and goes with a
   * detach; one whose veth is gone is not, and is plumbed anew by an attach).
   */
  private liveAttachments(): pb.EndpointKey[] {
    const out: pb.EndpointKey[] = [];
    for (const [key, ifindex] of this.dp.hostedIfindexes()) {
      const k = parseEndpointRecordKey(key);
      if (this.vethAlive(k, ifindex)) out.push({ vni: k.vni, ip: k.ip });
    }
    return out;
  }

  /** Whether `ifindex` is (vni, ip)'s veth here, as a simple or a host endpoint. */
  private vethAlive(k: { vni: number; ip: string }, ifindex: number): boolean {
    for (const hostEndpoint of [false, true]) {
      try {
        if (addon.ifIndex(this.names(k, hostEndpoint).veth) === ifindex) return true;
      } catch { /* no such link */ }
    }
    return false;
  }

  /**
   * Plumbs and attaches the endpoints not attached yet (those that are are
   * answered as they are): all namespaced ones together (plumbing.ts), then
   * each veth's agent. All or nothing: a failure removes what this call made.
   */
  private async attach(reqs: v.AttachRequest[]): Promise<pb.AttachEndpointReply[]> {
    const xdp = this.dp.hook === 'xdp';
    const replies: pb.AttachEndpointReply[] = [];
    const todo: (Plumbing & { at: number })[] = [];
    reqs.forEach((req, at) => {
      const names = this.names(req, req.hostEndpoint);
      let existing = this.records.hostedIfindex(req);
      if (existing >= 0 && !this.vethAlive(req, existing)) {
        // Its veth is gone (deleted behind transitd's back): the agent's entry is stale; plumbed anew below.
        this.dp.deleteAgentMeta(existing);
        try { this.dp.removeInterface(existing); } catch { /* gone with its link */ }
        existing = -1;
      }
      replies[at] = { netns: names.netns, veth: names.veth, ifindex: existing, sharedNamespace: names.shared };
      if (existing < 0) todo.push({ at, names, req, mtu: req.mtu || endpointMtu(this.host.mtu) });
    });
    this.refuseAddressClash(todo);
    // Plumbing without its agent: left by a transitd whose pins were lost
    // (a reboot of its maps): made anew, as the controller's reconcile asks.
    const stale = todo.map((t) => t.names).filter((names) => plumbingExists(names, linkExists));
    await deleteEndpointsPlumbing(stale);
    const opts = { txChecksum: !xdp };
    const own = todo.filter((t) => t.names.netns && !t.names.shared);
    const shared = todo.filter((t) => t.names.shared);
    await createNamespacedPlumbing(own, opts);
    const made = own.map((t) => t.names);
    const agents: number[] = [];
    try {
      await createSharedEndpointsPlumbing(shared, opts);
      made.push(...shared.map((t) => t.names));
      for (const t of todo.filter((t) => !t.names.netns)) {
        await createEndpointPlumbing(t.names, t.req, t.mtu, opts);
        made.push(t.names);
      }
      for (const { at, names, req } of todo) {
        const ifindex = addon.ifIndex(names.veth);
        agents.push(ifindex);
        const netns = names.netns ? namedNetnsPath(names.netns) : undefined;
        if (xdp) this.dp.attachPass(addon.ifIndex(names.peer, netns), netns);
        this.dp.putAgentMeta(ifindex, { vni: req.vni, ip: req.ip, mac: req.mac, netId: req.netId });
        this.dp.attachAgent(ifindex, this.agentMode);
        const record = this.records.get('endpoints', req);
        if (record) this.records.put('endpoints', record, 'update');
        replies[at].ifindex = ifindex;
      }
    } catch (err) {
      for (const ifindex of agents) {
        this.dp.deleteAgentMeta(ifindex);
        this.dp.removeInterface(ifindex);
      }
      await deleteEndpointsPlumbing(made);
      throw err;
    }
    return replies;
  }

  /** One security record written or deleted: judged as a change of one (HostRecords.checkSecurityChange). */
  private checkSecurityChange(kind: RecordKindName, r: unknown, op: 'put' | 'delete'): void {
    const none = { groups: [], attachments: [], deleteGroups: [], deleteAttachments: [], attachmentsField: '' };
    if (kind === 'sg_attach' && op === 'put') this.records.checkSecurityChange({ ...none, attachments: [r as SecurityAttachRecord] });
    if (kind === 'sg_groups' && op === 'delete') this.records.checkSecurityChange({ ...none, deleteGroups: [(r as { id: number }).id] });
  }

  /** Create<Kind>, Update<Kind>, Get<Kind>, Delete<Kind> for every kind of records.ts, alike. */
  private recordHandlers(): Record<string, Handler> {
    const out: Record<string, Handler> = {};
    const add = <N extends RecordKindName>(kind: N) => {
      const t: TransitKind<N> = TRANSIT_KINDS[kind];
      const exists = (k: KeyOf<N>) => this.records.get(kind, k) !== null;
      const put = (mode: 'create' | 'update') => (m: KindMessages[N][0], call: CallContext) => this.serial(call, () => {
        const r = t.record(m);
        if (mode === 'create' && exists(r)) throw alreadyExists(`${t.describe(r)} already exists`);
        if (mode === 'update' && !exists(r)) throw notFound(`${t.describe(r)} does not exist`);
        this.checkSecurityChange(kind, r, 'put');
        this.write(t.describe(r), () => this.records.put(kind, r, mode));
        return {};
      });
      out[`create${t.method}`] = put('create');
      out[`update${t.method}`] = put('update');
      out[`get${t.method}`] = async (m: KindMessages[N][1]) => {
        const k = t.key(m);
        const r = this.records.get(kind, k);
        if (!r) throw notFound(`${t.describe(k)} does not exist`);
        return t.toMessage(r);
      };
      out[`delete${t.method}`] = (m: KindMessages[N][1], call: CallContext) => this.serial(call, () => {
        const k = t.key(m);
        if (!exists(k)) throw notFound(`${t.describe(k)} does not exist`);
        this.checkSecurityChange(kind, k, 'delete');
        this.records.delete(kind, k);
        return {};
      });
    };
    (Object.keys(TRANSIT_KINDS) as RecordKindName[]).forEach(add);
    return out;
  }

  /** Every record the maps hold as messages; endpoints only if asked (DumpPacked sends them packed). */
  private dumpRecords(endpoints: boolean): pb.GoalState {
    return {
      substrate: this.records.list('substrate'),
      vpcs: this.records.list('vpcs').map(toVpc),
      networks: this.records.list('networks').map(toNetwork),
      endpoints: endpoints ? this.records.list('endpoints').map(toEndpoint) : [],
      securityGroups: this.records.list('sg_groups').map(toSecurityGroup),
      securityAttachments: this.records.list('sg_attach'),
      deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
      deleteSecurityGroups: [], deleteSecurityAttachments: [],
    };
  }

  /** The grpc-js implementation object; `gate` bounds the calls served at once. */
  handlers(gate = new CallGate(DEFAULT_LIMITS.maxCallsInFlight), observe?: RpcObserver): grpc.UntypedServiceImplementation {
    const heard = (f: FenceToken) => this.fence?.heard(f);
    const h = {
      health: async (): Promise<pb.HealthReply> => ({
        host: this.host.name, ip: this.host.ip, mac: this.host.mac, pid: process.pid, transitLoaded: this.transitAttached(),
        version: XVPC_VERSION, hook: this.dp.hook,
      }),
      getMapUsage: async (): Promise<pb.MapUsageReply> => ({ maps: this.dp.mapUsage() }),
      loadTransit: (m: pb.LoadTransitRequest, call: CallContext) => this.serial(call, async () => {
        const mode = (m.mode === '' ? (this.dp.hook === 'tc' ? 'tc' : 'native') : m.mode) as AttachMode;
        if (!ATTACH_MODES.includes(mode)) throw invalid(`mode: '${m.mode}' is not 'native', 'generic' or 'tc'`);
        check.interfaceName(m.interface, 'interface');
        if (hookOf(mode) !== this.dp.hook) {
          throw new XvpcError('FAILED_PRECONDITION', `mode: '${mode}' needs the ${hookOf(mode)} data path; transitd on ${this.host.name} runs the ${this.dp.hook} one (its --mode)`);
        }
        await this.loadTransit(m.interface, mode).catch((err) => {
          throw err instanceof XvpcError ? err : new XvpcError('FAILED_PRECONDITION', `interface: ${m.interface}: ${err.message}`);
        });
        return {};
      }),
      unloadTransit: (m: pb.UnloadTransitRequest, call: CallContext) => this.serial(call, async () => {
        check.interfaceName(m.interface, 'interface');
        const { ifindex } = await linkInfo(m.interface).catch(() => { throw notFound(`interface: ${m.interface} does not exist`); });
        this.dp.detach(ifindex); // in this data path's default mode
        if (this.transit?.ifindex === ifindex) this.transit = undefined;
        return {};
      }),
      getStats: async (): Promise<pb.StatsReply> => ({ counters: this.dp.stats() }),
      getFailedCalls: async (): Promise<pb.FailedCalls> => ({ total: this.failed.total, last: [...this.failed.last] }),

      attachEndpoint: (m: pb.AttachEndpointRequest, call: CallContext) => this.serial(call, async (): Promise<pb.AttachEndpointReply> =>
        (await this.attach([v.attachRequest(m)]))[0]),
      attachEndpoints: (m: pb.AttachEndpointsRequest, call: CallContext) => this.serial(call, async (): Promise<pb.AttachEndpointsReply> =>
        ({ endpoints: await this.attach(v.attachRequests(m)) })),
      detachEndpoint: (m: pb.EndpointKey, call: CallContext) => this.serial(call, async () => {
        const key = v.endpointKey(m);
        const ifindex = this.records.hostedIfindex(key);
        if (ifindex < 0) throw notFound(`endpoint ${key.vni}/${key.ip} is not attached on ${this.host.name}`);
        this.dp.deleteAgentMeta(ifindex);
        this.dp.removeInterface(ifindex);
        const record = this.dp.get('endpoints', key);
        if (record) this.dp.put('endpoints', { ...record, hostedIfindex: -1 }, 'update');
        // A host endpoint's device is vh<tag> here: named as one, so that in a shared endpoint
        // namespace the source rule of another VPC's endpoint with this address stays.
        const hostEndpoint = linkExists(this.names(key, true).peer);
        await deleteEndpointPlumbing(this.names(key, hostEndpoint));
        return {};
      }),

      ...this.recordHandlers(),

      putEndpoints: async (m: pb.EndpointBatch, call: CallContext) => {
        // Views of the received message (batch-wire.ts), the values expanded from their compact form into a
        // buffer of their own: applyEndpointBatch writes hosted_ifindex into them.
        const keys = Buffer.from(m.keys.buffer, m.keys.byteOffset, m.keys.byteLength);
        const values = endpointBatchValues(keys, m, this.maxMessageBytes);
        // Checked and planned on arrival (a bad batch is refused before it waits; the index probes overlap
        // the kernel's write of the batch before), applied in turn: plans are made in queue order.
        const count = checkEndpointBatch(keys, values);
        const plan = count > 0 ? this.dp.planEndpoints(keys, count) : undefined;
        await this.serial(call, () => applyEndpointBatch(this.dp, this.host.ip, keys, values, count, plan));
        return {};
      },
      flushHostCache: (m: pb.HostCacheFlush, call: CallContext) => this.serial(call, () => {
        const keys = (m.endpoints ?? []).map((k, i) => ({ vni: check.vni(k.vni), ip: check.ipv4(k.ip, `endpoints[${i}].ip`) }));
        const vnis = (m.vnis ?? []).map((n) => check.vni(n));
        for (const k of keys) this.dp.forgetHost(k.vni, k.ip);
        if (vnis.length) this.dp.forgetHostsOf(new Set(vnis));
        return {};
      }),
      applyGoalState: (m: pb.GoalState, call: CallContext) => this.serial(call, () => { applyGoalState(this.records, m, this.journal); return {}; }),
      dump: async (): Promise<pb.GoalState> => this.dumpRecords(true),
    };
    const streams = {
      // Endpoints as the map holds them: no record decoded, no message per record.
      dumpPacked: async (m: pb.DumpPackedRequest): Promise<pb.PackedDump[]> =>
        packedDumpMessages(this.dumpRecords(false), this.dp.endpointsPacked(), this.dumpChunk(m.endpointsPerMessage), this.liveAttachments()),
    };
    const onFail = (call: pb.FailedCall) => {
      this.failed.total++;
      this.failed.last.push(call);
      if (this.failed.last.length > FAILED_CALLS_KEPT) this.failed.last.shift();
    };
    return Object.fromEntries([
      ...Object.entries(h).map(([name, fn]) => [name, unary(name, fn as Handler, { gate, onFail, observe, heard })]),
      ...Object.entries(streams).map(([name, fn]) => [name, serverStream(name, fn as Handler, { gate, onFail, observe, heard })]),
    ]);
  }

  /** DumpPacked's endpoints per message: as asked (0: the default), within what this transitd may send. */
  private dumpChunk(asked: number): number {
    const most = endpointsPerMessage(this.maxMessageBytes);
    if (asked > most) throw invalid(`endpointsPerMessage: ${asked} records do not fit one message of at most ${this.maxMessageBytes} bytes (at most ${most})`);
    return Math.min(asked || DEFAULT_DUMP_ENDPOINTS_PER_MESSAGE, most);
  }
}

/** Told of every answered call: its method, status code name and duration. */
export type RpcObserver = (method: string, code: string, seconds: number) => void;

/** What a handler may ask of its call. */
export interface CallContext {
  /** the method's name, as errors say it */
  method: string;
  /** why the client no longer waits for an answer ('cancelled', 'past its deadline'), or undefined */
  gone(): string | undefined;
  /** the leadership its controller sent (fence.ts), if any */
  fence?: FenceToken;
}

/** A queued call whose client left before it started; it changed nothing. */
class CallAbandoned extends Error {
  constructor(why: string) { super(`not started: the client's call was ${why} while it waited for earlier calls`); }
}

type Handler = (m: any, call: CallContext) => Promise<any> | any; // grpc-js hands in decoded messages

function callContext(method: string, call: grpc.ServerUnaryCall<any, any> | grpc.ServerWritableStream<any, any>, fence: FenceToken | undefined): CallContext {
  return {
    method,
    fence,
    gone: () => {
      if (call.cancelled) return 'cancelled';
      const deadline = call.getDeadline();
      const ms = deadline instanceof Date ? deadline.getTime() : deadline;
      return Number.isFinite(ms) && Date.now() >= ms ? 'past its deadline' : undefined;
    },
  };
}

/** What every call is served with: the gate bounding calls at once, who hears failures and durations, and who hears leaderships. */
interface Serving {
  gate: CallGate;
  onFail: (c: pb.FailedCall) => void;
  observe: RpcObserver | undefined;
  heard: (f: FenceToken) => void;
}

/** The leadership in a call's metadata (fence.ts), if any; INVALID_ARGUMENT when it is not one. */
function fenceOf(call: grpc.ServerUnaryCall<any, any> | grpc.ServerWritableStream<any, any>): FenceToken | undefined {
  const values = call.metadata.get(FENCE_HEADER);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw invalid(`${FENCE_HEADER}: ${values.length} values, at most one`);
  return parseFence(String(values[0]));
}

/**
 * Serves one call of `fn` and hands its outcome to `done`, mapping errors to
 * status codes. A request that could not be decoded, or whose fence is not
 * one, is INVALID_ARGUMENT; beyond the gate's limit a call is
 * RESOURCE_EXHAUSTED; none reaches the handler. A valid fence is heard on
 * arrival (a later leader's raises the host's). `done` returns once the
 * answer is sent: the call holds its place in the gate until then.
 */
function serveCall(name: string, fn: Handler, { gate, onFail, observe, heard }: Serving,
  call: grpc.ServerUnaryCall<any, any> | grpc.ServerWritableStream<any, any>,
  done: (err: grpc.ServiceError | null, reply?: any) => Promise<void> | void): void {
  const start = process.hrtime.bigint();
  const finish = (err: grpc.ServiceError | null, reply?: any) => {
    observe?.(name, grpc.status[err?.code ?? grpc.status.OK], Number(process.hrtime.bigint() - start) / 1e9);
    return done(err, reply);
  };
  const refuse = (code: grpc.status, message: string) => finish({ code, details: message, name: 'Error', message } as grpc.ServiceError);
  if (call.request instanceof Undecodable) {
    void refuse(grpc.status.INVALID_ARGUMENT, `request: not a valid ${name} message (${call.request.reason})`);
    return;
  }
  let fence: FenceToken | undefined;
  try {
    fence = fenceOf(call);
  } catch (err) {
    void refuse(grpc.status.INVALID_ARGUMENT, (err as Error).message);
    return;
  }
  if (!gate.enter()) {
    void refuse(grpc.status.RESOURCE_EXHAUSTED, `transitd is serving its limit of calls at once; retry later`);
    return;
  }
  Promise.resolve()
    .then(() => {
      if (fence !== undefined) heard(fence);
      return fn(call.request, callContext(name, call, fence));
    })
    .then((reply) => finish(null, reply ?? {}), (err: unknown) => {
      const code = err instanceof XvpcError ? GRPC_CODE[err.code] : err instanceof CallAbandoned ? grpc.status.CANCELLED : grpc.status.INTERNAL;
      const message = err instanceof Error ? err.message : String(err);
      if (code === grpc.status.INTERNAL) console.error(`transitd: ${name}: ${message}`);
      onFail({ method: name, code: grpc.status[code], message });
      return refuse(code, message);
    })
    .catch((err: unknown) => console.error(`transitd: ${name}: answering failed: ${(err as Error).message}`))
    .finally(() => gate.leave());
}

/** Adapts an async handler to a grpc-js unary call (serveCall). */
function unary(name: string, fn: Handler, serving: Serving): grpc.handleUnaryCall<any, any> {
  return (call, callback) => serveCall(name, fn, serving, call, (err, reply) => callback(err, reply));
}

/**
 * Adapts an async handler that returns a list of messages to a grpc-js
 * server stream (serveCall): written in order, each after the one before has
 * drained, then the status. A client that leaves ends it.
 */
function serverStream(name: string, fn: Handler, serving: Serving): grpc.handleServerStreamingCall<any, any> {
  return (call) => serveCall(name, fn, serving, call, async (err, replies?: unknown[]) => {
    if (err) {
      call.emit('error', err);
      return;
    }
    for (const reply of replies ?? []) {
      if (call.cancelled) return;
      if (!call.write(reply)) await new Promise((resolve) => { call.once('drain', resolve); call.once('close', resolve); });
    }
    call.end();
  });
}

/** Whether this namespace (or the one at netnsPath) has a link of that name. */
function linkExists(name: string, netnsPath?: string): boolean {
  try {
    addon.ifIndex(name, netnsPath);
    return true;
  } catch {
    return false;
  }
}

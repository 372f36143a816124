// The Transit gRPC service: validates each request, then changes this host's
// maps and plumbing. Mutations run one at a time, so a batch's rollback never
// races another request.
import * as grpc from '@grpc/grpc-js';
import { XvpcError, alreadyExists, invalid, notFound } from '../errors.js';
import { ATTACH_MODES, hookOf, type AttachMode, type HostDataplane, type WriteMode } from '../dataplane/host.js';
import type { EndpointRecord, HostConfig } from '../dataplane/records.js';
import type * as pb from '../gen/transit.js';
import { linkInfo } from '../util/link.js';
import { addon } from '../dataplane/addon.js';
import { createEndpointPlumbing, deleteEndpointPlumbing, endpointMtu, endpointNames } from './plumbing.js';
import * as v from './validate.js';
import { applyGoalState } from './goal-state.js';
import { putEndpointBatch } from './endpoint-batch.js';
import { toEndpoint, toNetwork, toVpc } from './convert.js';

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
  private transitLoaded = false;
  /** Calls answered with an error (GetFailedCalls). */
  private readonly failed = { total: 0, last: [] as pb.FailedCall[] };

  constructor(readonly dp: HostDataplane, readonly host: HostIdentity, readonly nsPrefix: string) {}

  /** Runs mutations strictly one after another. */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(fn, fn);
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
    this.transitLoaded = true;
  }

  /** ifindex of the veth serving (vni, ip) on this host, or -1. */
  private hostedIfindex(vni: number, ip: string): number {
    return this.dp.hostedIfindexes().get(`${vni}/${ip}`) ?? -1;
  }

  /** An endpoint record as this host stores it: hosted here only if its veth is here. */
  private local(r: EndpointRecord): EndpointRecord {
    return { ...r, hostedIfindex: r.hostIp === this.host.ip ? this.hostedIfindex(r.vni, r.ip) : -1 };
  }

  putEndpoint(r: EndpointRecord, mode: WriteMode): void {
    this.dp.putEndpoint(this.local(r), mode);
  }

  private write<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err: any) {
      if (err?.code === 'EEXIST') throw alreadyExists(`${what} already exists`);
      if (err?.code === 'ENOENT') throw notFound(`${what} does not exist`);
      throw err;
    }
  }

  /** The grpc-js implementation object. */
  handlers(): grpc.UntypedServiceImplementation {
    const h = {
      health: async (): Promise<pb.HealthReply> => ({
        host: this.host.name, ip: this.host.ip, mac: this.host.mac, pid: process.pid, transitLoaded: this.transitLoaded,
      }),
      loadTransit: (m: pb.LoadTransitRequest) => this.serial(async () => {
        const mode = (m.mode === '' ? (this.dp.hook === 'tc' ? 'tc' : 'native') : m.mode) as AttachMode;
        if (!ATTACH_MODES.includes(mode)) throw invalid(`mode: '${m.mode}' is not 'native', 'generic' or 'tc'`);
        if (!/^[\w.-]{1,15}$/.test(m.interface)) throw invalid(`interface: '${m.interface}' is not an interface name`);
        if (hookOf(mode) !== this.dp.hook) {
          throw new XvpcError('FAILED_PRECONDITION', `mode: '${mode}' needs the ${hookOf(mode)} data path; transitd on ${this.host.name} runs the ${this.dp.hook} one (its --mode)`);
        }
        await this.loadTransit(m.interface, mode).catch((err) => {
          throw err instanceof XvpcError ? err : new XvpcError('FAILED_PRECONDITION', `interface: ${m.interface}: ${err.message}`);
        });
        return {};
      }),
      unloadTransit: (m: pb.UnloadTransitRequest) => this.serial(async () => {
        if (!/^[\w.-]{1,15}$/.test(m.interface)) throw invalid(`interface: '${m.interface}' is not an interface name`);
        const { ifindex } = await linkInfo(m.interface).catch(() => { throw notFound(`interface: ${m.interface} does not exist`); });
        this.dp.detach(ifindex); // in this data path's default mode
        this.transitLoaded = false;
        return {};
      }),
      getStats: async (): Promise<pb.StatsReply> => ({ counters: this.dp.stats() }),
      getFailedCalls: async (): Promise<pb.FailedCalls> => ({ total: this.failed.total, last: [...this.failed.last] }),

      attachEndpoint: (m: pb.AttachEndpointRequest) => this.serial(async (): Promise<pb.AttachEndpointReply> => {
        const req = v.attachRequest(m);
        const names = endpointNames(this.nsPrefix, req.vni, req.ip, req.hostEndpoint);
        const existing = this.hostedIfindex(req.vni, req.ip);
        if (existing >= 0) return { netns: names.netns, veth: names.veth, ifindex: existing };
        const xdp = this.dp.hook === 'xdp';
        await createEndpointPlumbing(names, req, req.mtu || endpointMtu(this.host.mtu), { txChecksum: !xdp });
        const ifindex = addon.ifIndex(names.veth);
        try {
          const netns = names.netns ? `/run/netns/${names.netns}` : undefined;
          if (xdp) this.dp.attachPass(addon.ifIndex(names.peer, netns), netns);
          this.dp.putAgentMeta(ifindex, { vni: req.vni, ip: req.ip, mac: req.mac, netId: req.netId });
          this.dp.attachAgent(ifindex, this.agentMode);
          const record = this.dp.getEndpoint(req.vni, req.ip);
          if (record) this.putEndpoint(record, 'update');
        } catch (err) {
          this.dp.deleteAgentMeta(ifindex);
          this.dp.removeInterface(ifindex);
          await deleteEndpointPlumbing(names);
          throw err;
        }
        return { netns: names.netns, veth: names.veth, ifindex };
      }),
      detachEndpoint: (m: pb.EndpointKey) => this.serial(async () => {
        const key = v.endpointKey(m);
        const ifindex = this.hostedIfindex(key.vni, key.ip);
        if (ifindex < 0) throw notFound(`endpoint ${key.vni}/${key.ip} is not attached on ${this.host.name}`);
        this.dp.deleteAgentMeta(ifindex);
        this.dp.removeInterface(ifindex);
        const record = this.dp.getEndpoint(key.vni, key.ip);
        if (record) this.dp.putEndpoint({ ...record, hostedIfindex: -1 }, 'update');
        await deleteEndpointPlumbing(endpointNames(this.nsPrefix, key.vni, key.ip, false));
        return {};
      }),

      createVpc: (m: pb.Vpc) => this.serial(() => {
        const r = v.vpcRecord(m);
        this.write(`vpc ${r.vni}`, () => this.dp.putVpc(r, 'create'));
        return {};
      }),
      updateVpc: (m: pb.Vpc) => this.serial(() => {
        const r = v.vpcRecord(m);
        this.write(`vpc ${r.vni}`, () => this.dp.putVpc(r, 'update'));
        return {};
      }),
      getVpc: async (m: pb.VpcKey) => {
        const r = this.dp.getVpc(v.vni(m.vni));
        if (!r) throw notFound(`vpc ${m.vni} does not exist`);
        return toVpc(r);
      },
      deleteVpc: (m: pb.VpcKey) => this.serial(() => {
        if (!this.dp.deleteVpc(v.vni(m.vni))) throw notFound(`vpc ${m.vni} does not exist`);
        return {};
      }),

      createNetwork: (m: pb.Network) => this.serial(() => {
        const r = v.networkRecord(m);
        if (this.dp.getNetwork(r.vni, r.cidr)) throw alreadyExists(`network ${r.vni}/${r.cidr} already exists`);
        this.dp.putNetwork(r);
        return {};
      }),
      updateNetwork: (m: pb.Network) => this.serial(() => {
        const r = v.networkRecord(m);
        if (!this.dp.getNetwork(r.vni, r.cidr)) throw notFound(`network ${r.vni}/${r.cidr} does not exist`);
        this.dp.putNetwork(r);
        return {};
      }),
      getNetwork: async (m: pb.NetworkKey) => {
        const key = v.networkKey(m);
        const r = this.dp.getNetwork(key.vni, key.cidr);
        if (!r) throw notFound(`network ${key.vni}/${key.cidr} does not exist`);
        return toNetwork(r);
      },
      deleteNetwork: (m: pb.NetworkKey) => this.serial(() => {
        const key = v.networkKey(m);
        if (!this.dp.getNetwork(key.vni, key.cidr)) throw notFound(`network ${key.vni}/${key.cidr} does not exist`);
        this.dp.deleteNetwork(key.vni, key.cidr);
        return {};
      }),

      createEndpoint: (m: pb.Endpoint) => this.serial(() => {
        const r = v.endpointRecord(m);
        this.write(`endpoint ${r.vni}/${r.ip}`, () => this.putEndpoint(r, 'create'));
        return {};
      }),
      updateEndpoint: (m: pb.Endpoint) => this.serial(() => {
        const r = v.endpointRecord(m);
        this.write(`endpoint ${r.vni}/${r.ip}`, () => this.putEndpoint(r, 'update'));
        return {};
      }),
      getEndpoint: async (m: pb.EndpointKey) => {
        const key = v.endpointKey(m);
        const r = this.dp.getEndpoint(key.vni, key.ip);
        if (!r) throw notFound(`endpoint ${key.vni}/${key.ip} does not exist`);
        return toEndpoint(r);
      },
      deleteEndpoint: (m: pb.EndpointKey) => this.serial(() => {
        const key = v.endpointKey(m);
        if (!this.dp.deleteEndpoint(key.vni, key.ip)) throw notFound(`endpoint ${key.vni}/${key.ip} does not exist`);
        return {};
      }),

      createSubstrate: (m: pb.Substrate) => this.serial(() => {
        const r = v.substrateRecord(m);
        this.write(`substrate ${r.ip}`, () => this.dp.putSubstrate(r, 'create'));
        return {};
      }),
      updateSubstrate: (m: pb.Substrate) => this.serial(() => {
        const r = v.substrateRecord(m);
        this.write(`substrate ${r.ip}`, () => this.dp.putSubstrate(r, 'update'));
        return {};
      }),
      getSubstrate: async (m: pb.SubstrateKey) => {
        const ip = v.ipv4(m.ip, 'ip');
        const r = this.dp.getSubstrate(ip);
        if (!r) throw notFound(`substrate ${ip} does not exist`);
        return r;
      },
      deleteSubstrate: (m: pb.SubstrateKey) => this.serial(() => {
        const ip = v.ipv4(m.ip, 'ip');
        if (!this.dp.deleteSubstrate(ip)) throw notFound(`substrate ${ip} does not exist`);
        return {};
      }),

      putEndpoints: (m: pb.EndpointBatch) => this.serial(async () => {
        const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength); // putEndpointBatch copies
        await putEndpointBatch(this.dp, this.host.ip, view(m.keys), view(m.values));
        return {};
      }),
      flushHostCache: (m: pb.HostCacheFlush) => this.serial(() => {
        const keys = (m.endpoints ?? []).map((k, i) => ({ vni: v.vni(k.vni), ip: v.ipv4(k.ip, `endpoints[${i}].ip`) }));
        const vnis = (m.vnis ?? []).map((n) => v.vni(n));
        for (const k of keys) this.dp.forgetHost(k.vni, k.ip);
        if (vnis.length) this.dp.forgetHostsOf(new Set(vnis));
        return {};
      }),
      applyGoalState: (m: pb.GoalState) => this.serial(() => { applyGoalState(this, m); return {}; }),
      dump: async (): Promise<pb.GoalState> => ({
        substrate: this.dp.listSubstrate(),
        vpcs: this.dp.listVpcs().map(toVpc),
        networks: this.dp.listNetworks().map(toNetwork),
        endpoints: this.dp.listEndpoints().map(toEndpoint),
        deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
      }),
    };
    const onFail = (call: pb.FailedCall) => {
      this.failed.total++;
      this.failed.last.push(call);
      if (this.failed.last.length > FAILED_CALLS_KEPT) this.failed.last.shift();
    };
    return Object.fromEntries(Object.entries(h).map(([name, fn]) => [name, unary(name, fn as (m: any) => Promise<any> | any, onFail)]));
  }
}

/** Adapts an async handler to grpc-js, mapping errors to status codes. */
function unary(name: string, fn: (m: any) => Promise<any> | any, onFail: (c: pb.FailedCall) => void): grpc.handleUnaryCall<any, any> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then((reply) => callback(null, reply ?? {}))
      .catch((err: unknown) => {
        const code = err instanceof XvpcError ? GRPC_CODE[err.code] : grpc.status.INTERNAL;
        const message = err instanceof Error ? err.message : String(err);
        if (code === grpc.status.INTERNAL) console.error(`transitd: ${name}: ${message}`);
        onFail({ method: name, code: err instanceof XvpcError ? err.code : 'INTERNAL', message });
        callback({ code, details: message, name: 'Error', message });
      });
  };
}


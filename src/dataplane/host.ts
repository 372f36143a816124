// HostDataplane: one host's loaded xvpc object (transit + agent programs) and
// typed access to its maps. Maps are pinned under pinRoot and reused on the
// next open, so a restarted daemon finds the state the kernel kept using.
import { existsSync, mkdirSync } from 'node:fs';
import { BPF_EXIST, BPF_NOEXIST, BpfObject, bpfObjectPath, pinMap, xdpDetach, type BpfMap } from './bpf.js';
import type { XdpMode } from './addon.js';
import {
  decodeAgentMeta, decodeEndpoint, decodeEndpointKey, decodeNetwork, decodeSubstrate, decodeVpc,
  encodeAgentMeta, encodeEndpoint, encodeHostConfig, encodeNetwork, encodeSubstrate, encodeVpc, endpointKey,
  networkKey, substrateKey, u32Key, vpcKey, SIZES,
  type AgentMeta, type EndpointRecord, type HostConfig, type NetworkRecord, type SubstrateRecord, type VpcRecord,
} from './records.js';
import { STAT_NAMES, type Stats } from './stats.js';
import { EndpointIndex } from './endpoint-index.js';
import { sumPerCpuU64 } from './bpf.js';

export interface Capacities {
  endpoints?: number; networks?: number; vpcs?: number; substrate?: number; agent_meta?: number; ep_host_cache?: number;
}

/** How a write treats an existing record. */
export type WriteMode = 'create' | 'update' | 'upsert';
const FLAGS: Record<WriteMode, number> = { create: BPF_NOEXIST, update: BPF_EXIST, upsert: 0 };

export class HostDataplane {
  /** Keys of the endpoints map, built on the first packed write (see endpoint-index.ts). */
  private index?: EndpointIndex;

  private constructor(
    private readonly obj: BpfObject,
    /** XDP_PASS program for veths that receive XDP frames (see native/bpf/pass.bpf.c) */
    private readonly pass: BpfObject,
    readonly pinRoot: string,
    private readonly m: Record<'vpcs' | 'networks' | 'endpoints' | 'substrate' | 'agent_meta' | 'host_cfg' |
      'interfaces' | 'ep_host_cache' | 'scaled_flows' | 'stats', BpfMap>,
  ) {}

  /** objectPath: another build of xvpc.bpf.c (the bench compares one without the capture hook). */
  static open(pinRoot: string, capacities: Capacities = {}, objectPath = bpfObjectPath('xvpc')): HostDataplane {
    mkdirSync(pinRoot, { recursive: true });
    const maxEntries = Object.fromEntries(Object.entries(capacities).filter(([, v]) => v !== undefined)) as Record<string, number>;
    // libbpf cannot reuse a pinned devmap by name (see the map's comment in
    // xvpc.bpf.c), so `interfaces` is pinned and reused here.
    const interfacesPin = `${pinRoot}/interfaces`;
    const reuse = existsSync(interfacesPin);
    const obj = BpfObject.load(objectPath, { pinRoot, maxEntries, reuseMaps: reuse ? { interfaces: interfacesPin } : {} });
    if (!reuse) pinMap(obj.map('interfaces'), interfacesPin);
    const names = ['vpcs', 'networks', 'endpoints', 'substrate', 'agent_meta', 'host_cfg', 'interfaces',
      'ep_host_cache', 'scaled_flows', 'stats'] as const;
    const maps = Object.fromEntries(names.map((n) => [n, obj.map(n)])) as HostDataplane['m'];
    return new HostDataplane(obj, BpfObject.load(bpfObjectPath('pass')), pinRoot, maps);
  }

  close(): void {
    this.obj.close();
    this.pass.close();
  }

  get transitProgram() { return this.obj.program('xdp_transit'); }
  get agentProgram() { return this.obj.program('xdp_agent'); }
  map(name: keyof HostDataplane['m']): BpfMap { return this.m[name]; }

  // --- programs on interfaces -------------------------------------------
  attachTransit(ifindex: number, mode: XdpMode = 'native'): void {
    this.addInterface(ifindex);
    this.transitProgram.attachXdp(ifindex, mode);
  }
  attachAgent(ifindex: number, mode: XdpMode = 'native'): void {
    this.addInterface(ifindex);
    this.agentProgram.attachXdp(ifindex, mode);
  }
  /** Lets a veth accept XDP frames its peer sends it (`netns`: the namespace it lives in). */
  attachPass(ifindex: number, netns?: string): void { this.pass.program('xdp_pass').attachXdp(ifindex, 'native', netns); }
  detach(ifindex: number, mode: XdpMode = 'native'): void { xdpDetach(ifindex, mode); }

  /** Makes ifindex a redirect target. */
  addInterface(ifindex: number): void {
    const v = Buffer.alloc(4);
    v.writeUInt32LE(ifindex);
    this.m.interfaces.update(u32Key(ifindex), v);
  }
  removeInterface(ifindex: number): void { this.m.interfaces.delete(u32Key(ifindex)); }

  // --- host identity -----------------------------------------------------
  setHostConfig(cfg: HostConfig): void { this.m.host_cfg.update(u32Key(0), encodeHostConfig(cfg)); }

  // --- records -------------------------------------------------------------
  putVpc(r: VpcRecord, mode: WriteMode = 'upsert'): void { this.m.vpcs.update(vpcKey(r.vni), encodeVpc(r), FLAGS[mode]); }
  getVpc(vni: number): VpcRecord | null {
    const v = this.m.vpcs.lookup(vpcKey(vni));
    return v ? decodeVpc(vpcKey(vni), v) : null;
  }
  deleteVpc(vni: number): boolean { return this.m.vpcs.delete(vpcKey(vni)); }
  listVpcs(): VpcRecord[] {
    return this.m.vpcs.keys().flatMap((k) => { const v = this.m.vpcs.lookup(k); return v ? [decodeVpc(k, v)] : []; });
  }

  putNetwork(r: NetworkRecord, mode: WriteMode = 'upsert'): void {
    this.m.networks.update(networkKey(r.vni, r.cidr), encodeNetwork(r), FLAGS[mode]);
  }
  /** Exact-prefix lookup (an LPM lookup with a full-length key would match the longest prefix instead). */
  getNetwork(vni: number, cidr: string): NetworkRecord | null {
    const v = this.m.networks.lookup(networkKey(vni, cidr));
    const r = v ? decodeNetwork(v) : null;
    return r && r.vni === vni && r.cidr === cidr ? r : null;
  }
  deleteNetwork(vni: number, cidr: string): boolean { return this.m.networks.delete(networkKey(vni, cidr)); }
  listNetworks(): NetworkRecord[] {
    return this.m.networks.keys().flatMap((k) => { const v = this.m.networks.lookup(k); return v ? [decodeNetwork(v)] : []; });
  }

  putEndpoint(r: EndpointRecord, mode: WriteMode = 'upsert'): void {
    const key = endpointKey(r.vni, r.ip);
    this.m.endpoints.update(key, encodeEndpoint(r), FLAGS[mode]);
    this.index?.add(key, 0);
  }

  /**
   * Upserts `count` packed records (struct endpoint_key[] / endpoint_value[])
   * with one batch write, done on a worker thread. All or nothing: if the kernel refuses part of the
   * batch (the map is full), rewritten records get their old values back and
   * new ones are removed, then the kernel's error is thrown.
   */
  async putEndpointsPacked(keys: Buffer, values: Buffer, count: number): Promise<void> {
    const map = this.m.endpoints;
    const index = (this.index ??= EndpointIndex.fromKeys(map.keys()));
    const rewritten: number[] = [];
    for (let i = 0; i < count; i++) if (index.has(keys, i * SIZES.endpoint_key)) rewritten.push(i);
    const pick = (list: number[], src: Buffer, size: number) => Buffer.concat(list.map((i) => src.subarray(i * size, (i + 1) * size)));
    const oldKeys = pick(rewritten, keys, SIZES.endpoint_key);
    const before = map.lookupMany(oldKeys, rewritten.length);
    try {
      // Off the JS thread: transitd receives the next batch meanwhile.
      await map.updateBatchAsync(keys, values, count);
    } catch (err) {
      // Best effort, then the kernel's error: delete what may be new, restore what was there.
      const isOld = new Set(rewritten);
      const fresh = Array.from({ length: count }, (_, i) => i).filter((i) => !isOld.has(i));
      try {
        if (fresh.length) map.deleteMany(pick(fresh, keys, SIZES.endpoint_key), fresh.length);
        const had = rewritten.map((_, j) => j).filter((j) => before.present[j]);
        if (had.length) map.updateBatch(pick(had, oldKeys, SIZES.endpoint_key), pick(had, before.values, SIZES.endpoint_value), had.length);
      } catch { /* the original error is the one to report */ }
      throw err;
    }
    for (let i = 0; i < count; i++) index.add(keys, i * SIZES.endpoint_key);
  }
  getEndpoint(vni: number, ip: string): EndpointRecord | null {
    const k = endpointKey(vni, ip);
    const v = this.m.endpoints.lookup(k);
    return v ? decodeEndpoint(k, v) : null;
  }
  deleteEndpoint(vni: number, ip: string): boolean {
    const key = endpointKey(vni, ip);
    this.m.ep_host_cache.delete(key);
    this.index?.delete(key, 0);
    return this.m.endpoints.delete(key);
  }
  listEndpointKeys(): { vni: number; ip: string }[] { return this.m.endpoints.keys().map(decodeEndpointKey); }
  listEndpoints(): EndpointRecord[] {
    return this.m.endpoints.keys().flatMap((k) => { const v = this.m.endpoints.lookup(k); return v ? [decodeEndpoint(k, v)] : []; });
  }

  putSubstrate(r: SubstrateRecord, mode: WriteMode = 'upsert'): void {
    this.m.substrate.update(substrateKey(r.ip), encodeSubstrate(r), FLAGS[mode]);
  }
  getSubstrate(ip: string): SubstrateRecord | null {
    const v = this.m.substrate.lookup(substrateKey(ip));
    return v ? decodeSubstrate(substrateKey(ip), v) : null;
  }
  deleteSubstrate(ip: string): boolean { return this.m.substrate.delete(substrateKey(ip)); }
  listSubstrate(): SubstrateRecord[] {
    return this.m.substrate.keys().flatMap((k) => { const v = this.m.substrate.lookup(k); return v ? [decodeSubstrate(k, v)] : []; });
  }

  putAgentMeta(ifindex: number, meta: AgentMeta): void { this.m.agent_meta.update(u32Key(ifindex), encodeAgentMeta(meta)); }
  deleteAgentMeta(ifindex: number): boolean { return this.m.agent_meta.delete(u32Key(ifindex)); }
  /** Every endpoint veth the agent serves: ifindex -> its endpoint. */
  listAgentMeta(): Map<number, AgentMeta> {
    const out = new Map<number, AgentMeta>();
    for (const k of this.m.agent_meta.keys()) {
      const v = this.m.agent_meta.lookup(k);
      if (v) out.set(k.readUInt32LE(0), decodeAgentMeta(v));
    }
    return out;
  }

  /** Endpoints whose veth is on this host: "vni/ip" -> host-side veth ifindex. */
  hostedIfindexes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [ifindex, meta] of this.listAgentMeta()) out.set(`${meta.vni}/${meta.ip}`, ifindex);
    return out;
  }

  // --- counters --------------------------------------------------------------
  stats(): Stats {
    const out = {} as Stats;
    STAT_NAMES.forEach((name, i) => {
      const v = this.m.stats.lookup(u32Key(i));
      out[name] = v ? Number(sumPerCpuU64(v)) : 0;
    });
    return out;
  }
}

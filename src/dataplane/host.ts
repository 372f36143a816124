// HostDataplane: one host's loaded xvpc object (transit + agent programs, the
// XDP or the TC build) and typed access to its maps. Maps are pinned under pinRoot and reused on the
// next open, so a restarted daemon finds the state the kernel kept using.
import type { CapacityName } from '../abi/limits.js';
import { existsSync, mkdirSync } from 'node:fs';
import { BPF_EXIST, BPF_F_NO_PREALLOC, BPF_NOEXIST, BpfObject, PinnedMap, bpfObjectPath, pinMap, tcDetach, xdpDetach, type BpfMap, type BpfProgram } from './bpf.js';
import { inCallerNetns, type XdpMode } from './addon.js';
import {
  decodeAgentMeta, decodeEndpoint, decodeEndpointKey, decodeHostCache, decodeU32Key, encodeAgentMeta, encodeHostConfig, encodeMembers, endpointKey, endpointRecordKey, u32Key,
  ENDPOINT_KEY, ENDPOINT_VALUE, EndpointType, RECORD_KINDS, STAT_DERIVED, STAT_NAMES, withDerivedStats,
  compileGroup, decodeCt, decodeSgCfg, decodeSgGroup, encodeSgCfg, sgCfgGen,
  type CompiledGroup, type ConntrackTimeouts, type CtEntry, type SecurityGroupRecord,
  type AgentMeta, type EndpointKey, type EndpointRecord, type HostConfig, type KeyOf, type RecordKind, type RecordKindName, type RecordOf, type Stats,
} from '../abi/index.js';
import { checkPrerequisites } from '../util/prereq.js';
import { EndpointIndex } from './endpoint-index.js';
import { writeBatchInParts } from './parallel-write.js';
import { sumPerCpuU64 } from './bpf.js';

/** The security-group maps (native/bpf/maps.h). */
const SG_MAPS = ['sg_groups', 'sg_attach', 'sg_cidrs', 'sg_ports', 'conntrack', 'sg_cfg', 'ct_count', 'ct_epoch', 'sg_flow_cache', 'sg_frags'] as const;
type SgMapName = (typeof SG_MAPS)[number];

/** Map -> max_entries at load (CAPACITY_NAMES); security groups: connections tracked (conntrack: LRU, 256k by default), groups, attachments, compiled tries. */
export type Capacities = Partial<Record<CapacityName, number>>;

/** Which build of the data path a host runs: XDP (xvpc.bpf.c) or TC (xvpc_tc.bpf.c). */
export type Hook = 'xdp' | 'tc';
/** How the programs hook in: native or generic XDP, or TC (clsact ingress). */
export type AttachMode = XdpMode | 'tc';
export const hookOf = (mode: AttachMode): Hook => (mode === 'tc' ? 'tc' : 'xdp');
export const ATTACH_MODES: readonly AttachMode[] = ['native', 'generic', 'tc'];

/** How a write treats an existing record. */
export type WriteMode = 'create' | 'update' | 'upsert';
const FLAGS: Record<WriteMode, number> = { create: BPF_NOEXIST, update: BPF_EXIST, upsert: 0 };

/**
 * map_flags of the endpoints map. By default BPF_F_NO_PREALLOC (as maps.h
 * declares it): a host pays kernel memory per record, which lets one machine
 * emulate many droplets. Preallocated, the kernel makes all max_entries
 * elements at creation (~150 MB at the 1M default) and an insert only takes
 * one from its free list: about half the insert's CPU for a million records
 * (bench ctlplane), the choice for a real host with one map per machine.
 * A pinned map keeps its flags (libbpf refuses to reuse a pin whose flags differ).
 */
function endpointsMapFlags(pinRoot: string, preallocate: boolean): number {
  return pinnedMapInfo(pinRoot, 'endpoints')?.flags ?? (preallocate ? 0 : BPF_F_NO_PREALLOC);
}

/** A map already pinned under pinRoot: its size and flags, which a load must keep (libbpf refuses to reuse a pin that differs). */
function pinnedMapInfo(pinRoot: string, name: string): { maxEntries: number; flags: number } | undefined {
  const pin = `${pinRoot}/${name}`;
  if (!existsSync(pin)) return undefined;
  const m = PinnedMap.open(pin);
  try { return m.info(); } finally { m.close(); }
}

/** A packed batch's records by what they do to the endpoints map (HostDataplane.planEndpoints). */
export interface EndpointBatchPlan {
  /** record indexes whose key the index did not hold */
  fresh: number[];
  /** record indexes whose key it held */
  rewritten: number[];
  /** the index's removal count when planned (EndpointIndex.removals) */
  removals: number;
}

/** Whether a host's endpoints map is preallocated (HostDataplane.open's `preallocate`), from its map_flags. */
export const endpointsPreallocated = (flags: number): boolean => (flags & BPF_F_NO_PREALLOC) === 0;

export class HostDataplane {
  /** Keys of the endpoints map, built on the first packed write (see endpoint-index.ts). */
  private index?: EndpointIndex;
  /** vni/ip <-> ifindex of the endpoint veths the agent serves (agent_meta), once read; see hostedIfindexes */
  private hosted?: { byKey: Map<string, number>; byIfindex: Map<number, string> };

  private constructor(
    private readonly obj: BpfObject,
    /** XDP_PASS program for veths that receive XDP frames (see native/bpf/pass.bpf.c); XDP build only */
    private readonly pass: BpfObject | undefined,
    readonly pinRoot: string,
    readonly hook: Hook,
    private readonly m: Record<'vpcs' | 'networks' | 'endpoints' | 'substrate' | 'agent_meta' | 'host_cfg' |
      'ep_host_cache' | 'scaled_flows' | 'scaled_backends' | 'stats' | SgMapName, BpfMap> & { interfaces?: BpfMap },
  ) {}

  /**
   * hook: the XDP build (xvpc.bpf.c, default) or the TC build (xvpc_tc.bpf.c)
   * of the data path; both use the same pinned maps. objectPath: another
   * build of the XDP object (the bench compares one without the capture hook).
   * preallocate: the endpoints map gets all its elements at creation (see
   * endpointsMapFlags); a map already pinned keeps the flags it was made with.
   */
  static open(pinRoot: string, capacities: Capacities = {}, opts: { hook?: Hook; objectPath?: string; preallocate?: boolean } = {}): HostDataplane {
    checkPrerequisites();
    const hook = opts.hook ?? 'xdp';
    mkdirSync(pinRoot, { recursive: true });
    // A map already pinned keeps the size it was made with: a restart with other capacities reuses it.
    const maxEntries = Object.fromEntries(Object.entries(capacities).filter(([, v]) => v !== undefined)
      .map(([name, v]) => [name, pinnedMapInfo(pinRoot, name)?.maxEntries ?? v])) as Record<string, number>;
    const mapFlags = { endpoints: endpointsMapFlags(pinRoot, opts.preallocate ?? false) };
    let obj: BpfObject;
    if (hook === 'tc') {
      obj = BpfObject.load(opts.objectPath ?? bpfObjectPath('xvpc_tc'), { pinRoot, maxEntries, mapFlags });
    } else {
      // libbpf cannot reuse a pinned devmap by name (see the map's comment in
      // hook_xdp.h), so `interfaces` is pinned and reused here.
      const interfacesPin = `${pinRoot}/interfaces`;
      const reuse = existsSync(interfacesPin);
      obj = BpfObject.load(opts.objectPath ?? bpfObjectPath('xvpc'), { pinRoot, maxEntries, mapFlags, reuseMaps: reuse ? { interfaces: interfacesPin } : {} });
      if (!reuse) pinMap(obj.map('interfaces'), interfacesPin);
    }
    const names = ['vpcs', 'networks', 'endpoints', 'substrate', 'agent_meta', 'host_cfg', 'ep_host_cache', 'scaled_flows', 'scaled_backends', 'stats', ...SG_MAPS] as const;
    const maps = Object.fromEntries(names.map((n) => [n, obj.map(n)])) as HostDataplane['m'];
    if (hook === 'xdp') maps.interfaces = obj.map('interfaces');
    const dp = new HostDataplane(obj, hook === 'xdp' ? BpfObject.load(bpfObjectPath('pass')) : undefined, pinRoot, hook, maps);
    dp.setConntrackTimeouts(dp.conntrackTimeouts()); // writes the conntrack's capacity, keeps the timeouts a pin holds
    return dp;
  }

  close(): void {
    this.obj.close();
    this.pass?.close();
  }

  get transitProgram() { return this.obj.program(this.hook === 'tc' ? 'tc_transit' : 'xdp_transit'); }
  get agentProgram() { return this.obj.program(this.hook === 'tc' ? 'tc_agent' : 'xdp_agent'); }
  map(name: Exclude<keyof HostDataplane['m'], 'interfaces'>): BpfMap { return this.m[name]; }

  // --- programs on interfaces -------------------------------------------
  /** mode: 'native' or 'generic' XDP for the XDP build, 'tc' for the TC build. */
  attachTransit(ifindex: number, mode: AttachMode = this.defaultMode): void {
    this.checkMode(mode);
    this.attach(this.transitProgram, ifindex, mode);
  }
  attachAgent(ifindex: number, mode: AttachMode = this.defaultMode): void {
    this.checkMode(mode);
    this.attach(this.agentProgram, ifindex, mode);
  }
  /** Lets a veth accept XDP frames its peer sends it (`netns`: the namespace it lives in). Not needed on TC. */
  attachPass(ifindex: number, netns?: string): void { this.pass?.program('xdp_pass').attachXdp(ifindex, 'native', netns); }
  detach(ifindex: number, mode: AttachMode = this.defaultMode): void {
    if (mode === 'tc') tcDetach(ifindex);
    else xdpDetach(ifindex, mode);
  }

  private get defaultMode(): AttachMode { return this.hook === 'tc' ? 'tc' : 'native'; }
  private checkMode(mode: AttachMode): void {
    if (hookOf(mode) !== this.hook) throw new Error(`mode '${mode}' needs the ${hookOf(mode)} build, and this data plane runs the ${this.hook} build`);
  }
  private attach(prog: BpfProgram, ifindex: number, mode: AttachMode): void {
    if (mode === 'tc') {
      prog.attachTc(ifindex);
    } else {
      this.addInterface(ifindex);
      prog.attachXdp(ifindex, mode);
    }
  }

  /** Makes ifindex a redirect target (XDP redirects through the devmap; TC needs nothing). */
  addInterface(ifindex: number): void {
    if (!this.m.interfaces) return;
    // devmap: ifindex -> ifindex. The kernel finds the device in the writing thread's namespace:
    // in a shared transitd host, the droplet's (src/dataplane/netns-context.ts).
    const devmap = this.m.interfaces;
    inCallerNetns(() => devmap.update(u32Key(ifindex), u32Key(ifindex)));
  }
  removeInterface(ifindex: number): void { this.m.interfaces?.delete(u32Key(ifindex)); }

  // --- host identity -----------------------------------------------------
  setHostConfig(cfg: HostConfig): void { this.m.host_cfg.update(u32Key(0), encodeHostConfig(cfg)); }

  // --- records (one code path for every kind: src/abi/record-kinds.ts) -------------
  /** Side effects of endpoint writes on what is kept beside the map. */
  private readonly onWrite: { [N in RecordKindName]?: { put?(key: Buffer, r: RecordOf<N>): void; delete?(key: Buffer): void } } = {
    endpoints: {
      put: (key, r) => { this.index?.add(key, 0); this.syncScaledBackends(key, r); },
      // A deleted endpoint must not live on in the direct path's cache nor in scaled_backends.
      delete: (key) => { this.m.ep_host_cache.delete(key); this.m.scaled_backends.delete(key); this.index?.delete(key, 0); },
    },
  };

  /** Kinds whose derived maps follow the record's old and new value (a group's compiled tries). */
  private readonly onReplace: { [N in RecordKindName]?: (key: Buffer, old: Buffer | null, r: RecordOf<N> | null) => void } = {
    sg_groups: (key, old, r) => this.syncGroupTries(key, old, r),
  };

  put<N extends RecordKindName>(kind: N, r: RecordOf<N>, mode: WriteMode = 'upsert'): void {
    const k: RecordKind<RecordOf<N>, KeyOf<N>> = RECORD_KINDS[kind];
    const key = k.mapKey(r);
    const value = k.encode(r);
    const replace = this.onReplace[kind] as ((key: Buffer, old: Buffer | null, r: RecordOf<N> | null) => void) | undefined;
    if (replace) {
      const old = this.m[kind].lookup(key);
      if (mode === 'create' && old) this.m[kind].update(key, value, FLAGS[mode]); // the kernel's EEXIST
      if (mode === 'update' && !old) this.m[kind].update(key, value, FLAGS[mode]); // the kernel's ENOENT
      replace(key, old, r);
    }
    this.m[kind].update(key, value, FLAGS[mode]);
    this.onWrite[kind]?.put?.(key, r);
  }
  /** The record with exactly this key, or null. */
  get<N extends RecordKindName>(kind: N, key: KeyOf<N>): RecordOf<N> | null {
    const k: RecordKind<RecordOf<N>, KeyOf<N>> = RECORD_KINDS[kind];
    const mapKey = k.mapKey(key);
    const v = this.m[kind].lookup(mapKey);
    const r = v ? k.decode(mapKey, v) : null;
    return r && (!k.isExact || k.isExact(r, key)) ? r : null;
  }
  /** false if there was no such record. */
  delete<N extends RecordKindName>(kind: N, key: KeyOf<N>): boolean {
    const mapKey = RECORD_KINDS[kind].mapKey(key);
    this.onWrite[kind]?.delete?.(mapKey);
    const replace = this.onReplace[kind];
    if (replace) replace(mapKey, this.m[kind].lookup(mapKey), null);
    return this.m[kind].delete(mapKey);
  }
  list<N extends RecordKindName>(kind: N): RecordOf<N>[] {
    const k: RecordKind<RecordOf<N>, KeyOf<N>> = RECORD_KINDS[kind];
    const map = this.m[kind];
    // Two addon calls for every key and value (a Dump of 100k endpoints made 200k calls and 100k key Buffers).
    const keys = map.keysPacked();
    const keySize = map.info().keySize;
    const count = keys.length / keySize;
    if (count === 0) return [];
    const { values, present } = map.lookupMany(keys, count);
    const size = values.length / count;
    const out: RecordOf<N>[] = [];
    for (let i = 0; i < count; i++) {
      if (present[i]) out.push(k.decode(keys.subarray(i * keySize, (i + 1) * keySize), values.subarray(i * size, (i + 1) * size)));
    }
    return out;
  }

  /**
   * Every endpoint record as it sits in the map, packed (struct endpoint_key[]
   * and endpoint_value[], hosted_ifindex included): two addon calls and no
   * decoding, however many there are. A key deleted between the two calls is left out.
   */
  endpointsPacked(): { keys: Buffer; values: Buffer } {
    const map = this.m.endpoints;
    const keys = map.keysPacked();
    const count = keys.length / ENDPOINT_KEY.size;
    if (count === 0) return { keys, values: Buffer.alloc(0) };
    const { values, present } = map.lookupMany(keys, count);
    if (!present.includes(0)) return { keys, values };
    const kept = [...present.keys()].filter((i) => present[i]);
    return {
      keys: Buffer.concat(kept.map((i) => keys.subarray(i * ENDPOINT_KEY.size, (i + 1) * ENDPOINT_KEY.size))),
      values: Buffer.concat(kept.map((i) => values.subarray(i * ENDPOINT_VALUE.size, (i + 1) * ENDPOINT_VALUE.size))),
    };
  }

  /**
   * Which records of a packed batch are new to the endpoints map and which
   * rewrite one: one probe of the key index per record, which also enters the
   * new keys. transitd makes the plan when a batch arrives, outside its
   * one-at-a-time queue, while the kernel still writes the batch before; the
   * batch is then applied with putEndpointsPacked in arrival order. The index
   * may so hold keys the map does not (yet, or never: a batch refused or
   * abandoned in the queue); that only makes a key count as rewritten, and
   * the undo reads what the map holds at its own turn.
   */
  planEndpoints(keys: Buffer, count: number): EndpointBatchPlan {
    const index = (this.index ??= EndpointIndex.fromKeys(this.m.endpoints.keys()));
    const plan: EndpointBatchPlan = { fresh: [], rewritten: [], removals: index.removals };
    for (let i = 0; i < count; i++) (index.addIfAbsent(keys, i * ENDPOINT_KEY.size) ? plan.fresh : plan.rewritten).push(i);
    return plan;
  }

  /**
   * Upserts `count` packed records (struct endpoint_key[] / endpoint_value[])
   * with one batch write, done on a worker thread. All or nothing: if the kernel refuses part of the
   * batch (the map is full), rewritten records get their old values back and
   * new ones are removed, then the kernel's error is thrown. plan: from
   * planEndpoints on the same keys (made now if not given).
   */
  async putEndpointsPacked(keys: Buffer, values: Buffer, count: number, plan = this.planEndpoints(keys, count)): Promise<void> {
    const map = this.m.endpoints;
    const index = this.index!;
    const { fresh, rewritten } = plan;
    // A key taken out of the index since the plan (a refused batch's undo, a deleted record) may be one this batch writes.
    if (index.removals !== plan.removals) for (let i = 0; i < count; i++) index.add(keys, i * ENDPOINT_KEY.size);
    const pick = (list: number[], src: Buffer, size: number) => Buffer.concat(list.map((i) => src.subarray(i * size, (i + 1) * size)));
    const oldKeys = pick(rewritten, keys, ENDPOINT_KEY.size);
    const before = map.lookupMany(oldKeys, rewritten.length);
    try {
      // Off the JS thread: transitd receives (and plans) the next batch meanwhile.
      // No key rewritten: the batch's keys are pairwise distinct (a key's second
      // occurrence in a batch is planned as rewritten), so kernel threads may split it.
      await writeBatchInParts(map, keys, values, count, { key: ENDPOINT_KEY.size, value: ENDPOINT_VALUE.size }, rewritten.length === 0);
    } catch (err) {
      // Best effort, then the kernel's error: delete what the map did not hold before (new, or a
      // "rewritten" key the map lacked at this turn), restore what it held.
      const absent = [...fresh, ...rewritten.filter((_, j) => !before.present[j])];
      for (const i of absent) index.delete(keys, i * ENDPOINT_KEY.size);
      try {
        if (absent.length) map.deleteMany(pick(absent, keys, ENDPOINT_KEY.size), absent.length);
        const had = rewritten.map((_, j) => j).filter((j) => before.present[j]);
        if (had.length) map.updateBatch(pick(had, oldKeys, ENDPOINT_KEY.size), pick(had, before.values, ENDPOINT_VALUE.size), had.length);
      } catch { /* the original error is the one to report */ }
      throw err;
    }
    // Slot tables of scaled endpoints (few: only their type byte is read for the rest).
    const keyAt = (i: number) => Buffer.from(keys.subarray(i * ENDPOINT_KEY.size, (i + 1) * ENDPOINT_KEY.size));
    const valueAt = (v: Buffer, i: number) => v.subarray(i * ENDPOINT_VALUE.size, (i + 1) * ENDPOINT_VALUE.size);
    // A plain byte read per record: no Buffer view for each of a million records.
    const scaledAt = (v: Buffer, i: number) => v[i * ENDPOINT_VALUE.size + ENDPOINT_VALUE.off.type] === EndpointType.SCALED;
    // Scaled endpoints that share a backend list share its slot table: built once per batch.
    const tables = new Map<string, Buffer>();
    for (let i = 0; i < count; i++) {
      if (!scaledAt(values, i)) continue;
      const { backends } = decodeEndpoint(keyAt(i), valueAt(values, i));
      const id = backends.join(',');
      let table = tables.get(id);
      if (!table) tables.set(id, (table = encodeMembers(backends, 'backends')));
      this.m.scaled_backends.update(keyAt(i), table);
    }
    rewritten.forEach((i, j) => { if (before.present[j] && scaledAt(before.values, j) && !scaledAt(values, i)) this.syncScaledBackends(keyAt(i), null); });
  }

  /** A scaled endpoint's backends as the slot table its switches pick from (scaled_backends); null or not scaled: none. */
  private syncScaledBackends(key: Buffer, r: EndpointRecord | null): void {
    if (r && r.type === EndpointType.SCALED) this.m.scaled_backends.update(key, encodeMembers(r.backends, 'backends'));
    else this.m.scaled_backends.delete(key);
  }

  /**
   * A group's compiled tries follow its definition: the new entries are
   * written first, then the ones it no longer has are removed (so during an
   * update a new flow is judged by the old rules, the new, or both; never by none).
   */
  private syncGroupTries(key: Buffer, old: Buffer | null, r: SecurityGroupRecord | null): void {
    const none: CompiledGroup = { cidrs: new Map(), ports: new Map() };
    const before = old ? compileGroup(decodeSgGroup(key, old)) : none;
    const after = r ? compileGroup(r) : none;
    for (const e of after.ports.values()) this.m.sg_ports.update(e.key, e.value);
    for (const e of after.cidrs.values()) this.m.sg_cidrs.update(e.key, e.value);
    for (const [hex, e] of before.ports) if (!after.ports.has(hex)) this.m.sg_ports.delete(e.key);
    for (const [hex, e] of before.cidrs) if (!after.cidrs.has(hex)) this.m.sg_cidrs.delete(e.key);
  }

  /** Conntrack timeouts (ms; 0: the data path's defaults). Short ones are for tests. */
  setConntrackTimeouts(t: ConntrackTimeouts): void {
    const gen = sgCfgGen(this.m.sg_cfg.lookup(u32Key(0)) ?? undefined, t);
    this.m.sg_cfg.update(u32Key(0), encodeSgCfg(t, this.m.conntrack.info().maxEntries, gen));
  }
  conntrackTimeouts(): ConntrackTimeouts {
    const v = this.m.sg_cfg.lookup(u32Key(0));
    return v ? decodeSgCfg(v).timeouts : {};
  }
  /**
   * Moves conntrack's epoch (native/bpf/conntrack.h), voiding every flow-cache
   * copy: for after this object's programs replaced another build's, which
   * write conntrack without moving it. By 2^32, so no increment the data path
   * makes meanwhile can bring it back to a value a copy holds.
   */
  voidFlowCacheCopies(): void {
    const v = this.m.ct_epoch.lookup(u32Key(0)) ?? Buffer.alloc(8);
    const next = Buffer.alloc(8);
    next.writeBigUInt64LE((v.readBigUInt64LE(0) + (1n << 32n)) & 0xffffffffffffffffn);
    this.m.ct_epoch.update(u32Key(0), next);
  }

  /** Every tracked connection (walks the whole map). */
  conntrackEntries(): CtEntry[] {
    const map = this.m.conntrack;
    return map.keys().flatMap((k) => { const v = map.lookup(k); return v ? [decodeCt(k, v)] : []; });
  }

  /** Direct path: drops the learned host of (vni, ip), if any. */
  forgetHost(vni: number, ip: string): boolean { return this.m.ep_host_cache.delete(endpointKey(vni, ip)); }
  /** Direct path: drops every learned host of these VPCs. */
  forgetHostsOf(vnis: ReadonlySet<number>): void {
    for (const k of this.m.ep_host_cache.keys()) if (vnis.has(decodeEndpointKey(k).vni)) this.m.ep_host_cache.delete(k);
  }
  /** Direct path: the learned host of (vni, ip), or null. */
  learnedHost(vni: number, ip: string): { ip: string; mac: string } | null {
    const v = this.m.ep_host_cache.lookup(endpointKey(vni, ip));
    if (!v) return null;
    const h = decodeHostCache(v);
    return { ip: h.hostIp, mac: h.hostMac };  }
  listEndpointKeys(): EndpointKey[] { return this.m.endpoints.keys().map((k) => decodeEndpointKey(k)); }

  putAgentMeta(ifindex: number, meta: AgentMeta): void {
    this.m.agent_meta.update(u32Key(ifindex), encodeAgentMeta(meta));
    if (this.hosted) {
      this.forgetHosted(ifindex);
      this.hosted.byKey.set(endpointRecordKey(meta), ifindex);
      this.hosted.byIfindex.set(ifindex, endpointRecordKey(meta));
    }
  }
  deleteAgentMeta(ifindex: number): boolean {
    this.forgetHosted(ifindex);
    return this.m.agent_meta.delete(u32Key(ifindex));
  }
  private forgetHosted(ifindex: number): void {
    const key = this.hosted?.byIfindex.get(ifindex);
    if (key === undefined) return;
    this.hosted!.byIfindex.delete(ifindex);
    if (this.hosted!.byKey.get(key) === ifindex) this.hosted!.byKey.delete(key);
  }
  /** Every endpoint veth the agent serves: ifindex -> its endpoint. */
  listAgentMeta(): Map<number, AgentMeta> {
    const out = new Map<number, AgentMeta>();
    for (const k of this.m.agent_meta.keys()) {
      const v = this.m.agent_meta.lookup(k);
      if (v) out.set(decodeU32Key(k), decodeAgentMeta(v));
    }
    return out;
  }

  /** Endpoints whose veth is on this host: "vni/ip" -> host-side veth ifindex. */
  hostedIfindexes(): ReadonlyMap<string, number> {
    // Read from the map once, then kept by putAgentMeta/deleteAgentMeta: a
    // dump per call made attaching n endpoints O(n^2) in syscalls (19 s of
    // transitd CPU for 1,000 endpoints, measured).
    if (!this.hosted) {
      this.hosted = { byKey: new Map(), byIfindex: new Map() };
      for (const [ifindex, meta] of this.listAgentMeta()) {
        this.hosted.byKey.set(endpointRecordKey(meta), ifindex);
        this.hosted.byIfindex.set(ifindex, endpointRecordKey(meta));
      }
    }
    return this.hosted.byKey;
  }

  // --- counters --------------------------------------------------------------
  stats(): Stats {
    const read = {} as Stats;
    STAT_NAMES.forEach((name, i) => {
      if (STAT_DERIVED[name]) return; // never written by the programs: summed below
      const v = this.m.stats.lookup(u32Key(i));
      read[name] = v ? Number(sumPerCpuU64(v)) : 0;
    });
    return withDerivedStats(read);
  }

  /** Entries against capacity of the maps that hold records and flows (a full map refuses writes). */
  mapUsage(): { name: string; entries: number; capacity: number }[] {
    const names = ['vpcs', 'networks', 'endpoints', 'substrate', 'agent_meta', 'ep_host_cache', 'scaled_flows', 'sg_groups', 'sg_attach', 'conntrack'] as const;
    return names.map((name) => ({ name, entries: this.m[name].keys().length, capacity: this.m[name].info().maxEntries }));
  }
}

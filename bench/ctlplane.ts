// Control plane: how fast endpoint records get into one host's maps through
// the public path (gRPC PutEndpoints -> transitd -> validation -> map
// writes), against raw batched map updates through the addon alone
// (BpfMap.updateBatch), at growing sizes. The records are those a switch holds:
// endpoints living on other hosts. Each size gets a fresh droplet (a fresh
// transitd and empty maps), so sizes do not add up and RSS is per size.
// The endpoints map's flags are a load-time choice (transitd --preallocate
// endpoints): per-record allocation (BPF_F_NO_PREALLOC, the default, as
// emulated droplets run) at every size, and preallocated (a real host) at the
// largest; the raw baseline writes into maps made with the same flags as
// transitd's, read back from the kernel and reported with both.
import { readFileSync, rmSync } from 'node:fs';
import { connectTransitd } from '../dist/transitd/client.js';
import { EndpointBatchSender } from '../dist/transitd/batch-sender.js';
import { encodeEndpointBatch } from '../dist/transitd/batch-wire.js';
import { PinnedMap } from '../dist/dataplane/bpf.js';
import { HostDataplane, endpointsPreallocated } from '../dist/dataplane/host.js';
import {
  EndpointType, encodeEndpoint, endpointKey, packEndpoints, packEndpointsCompactInto, ENDPOINT_KEY, ENDPOINT_VALUE, ENDPOINT_VALUE_HEAD_SIZE, MAX_BACKENDS,
  type EndpointRecord,
} from '../dist/abi/index.js';
import { createDroplets, destroyDroplets, type Droplet } from '../dist/droplet/index.js';
import { EndpointType as PbEndpointType, type Endpoint as PbEndpoint } from '../dist/gen/transit.js';
import { formatIpv4 } from '../dist/util/addr.js';
import { msSince, nowNs, rssBytes, sig } from './measure.js';
import { profileDuring } from './profile.js';
import type { ControllerStoreResult } from './controller-store.js';

export interface CtlSizeResult {
  endpoints: number;
  /** records per PutEndpoints call, and its encoded size */
  chunk: number;
  chunkBytes: number;
  /** calls in flight at once */
  window: number;
  /** through EndpointBatchSender: from the first record packed to the last PutEndpoints answered */
  seconds: number;
  /** packing the records into batches (the Controller's share): the sender's packing timed alone on the same records; the caller-thread path's summed per chunk within its run */
  packSeconds: number;
  recordsPerSecond: number;
  raw: { seconds: number; recordsPerSecond: number };
  /** recordsPerSecond / raw.recordsPerSecond */
  vsRaw: number;
  /**
   * The same records through plain PutEndpoints calls made from the caller's
   * thread (packEndpoints per chunk, then the unary call): the path before
   * EndpointBatchSender, on its own fresh droplet, for a before/after in one run.
   */
  callerThread?: { seconds: number; packSeconds: number; recordsPerSecond: number; vsRaw: number };
  transitdRssBytes: { before: number; after: number; delta: number };
  /** the endpoints map's kernel memory (fdinfo memlock) after programming */
  mapMemlockBytes: number;
  /** the endpoints map's flags, as the kernel reports them, for transitd's map and the raw baseline's */
  mapFlags: { transitd: string; raw: string };
  verified: string;
  /**
   * The same records (largest size only) with the endpoints map preallocated
   * (transitd --preallocate endpoints, as a real host runs), each path on
   * maps made with those flags.
   */
  preallocated?: { seconds: number; packSeconds: number; recordsPerSecond: number; raw: { seconds: number; recordsPerSecond: number };
    vsRaw: number; mapFlags: { transitd: string; raw: string }; mapMemlockBytes: number };
}

/** Where transitd spends its CPU while applying goal states (perf -p, JS named through --perf-basic-prof). */
export interface TransitdProfile {
  endpoints: number;
  seconds: number;
  samples?: number;
  /** self time by area of the code, % of transitd's samples */
  areas: Record<string, number>;
  /** the symbols with the most self time, % of transitd's samples */
  top: { fn: string; percent: number }[];
  /** % of transitd's samples inside the bpf() syscall */
  sysBpfInclusive?: number;
  error?: string;
}

export interface CtlPlaneResult {
  path: string;
  raw: string;
  sizes: CtlSizeResult[];
  profile?: TransitdProfile;
  /** endpoints through the Controller with each store, resume and reconcile (controller-store.ts) */
  controller?: ControllerStoreResult;
  /** why that measurement failed */
  controllerError?: string;
}

const VNI = 7;
const REMOTE_HOSTS = 64;

/** The other hosts' addresses: one string each, which all of a host's records share, as the Controller's do (desired.ts: its host's ip and mac). */
const REMOTE = Array.from({ length: REMOTE_HOSTS }, (_, h) => ({ ip: `172.31.0.${h + 2}`, mac: `0a:58:ac:1f:00:${(h + 2).toString(16).padStart(2, '0')}` }));

/** Endpoint i of n: 10.0.0.1 upwards, on one of REMOTE_HOSTS other hosts. */
function record(i: number): PbEndpoint {
  const ip = formatIpv4(((10 << 24) >>> 0) + i + 1);
  const host = REMOTE[i % REMOTE_HOSTS];
  const mac = `0e:07:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
  return {
    vni: VNI, ip, type: PbEndpointType.SIMPLE, mac, hostIp: host.ip, hostMac: host.mac,
    netId: 1, backends: [], hostedIfindex: -1, // as the Controller sends them
  };
}

/** The kernel's memory accounting of a map fd (fdinfo "memlock"). */
function memlockOf(fd: number): number {
  const m = /^memlock:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** map_flags as the kernel reports them, named. */
function flagsText(flags: number): string {
  return endpointsPreallocated(flags) ? `preallocated (map_flags ${flags})` : `BPF_F_NO_PREALLOC (map_flags ${flags})`;
}

/** Lets the kernel free the maps of a droplet just destroyed (a kworker walks a million elements) before the next timed run. */
const settle = (n: number) => (n >= 100_000 ? new Promise((r) => setTimeout(r, 2000)) : Promise.resolve());

/** Droplets whose transitd preallocates the endpoints map (env XVPC_TRANSITD_PREALLOCATE, read by transitd at start). */
async function createDropletsWith(prefix: string, preallocate: boolean): Promise<Record<string, Droplet>> {
  const old = process.env.XVPC_TRANSITD_PREALLOCATE;
  if (preallocate) process.env.XVPC_TRANSITD_PREALLOCATE = 'endpoints';
  else delete process.env.XVPC_TRANSITD_PREALLOCATE;
  try {
    return await createDroplets(['cp'], { prefix });
  } finally {
    if (old === undefined) delete process.env.XVPC_TRANSITD_PREALLOCATE;
    else process.env.XVPC_TRANSITD_PREALLOCATE = old;
  }
}

/** The record as the Controller's reconciler packs it for PutEndpoints. */
function packed(r: PbEndpoint): EndpointRecord {
  return { ...r, type: EndpointType.SIMPLE, hostedIfindex: -1 };
}

/** How the records are sent: EndpointBatchSender (packing on this thread, gRPC on a worker), or unary calls from this thread. */
type SendMode = 'sender' | 'caller-thread';

type TransitdRun = Omit<CtlSizeResult, 'raw' | 'vsRaw' | 'mapFlags' | 'preallocated'> & { mapFlags: string };

async function throughTransitd(d: Droplet, n: number, chunk: number, window: number, mode: SendMode = 'sender'): Promise<TransitdRun> {
  const client = connectTransitd(d.id, d.transitdAddress, 120_000);
  const sender = mode === 'sender' ? new EndpointBatchSender(d.id, d.transitdAddress, { chunk, window, timeoutMs: 120_000 }) : undefined;
  try {
    await client.health({});
    await sender?.ready();
    const rssBefore = await rssBytes(d.transitdPid);
    // The input: the records as the Controller holds them, made before the clock starts.
    const chunks: EndpointRecord[][] = [];
    for (let off = 0; off < n; off += chunk) {
      const recs: EndpointRecord[] = [];
      for (let i = off; i < Math.min(n, off + chunk); i++) recs.push(packed(record(i)));
      chunks.push(recs);
    }
    // The timer covers all the work the figure names: packing the records
    // into batches as the Controller's reconciler does, sending them,
    // transitd applying them.
    // The sender packs each chunk into shared memory and sends it from its
    // worker thread. The caller-thread path: each of `window` lanes packs its
    // next chunk (packEndpoints) and calls PutEndpoints. Either way packing
    // one chunk overlaps sending and applying the one before.
    let packMs = 0;
    let ms: number;
    if (sender) {
      const all = chunks.flat();
      // packing alone (compact, as the sender packs), on the same records, outside the timed run
      const scratch = { keys: Buffer.alloc(chunk * ENDPOINT_KEY.size), heads: Buffer.alloc(chunk * ENDPOINT_VALUE_HEAD_SIZE), backends: Buffer.alloc(chunk * 4 * MAX_BACKENDS) };
      const p0 = nowNs();
      for (let off = 0; off < n; off += chunk) packEndpointsCompactInto(all, off, Math.min(n, off + chunk), scratch.keys, scratch.heads, scratch.backends);
      packMs = msSince(p0);
      const t0 = nowNs();
      await sender.put(all);
      ms = msSince(t0);
    } else {
      const t0 = nowNs();
      let next = 0;
      const lane = async () => {
        while (next < chunks.length) {
          const p0 = nowNs();
          const batch = packEndpoints(chunks[next++]);
          packMs += msSince(p0);
          await client.putEndpoints(batch);
        }
      };
      await Promise.all(Array.from({ length: Math.min(window, chunks.length) }, lane));
      ms = msSince(t0);
    }
    const rssAfter = await rssBytes(d.transitdPid);
    const chunkBytes = encodeEndpointBatch(packEndpoints(chunks[0])).length; // what the wire carries (compact)

    // Spot checks through the same service, and the map's own size.
    const probes = [0, n - 1, ...Array.from({ length: 50 }, (_, k) => Math.floor((k * 7919 * 104729) % n))];
    for (const i of probes) {
      const want = record(i);
      const got = await client.getEndpoint({ vni: VNI, ip: want.ip });
      if (got.hostIp !== want.hostIp || got.mac !== want.mac) throw new Error(`ctlplane: endpoint ${want.ip} reads back as ${JSON.stringify(got)}`);
    }
    const map = PinnedMap.open(`${d.pinRoot}/endpoints`);
    let verified = `${probes.length} spot reads`;
    let memlock: number;
    let mapFlags: string;
    try {
      memlock = memlockOf(map.fd);
      mapFlags = flagsText(map.info().flags);
      if (n <= 100_000) {
        const count = map.keys().length;
        if (count !== n) throw new Error(`ctlplane: endpoints map holds ${count} records, want ${n}`);
        verified += `, map holds exactly ${count}`;
      }
    } finally {
      map.close();
    }
    return {
      endpoints: n, chunk, chunkBytes, window, seconds: ms / 1000, packSeconds: packMs / 1000, recordsPerSecond: sig((n / ms) * 1000),
      transitdRssBytes: { before: rssBefore, after: rssAfter, delta: rssAfter - rssBefore }, mapMemlockBytes: memlock, mapFlags, verified,
    };
  } finally {
    client.close();
    await sender?.close();
  }
}

/** The same records written with BpfMap.updateBatch (chunk records per call) into a private copy of the maps, made with transitd's flags. */
function rawBatched(pinRoot: string, n: number, chunk: number, preallocate: boolean): { seconds: number; recordsPerSecond: number; mapFlags: string } {
  const keys = Buffer.alloc(n * ENDPOINT_KEY.size);
  const values = Buffer.alloc(n * ENDPOINT_VALUE.size);
  for (let i = 0; i < n; i++) {
    const r = record(i);
    endpointKey(VNI, r.ip).copy(keys, i * ENDPOINT_KEY.size);
    encodeEndpoint({ ...r, type: EndpointType.SIMPLE, hostedIfindex: -1 }).copy(values, i * ENDPOINT_VALUE.size);
  }
  rmSync(pinRoot, { recursive: true, force: true });
  const dp = HostDataplane.open(pinRoot, {}, { preallocate });
  try {
    const map = dp.map('endpoints');
    const mapFlags = flagsText(map.info().flags);
    const t0 = nowNs();
    for (let off = 0; off < n; off += chunk) {
      const count = Math.min(chunk, n - off);
      map.updateBatch(keys.subarray(off * ENDPOINT_KEY.size, (off + count) * ENDPOINT_KEY.size),
        values.subarray(off * ENDPOINT_VALUE.size, (off + count) * ENDPOINT_VALUE.size), count);
    }
    const ms = msSince(t0);
    return { seconds: ms / 1000, recordsPerSecond: sig((n / ms) * 1000), mapFlags };
  } finally {
    dp.close();
    rmSync(pinRoot, { recursive: true, force: true });
  }
}

/** Which part of the work a symbol of transitd's profile belongs to. */
function area(sym: string, kernel: boolean): string {
  if (kernel) return 'kernel (bpf() map syscalls and the rest)';
  const js = /^(?:JS|LazyCompile|Function|InterpretedFunction):\S*\s+(\S*)/.exec(sym);
  if (js) {
    const url = js[1];
    if (url.includes('/gen/transit') || url.includes('@bufbuild')) return 'protobuf decode/encode';
    if (url.includes('@grpc') || url.includes('http2')) return 'gRPC/HTTP2';
    if (url.includes('/transitd/validate') || url.includes('/util/addr')) return 'validation (IP/MAC parsing)';
    if (url.includes('/abi/')) return 'record encoding';
    if (url.includes('/dataplane/')) return 'dataplane wrappers';
    if (url.includes('/transitd/')) return 'goal-state apply';
    if (url.startsWith('node:')) return 'node internals (JS)';
    return 'other JavaScript';
  }
  if (/Scaveng|Heap::|MarkCompact|ConcurrentMarking|Sweeper|Evacuat|MemoryAllocator|MinorMark/.test(sym)) return 'garbage collection';
  if (/^RegExp:|String|Internalize/.test(sym)) return 'strings and regexps (text IPs/MACs, protobuf strings)';
  if (/^(Builtins_|v8::|Heap|\(anonymous namespace\)::|std::|Builtin:)/.test(sym) || sym.includes('v8::internal')) return 'other V8 runtime and builtins';
  if (/Napi|napi_|bpf_|libbpf|xvpc/i.test(sym)) return 'addon + libbpf';
  return 'other native (libc, node)';
}

/**
 * One more run at `n` with transitd started under NODE_OPTIONS=--perf-basic-prof
 * (so perf can name its JavaScript), profiled with perf record -p.
 */
async function profileTransitd(prefix: string, n: number, chunk: number, window: number, dataPath: string): Promise<TransitdProfile> {
  const old = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${old ? `${old} ` : ''}--perf-basic-prof`;
  let droplets: Record<string, Droplet>;
  try {
    droplets = await createDroplets(['cp'], { prefix });
  } finally {
    if (old === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = old;
  }
  const pid = droplets.cp.transitdPid;
  try {
    let seconds = NaN;
    // Record for most of the run: it lasts about n / (the rate of the sizes before) seconds.
    const p = await profileDuring({ label: `transitd applying ${n} records`, seconds: 1, delayMs: 150, dataPath, pid, top: 40 }, async () => {
      seconds = (await throughTransitd(droplets.cp, n, chunk, window)).seconds;
    });
    if (p.error) return { endpoints: n, seconds, areas: {}, top: [], error: p.error };
    const areas: Record<string, number> = {};
    for (const l of p.all) areas[area(l.symbol, l.kernel)] = (areas[area(l.symbol, l.kernel)] ?? 0) + l.first;
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      endpoints: n, seconds, samples: p.samples,
      areas: Object.fromEntries(Object.entries(areas).sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, round(v)])),
      top: p.topSelf.slice(0, 15).map((t) => ({ fn: t.symbol, percent: t.percent })),
      ...(p.inclusive.__sys_bpf !== undefined ? { sysBpfInclusive: p.inclusive.__sys_bpf } : {}),
    };
  } finally {
    await destroyDroplets(droplets);
    if (pid !== undefined) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  }
}

/**
 * sizes: endpoint counts; one droplet per size in `prefix` (destroyed after
 * it). rawPinRoot: where the raw baseline's private maps are pinned.
 */
export async function measureControlPlane(prefix: string, rawPinRoot: string, sizes: number[], chunk: number, window: number,
  onStep: (s: string) => void, onDone: (s: string) => void, profile?: { endpoints: number; dataPath: string }): Promise<CtlPlaneResult> {
  const out: CtlSizeResult[] = [];
  // One size's sender run and its raw baseline, both with the endpoints map made preallocated or not.
  const pair = async (n: number, preallocate: boolean) => {
    const how = preallocate ? 'endpoints map preallocated' : 'endpoints map BPF_F_NO_PREALLOC';
    onStep(`${n.toLocaleString('en')} endpoints via PutEndpoints (chunks of ${chunk}; ${how})`);
    const droplets = await createDropletsWith(prefix, preallocate);
    let viaTransitd: TransitdRun;
    try {
      viaTransitd = await throughTransitd(droplets.cp, n, chunk, window);
    } finally {
      await destroyDroplets(droplets);
    }
    onDone(`${sig(viaTransitd.seconds)} s, ${sig(viaTransitd.recordsPerSecond / 1000)}k records/s`);
    await settle(n);
    onStep(`${n.toLocaleString('en')} endpoints raw (BpfMap.updateBatch; ${how})`);
    const raw = rawBatched(rawPinRoot, n, chunk, preallocate);
    onDone(`${sig(raw.seconds)} s, ${sig(raw.recordsPerSecond / 1000)}k records/s`);
    await settle(n);
    return { viaTransitd, raw };
  };
  for (const n of sizes) {
    const { viaTransitd, raw } = await pair(n, false);
    onStep(`${n.toLocaleString('en')} endpoints via PutEndpoints from the caller's thread (before EndpointBatchSender)`);
    const before = await createDroplets(['cp'], { prefix });
    let callerThread: TransitdRun;
    try {
      callerThread = await throughTransitd(before.cp, n, chunk, window, 'caller-thread');
    } finally {
      await destroyDroplets(before);
    }
    onDone(`${sig(callerThread.seconds)} s, ${sig(callerThread.recordsPerSecond / 1000)}k records/s`);
    await settle(n);
    let preallocated: CtlSizeResult['preallocated'];
    if (n === sizes[sizes.length - 1]) {
      const p = await pair(n, true);
      preallocated = {
        seconds: p.viaTransitd.seconds, packSeconds: p.viaTransitd.packSeconds, recordsPerSecond: p.viaTransitd.recordsPerSecond,
        raw: { seconds: p.raw.seconds, recordsPerSecond: p.raw.recordsPerSecond }, vsRaw: sig(p.viaTransitd.recordsPerSecond / p.raw.recordsPerSecond),
        mapFlags: { transitd: p.viaTransitd.mapFlags, raw: p.raw.mapFlags }, mapMemlockBytes: p.viaTransitd.mapMemlockBytes,
      };
    }
    out.push({
      ...viaTransitd, raw: { seconds: raw.seconds, recordsPerSecond: raw.recordsPerSecond }, vsRaw: sig(viaTransitd.recordsPerSecond / raw.recordsPerSecond),
      mapFlags: { transitd: viaTransitd.mapFlags, raw: raw.mapFlags },
      callerThread: { seconds: callerThread.seconds, packSeconds: callerThread.packSeconds, recordsPerSecond: callerThread.recordsPerSecond,
        vsRaw: sig(callerThread.recordsPerSecond / raw.recordsPerSecond) },
      ...(preallocated ? { preallocated } : {}),
    });
  }
  let prof: TransitdProfile | undefined;
  if (profile) {
    onStep(`transitd CPU profile (perf -p, --perf-basic-prof) while applying ${profile.endpoints.toLocaleString('en')} records`);
    try {
      prof = await profileTransitd(prefix, profile.endpoints, chunk, window, profile.dataPath);
      const [a1, a2] = Object.entries(prof.areas);
      onDone(a1 ? `${a1[0]} ${a1[1]}%${a2 ? `, ${a2[0]} ${a2[1]}%` : ''}` : prof.error ?? '');
    } catch (err) {
      prof = { endpoints: profile.endpoints, seconds: NaN, areas: {}, top: [], error: err instanceof Error ? err.message : String(err) };
      onDone(`failed: ${prof.error}`);
    }
  }
  return {
    ...(prof ? { profile: prof } : {}),
    path: 'Controller-side gRPC client (connectTransitd) -> PutEndpoints (endpoint records of remote hosts, as a switch holds, '
      + 'packed in the kernel layout as the reconciler sends them) -> transitd field checks -> one native lookup per record '
      + '(what makes the batch undoable) -> one batch map update per chunk',
    raw: 'BpfMap.updateBatch from the bench process into a private copy of the maps made with the same endpoints map flags as '
      + 'transitd\'s (BPF_F_NO_PREALLOC at every size; preallocated too at the largest), pre-encoded records, same chunk size',
    sizes: out,
  };
}

// The compiled N-API addon (native/addon) with its TypeScript shape.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { XvpcError } from '../errors.js';
import { inContextNetns } from './netns-context.js';

export interface RawProgram { name: string; section: string; fd: number }
export interface RawMap {
  name: string; fd: number; type: number; keySize: number; valueSize: number; maxEntries: number; pinPath?: string;
}
export interface RawMapInfo {
  id: number; name: string; type: number; keySize: number; valueSize: number;
  /** bytes a lookup returns: valueSize, or one 8-byte-aligned slot per possible CPU for per-CPU maps */
  valueBytes: number; maxEntries: number; flags: number;
}
export interface TestRunResult { retval: number; data: Buffer; durationNs: number }
export type XdpMode = 'native' | 'generic';

export interface RawBpfObject {
  load(): void;
  programs(): RawProgram[];
  maps(): RawMap[];
  programFd(name: string): number;
  mapFd(name: string): number;
  close(): void;
  readonly loaded: boolean;
  readonly closed: boolean;
}

export interface Addon {
  BpfObject: new (path: string, opts?: {
    pinRoot?: string; maxEntries?: Record<string, number>; mapFlags?: Record<string, number>; reuseMaps?: Record<string, string>;
  }) => RawBpfObject;
  mapInfo(fd: number): RawMapInfo;
  mapLookup(fd: number, key: Buffer): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapKeys(fd: number): Buffer[];
  /** Every key end to end in one Buffer. */
  mapKeysPacked(fd: number): Buffer;
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, count: number, flags?: number): void;
  mapLookupMany(fd: number, keys: Buffer, count: number): { values: Buffer; present: Buffer };
  /** The batch update on a worker thread (not for per-CPU maps). */
  mapUpdateBatchAsync(fd: number, keys: Buffer, values: Buffer, count: number): Promise<void>;
  mapDeleteMany(fd: number, keys: Buffer, count: number): void;
  objGet(path: string): number;
  objPin(fd: number, path: string): void;
  closeFd(fd: number): void;
  /** an fd holding an exclusive flock on the directory, or -1 when another holds it */
  lockDir(path: string): number;
  /** netnsPath: act inside that network namespace (e.g. /run/netns/NAME) instead of our own. */
  xdpAttach(ifindex: number, progFd: number, mode?: XdpMode, netnsPath?: string): void;
  xdpDetach(ifindex: number, mode?: XdpMode, netnsPath?: string): void;
  xdpQuery(ifindex: number, mode?: XdpMode, netnsPath?: string): number;
  /** Our clsact ingress filter (fixed handle/priority: attaching again replaces it). */
  tcAttach(ifindex: number, progFd: number, netnsPath?: string): void;
  tcDetach(ifindex: number, netnsPath?: string): void;
  /** Id of our ingress program, 0 if none. */
  tcQuery(ifindex: number, netnsPath?: string): number;
  progId(fd: number): number;
  /** setns(CLONE_NEWNET) of the calling thread (a worker's, in a shared transitd host), not undone. */
  enterNetns(path: string): void;
  /** if_nametoindex, inside network namespace `netnsPath` if given. */
  ifIndex(name: string, netnsPath?: string): number;
  /**
   * Inside namespace `netnsPath` (native/addon/netlink.cc): lo up; `ifname` gets addrgenmode none,
   * `featuresOff` off (ethtool's names), ip/prefixLen, up, and a default route via `gateway` if given.
   */
  configureEndpointLink(netnsPath: string, link: { ifname: string; ip: string; prefixLen: number; gateway?: string; featuresOff?: string[] }): void;
  /** ingressIfindex goes in the program type's context (xdp_md or __sk_buff). */
  progTestRun(fd: number, packet: Buffer, opts?: { repeat?: number; outSize?: number; ingressIfindex?: number }): TestRunResult;
  numPossibleCpus(): number;

  // --- capture (native/addon/capture.cc, pcap.cc) ---
  /** Loads raw struct bpf_insn[]; a refusal throws with the verifier's log. */
  progLoad(type: number, name: string, insns: Buffer, opts?: { expectedAttachType?: number; progFlags?: number; license?: string }): number;
  mapCreate(type: number, name: string, keySize: number, valueSize: number, maxEntries: number, flags?: number): number;
  progInfoById(id: number): { id: number; name: string; type: number } | null;
  RingBuffer: new (mapFd: number) => RawRingBuffer;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC in ns: turns bpf_ktime_get_ns() into wall clock. */
  clockOffsetNs(): bigint;
  /** A tcpdump expression as classic BPF (struct bpf_insn[], 8 bytes each). */
  pcapCompile(expr: string, snaplen: number, linktype?: number): Buffer;
  /** libpcap's classic BPF interpreter: the filter's result for one packet (0: no match). */
  pcapFilter(insns: Buffer, packet: Buffer, wireLen?: number): number;
  PcapLive: new (iface: string, opts?: {
    netns?: string; snaplen?: number; promisc?: boolean; bufferSize?: number; filter?: string;
  }) => RawPcapLive;
}

export interface RawRingBuffer {
  /** Samples ready now (at most max), never blocking. */
  consume(max?: number): Buffer[];
  close(): void;
}

export interface RawPcapPacket { sec: number; nsec: number; len: number; data: Buffer }
export interface RawPcapLive {
  /** Packets ready now (at most max), never blocking. */
  dispatch(max?: number): RawPcapPacket[];
  stats(): { received: number; dropped: number; ifDropped: number };
  close(): void;
  readonly datalink: number;
  readonly snaplen: number;
}

/** Repository root: src/dataplane and dist/dataplane both sit two levels below it. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const addonPath = `${repoRoot}build/Release/xvpc.node`;

/** A load failure as one line saying what to do. */
export function explainLoadFailure(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  if ((err as { code?: string }).code === 'MODULE_NOT_FOUND') {
    return `the xvpc addon is not built (${addonPath} is missing): run npm run build`;
  }
  // The dynamic loader names the shared library it could not use: "libbpf.so.1: cannot open shared object file".
  const library = /(lib[\w+-]*\.so[.\d]*): (.*)$/.exec(message);
  if (library) {
    return `the xvpc addon cannot load ${library[1]} (${library[2]}): `
      + 'apt-get install libbpf1 libpcap0.8 libelf1 zlib1g (or run ./bootstrap.sh)';
  }
  return `the xvpc addon failed to load (${message}): run ./bootstrap.sh`;
}

/** The calls that act in the calling thread's network namespace (netlink, ifindexes). */
const THREAD_NETNS_CALLS = ['xdpAttach', 'xdpDetach', 'xdpQuery', 'tcAttach', 'tcDetach', 'tcQuery', 'ifIndex', 'configureEndpointLink'] as const;

const require = createRequire(import.meta.url);
const loaded: { addon: Addon; problem?: undefined } | { addon?: undefined; problem: string } = (() => {
  try {
    return { addon: require(addonPath) as Addon };
  } catch (err) {
    return { problem: explainLoadFailure(err) };
  }
})();

/** Why the addon did not load, or undefined when it did (src/util/prereq.ts reports it up front). */
export function addonLoadProblem(): string | undefined { return loaded.problem; }

/**
 * The addon. When it could not load, the library still imports (so `xvpc
 * --version` and --help work) and any use throws the one-line reason.
 */
export const addon: Addon = loaded.addon ? inContextNetnsCalls(loaded.addon) : new Proxy({} as Addon, {
  get(): never { throw new XvpcError('FAILED_PRECONDITION', loaded.problem!); },
});

/**
 * Runs fn inside the namespace of the caller's netnsContext, if any: for work
 * the kernel resolves in the calling thread's namespace besides the calls
 * below (a devmap update looks its ifindex up there).
 */
export function inCallerNetns<T>(fn: () => T): T {
  return inContextNetns((path) => addon.enterNetns(path), fn);
}

/** The addon with those calls made inside the namespace of the caller's netnsContext, if any (netns-context.ts). */
function inContextNetnsCalls(raw: Addon): Addon {
  const out = { ...raw } as Record<string, unknown>;
  const enter = (path: string) => raw.enterNetns(path);
  for (const name of THREAD_NETNS_CALLS) {
    const fn = raw[name] as (...args: unknown[]) => unknown;
    out[name] = (...args: unknown[]) => inContextNetns(enter, () => fn(...args));
  }
  return out as unknown as Addon;
}

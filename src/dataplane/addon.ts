// The compiled N-API addon (native/addon) with its TypeScript shape.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

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
    pinRoot?: string; maxEntries?: Record<string, number>; reuseMaps?: Record<string, string>;
  }) => RawBpfObject;
  mapInfo(fd: number): RawMapInfo;
  mapLookup(fd: number, key: Buffer): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapKeys(fd: number): Buffer[];
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, count: number, flags?: number): void;
  mapLookupMany(fd: number, keys: Buffer, count: number): { values: Buffer; present: Buffer };
  /** The batch update on a worker thread (not for per-CPU maps). */
  mapUpdateBatchAsync(fd: number, keys: Buffer, values: Buffer, count: number): Promise<void>;
  mapDeleteMany(fd: number, keys: Buffer, count: number): void;
  objGet(path: string): number;
  objPin(fd: number, path: string): void;
  closeFd(fd: number): void;
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
  /** if_nametoindex, inside network namespace `netnsPath` if given. */
  ifIndex(name: string, netnsPath?: string): number;
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

const require = createRequire(import.meta.url);
export const addon: Addon = require(`${repoRoot}build/Release/xvpc.node`);

// Typed handles over the addon: a BPF object, its programs and maps.
// A handle refuses to work once its object is closed, so a stale fd (which the
// kernel may already have handed to something else) is never used.
import { addon, repoRoot, type RawBpfObject, type RawMapInfo, type TestRunResult, type XdpMode } from './addon.js';
import { namedNetnsPath } from '../util/netns.js';

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
/** map_flags: a hash map allocates each element on insert instead of all of them at creation. */
export const BPF_F_NO_PREALLOC = 1;

/** Path of a compiled BPF object from native/bpf (built by `npm run build:bpf`). */
export function bpfObjectPath(name: string): string {
  return `${repoRoot}obj/bpf/${name}.o`;
}

interface Liveness { readonly closed: boolean; readonly what: string }

function assertLive(owner: Liveness): void {
  if (owner.closed) throw new Error(`${owner.what} is closed`);
}

export class BpfMap {
  constructor(readonly name: string, private readonly fdValue: number, private readonly owner: Liveness) {}

  get fd(): number { assertLive(this.owner); return this.fdValue; }
  info(): RawMapInfo { return addon.mapInfo(this.fd); }
  lookup(key: Buffer): Buffer | null { return addon.mapLookup(this.fd, key); }
  update(key: Buffer, value: Buffer, flags = BPF_ANY): void { addon.mapUpdate(this.fd, key, value, flags); }
  delete(key: Buffer): boolean { return addon.mapDelete(this.fd, key); }
  keys(): Buffer[] { return addon.mapKeys(this.fd); }
  /** Every key end to end (keySize bytes each): one Buffer for a map of any size. */
  keysPacked(): Buffer { return addon.mapKeysPacked(this.fd); }
  /** Looks up `count` keys laid end to end: their values, and which were present. */
  lookupMany(keys: Buffer, count: number): { values: Buffer; present: Buffer } {
    return addon.mapLookupMany(this.fd, keys, count);
  }
  deleteMany(keys: Buffer, count: number): void { addon.mapDeleteMany(this.fd, keys, count); }
  /** updateBatch on a worker thread: the JS thread stays free while the kernel writes. */
  updateBatchAsync(keys: Buffer, values: Buffer, count: number): Promise<void> {
    return addon.mapUpdateBatchAsync(this.fd, keys, values, count);
  }
  /** Writes `count` records laid end to end in `keys` and `values` with one syscall. */
  updateBatch(keys: Buffer, values: Buffer, count: number, flags = BPF_ANY): void {
    addon.mapUpdateBatch(this.fd, keys, values, count, flags);
  }
}

export class BpfProgram {
  constructor(readonly name: string, private readonly fdValue: number, private readonly owner: Liveness) {}

  get fd(): number { assertLive(this.owner); return this.fdValue; }
  get id(): number { return addon.progId(this.fd); }
  /** Attaches (replacing any program there) to ifindex, in namespace `netns` if given. */
  attachXdp(ifindex: number, mode: XdpMode = 'native', netns?: string): void {
    addon.xdpAttach(ifindex, this.fd, mode, netnsPath(netns));
  }
  /** Our clsact ingress filter on ifindex (replacing the one there), in namespace `netns` if given. */
  attachTc(ifindex: number, netns?: string): void {
    addon.tcAttach(ifindex, this.fd, netnsPath(netns));
  }
  testRun(packet: Buffer, opts: { repeat?: number; outSize?: number; ingressIfindex?: number } = {}): TestRunResult {
    return addon.progTestRun(this.fd, packet, opts);
  }
}

export interface OpenOptions {
  /** Maps marked LIBBPF_PIN_BY_NAME are pinned (and reused) under this directory. */
  pinRoot?: string;
  /** Capacity per map name, set before load. */
  maxEntries?: Record<string, number>;
  /** map_flags per map name, set before load (replacing those the object declares). */
  mapFlags?: Record<string, number>;
  /** Map name -> pin path of an existing map to use instead of creating one. */
  reuseMaps?: Record<string, string>;
}

/** A BPF ELF object, opened and loaded into the kernel. */
export class BpfObject implements Liveness {
  private readonly raw: RawBpfObject;
  readonly what: string;

  private constructor(readonly path: string, opts: OpenOptions) {
    this.what = `BPF object ${path}`;
    this.raw = new addon.BpfObject(path, opts);
  }

  /** Opens and loads `path`; throws with the verifier's log if the kernel refuses it. */
  static load(path: string, opts: OpenOptions = {}): BpfObject {
    const obj = new BpfObject(path, opts);
    try {
      obj.raw.load();
    } catch (err) {
      obj.close();
      throw err;
    }
    return obj;
  }

  get closed(): boolean { return this.raw.closed; }
  programs(): string[] { assertLive(this); return this.raw.programs().map((p) => p.name); }
  maps(): string[] { assertLive(this); return this.raw.maps().map((m) => m.name); }
  program(name: string): BpfProgram { assertLive(this); return new BpfProgram(name, this.raw.programFd(name), this); }
  map(name: string): BpfMap { assertLive(this); return new BpfMap(name, this.raw.mapFd(name), this); }
  close(): void { this.raw.close(); }
}

/** A map opened from its pin in bpffs, owning its own fd. */
export class PinnedMap extends BpfMap {
  private constructor(path: string, fd: number, private readonly state: { closed: boolean; what: string }) {
    super(path.split('/').pop() ?? path, fd, state);
  }

  static open(path: string): PinnedMap {
    return new PinnedMap(path, addon.objGet(path), { closed: false, what: `pinned map ${path}` });
  }

  close(): void {
    if (this.state.closed) return;
    addon.closeFd(this.fd);
    this.state.closed = true;
  }
}

/** A namespace name from `ip netns` becomes its path; a path stays as it is. */
function netnsPath(netns?: string): string | undefined {
  if (!netns) return undefined;
  return netns.includes('/') ? netns : namedNetnsPath(netns);
}

/** Pins a map at `path`. */
export function pinMap(map: BpfMap, path: string): void { addon.objPin(map.fd, path); }

export function xdpDetach(ifindex: number, mode: XdpMode = 'native', netns?: string): void {
  addon.xdpDetach(ifindex, mode, netnsPath(netns));
}
/** Id of the program attached in `mode`, 0 if none. */
export function xdpQuery(ifindex: number, mode: XdpMode = 'native', netns?: string): number {
  return addon.xdpQuery(ifindex, mode, netnsPath(netns));
}
/** Removes our clsact ingress filter; none there is not an error. */
export function tcDetach(ifindex: number, netns?: string): void {
  try {
    addon.tcDetach(ifindex, netnsPath(netns));
  } catch (err: any) {
    if (err?.code !== 'ENOENT' && err?.code !== 'EINVAL') throw err;
  }
}
/** Id of our clsact ingress program, 0 if none. */
export function tcQuery(ifindex: number, netns?: string): number {
  return addon.tcQuery(ifindex, netnsPath(netns));
}
export const numPossibleCpus = (): number => addon.numPossibleCpus();

/** Sums a per-CPU u64 value returned by a lookup. */
export function sumPerCpuU64(value: Buffer): bigint {
  let total = 0n;
  for (let off = 0; off + 8 <= value.length; off += 8) total += value.readBigUInt64LE(off);
  return total;
}

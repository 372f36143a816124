// Which (vni, ip) keys the endpoints map holds, kept beside it. A packed batch
// uses it to tell new records (nothing to undo if the kernel refuses the batch)
// from rewritten ones (old value read first) without a lookup per record.
// Built once from the map, then kept up to date by every write through
// HostDataplane; if it ever said "absent" wrongly, only a failed batch's undo
// would be affected, never a successful write.
//
// An open-addressing hash set over one Int32Array of (vni, ip) pairs: a million keys cost
// ~16 MB and tens of nanoseconds per operation (a JS Set of numbers per VNI
// measured 0.3 us per add and per lookup, more than the map write itself).
import { fmix32 } from '../util/hash.js';
import { ENDPOINT_KEY } from '../abi/index.js';

const VNI = ENDPOINT_KEY.off.vni;
const IP = ENDPOINT_KEY.off.ip;
const EMPTY = 0;  // VNI 0 is never a key (VNIs are 1..2^24-1)
const DELETED = -1; // nor is this

/** The key's VNI (little-endian u32) read byte by byte: Buffer's read methods check and dispatch per call. */
const vniAt = (keys: Buffer, off: number): number =>
  keys[off + VNI] | (keys[off + VNI + 1] << 8) | (keys[off + VNI + 2] << 16) | (keys[off + VNI + 3] << 24);
/** The key's IP (network order) as a signed 32-bit number: only compared, never shown. */
const ipAt = (keys: Buffer, off: number): number =>
  (keys[off + IP] << 24) | (keys[off + IP + 1] << 16) | (keys[off + IP + 2] << 8) | keys[off + IP + 3];

export class EndpointIndex {
  // Slot i is (slots[2i], slots[2i+1]) = (vni, ip): a probe touches one cache line, not one in each of two arrays.
  private slots = new Int32Array(2 * 1024);
  private used = 0; // live keys plus tombstones
  /** How many keys were ever deleted: a plan made before a deletion must enter its keys again (HostDataplane). */
  removals = 0;

  /** keys: struct endpoint_key buffers (vni little-endian, ip network order). */
  static fromKeys(keys: Buffer[]): EndpointIndex {
    const idx = new EndpointIndex();
    for (const k of keys) idx.add(k, 0);
    return idx;
  }

  has(keys: Buffer, off: number): boolean {
    return this.find(vniAt(keys, off), ipAt(keys, off)) >= 0;
  }

  add(keys: Buffer, off: number): void {
    this.addIfAbsent(keys, off);
  }

  /** Adds the key at `off`; false when it was there already (one probe for both questions). */
  addIfAbsent(keys: Buffer, off: number): boolean {
    if (off < 0 || off + ENDPOINT_KEY.size > keys.length) throw new RangeError(`endpoint key at ${off}: outside the buffer`);
    return this.insert(vniAt(keys, off), ipAt(keys, off));
  }

  private insert(vni: number, ip: number): boolean {
    if ((this.used + 1) * 4 > this.slots.length) this.grow();
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let i = home(vni, ip, mask);
    let free = -1; // the first tombstone on the way: reused if the key is absent
    for (;;) {
      const v = slots[2 * i];
      if (v === EMPTY) break;
      if (v === DELETED) { if (free < 0) free = i; } else if (v === vni && slots[2 * i + 1] === ip) return false;
      i = (i + 1) & mask;
    }
    if (free >= 0) i = free;
    else this.used++;
    slots[2 * i] = vni;
    slots[2 * i + 1] = ip;
    return true;
  }

  delete(keys: Buffer, off: number): void {
    const i = this.find(vniAt(keys, off), ipAt(keys, off));
    if (i >= 0) {
      this.slots[2 * i] = DELETED;
      this.removals++;
    }
  }

  /** Slot of (vni, ip), or -1. */
  private find(vni: number, ip: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let i = home(vni, ip, mask);
    for (;;) {
      const v = slots[2 * i];
      if (v === EMPTY) return -1;
      if (v === vni && slots[2 * i + 1] === ip) return i;
      i = (i + 1) & mask;
    }
  }

  /** Doubles the table (tombstones are dropped on the way). */
  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.used = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== EMPTY && old[i] !== DELETED) this.insert(old[i], old[i + 1]);
    }
  }
}

/** The slot (vni, ip) hashes to; probing goes on from there. */
const home = (vni: number, ip: number, mask: number): number => fmix32(Math.imul(vni, 0x9e3779b1) ^ ip) & mask;

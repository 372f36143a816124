// Which (vni, ip) keys the endpoints map holds, kept beside it. A packed batch
// uses it to tell new records (nothing to undo if the kernel refuses the batch)
// from rewritten ones (old value read first) without a lookup per record.
// Built once from the map, then kept up to date by every write through
// HostDataplane; if it ever said "absent" wrongly, only a failed batch's undo
// would be affected, never a successful write.
export class EndpointIndex {
  private readonly byVni = new Map<number, Set<number>>();

  /** keys: struct endpoint_key[] laid end to end (vni LE, ip network order). */
  static fromKeys(keys: Buffer[]): EndpointIndex {
    const idx = new EndpointIndex();
    for (const k of keys) idx.add(k, 0);
    return idx;
  }

  has(keys: Buffer, off: number): boolean {
    return this.byVni.get(keys.readUInt32LE(off))?.has(keys.readUInt32BE(off + 4)) ?? false;
  }

  add(keys: Buffer, off: number): void {
    const vni = keys.readUInt32LE(off);
    let ips = this.byVni.get(vni);
    if (!ips) this.byVni.set(vni, (ips = new Set()));
    ips.add(keys.readUInt32BE(off + 4));
  }

  delete(keys: Buffer, off: number): void {
    const vni = keys.readUInt32LE(off);
    const ips = this.byVni.get(vni);
    if (!ips) return;
    ips.delete(keys.readUInt32BE(off + 4));
    if (ips.size === 0) this.byVni.delete(vni);
  }
}

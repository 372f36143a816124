// The compact form of a packed batch's values (proto EndpointValuesCompact),
// what PutEndpoints carries on the wire: each struct endpoint_value cut before
// its `backends` (28 of its 92 bytes; the 16 backend slots are empty for all
// but scaled endpoints), and the backends of the records that have them, in
// record order. A million records are 36 MB on the wire instead of 100 MB, and
// the gRPC transport on both ends (HTTP/2 frames, reassembly, the garbage of
// both) costs by the byte. transitd expands it back to the kernel's layout.
import { atField, invalid } from '../errors.js';
import { HostAddressCache, writeEndpointBackends, writeEndpointHead, writeEndpointKey, type EndpointRecord } from './codecs.js';
import { ENDPOINT_KEY as EK, ENDPOINT_VALUE as EV } from './layout.js';
import { MAX_BACKENDS } from './limits.js';

/** Bytes of a value's head: struct endpoint_value up to `backends`. */
export const ENDPOINT_VALUE_HEAD_SIZE = EV.off.backends;
const BACKEND_COUNT = EV.off.backend_count;

export interface CompactEndpointValues { heads: Buffer; backends: Buffer }

/** How many records a batch's keys hold; INVALID_ARGUMENT when they are not whole keys. */
export function batchKeyCount(keys: Uint8Array): number {
  if (keys.length % EK.size !== 0) throw invalid(`keys: ${keys.length} bytes is not a whole number of ${EK.size}-byte keys`);
  return keys.length / EK.size;
}

/**
 * Packs records[from..to) straight into the compact form: keys, heads and
 * backends at the start of the given buffers (reused: no allocation per
 * batch), as compactEndpointValues(packEndpointsInto(...)) would make them
 * without the 92-byte values in between. The buffers must hold the records
 * (backends: 4 bytes per backend, MAX_BACKENDS per record at most). Returns
 * the record count and the backend bytes written; INVALID_ARGUMENT names the
 * record (records[i].field) of a record that cannot be packed.
 */
export function packEndpointsCompactInto(records: readonly EndpointRecord[], from: number, to: number,
  keys: Buffer, heads: Buffer, backends: Buffer): { count: number; backendBytes: number } {
  const count = to - from;
  if (keys.length < count * EK.size || heads.length < count * ENDPOINT_VALUE_HEAD_SIZE)
    throw new RangeError(`packEndpointsCompactInto: buffers too small for ${count} records`);
  const hosts = new HostAddressCache();
  let b = 0;
  for (let i = 0; i < count; i++) {
    const r = records[from + i];
    try {
      writeEndpointKey(keys, i * EK.size, r.vni, r.ip);
      writeEndpointHead(heads, i * ENDPOINT_VALUE_HEAD_SIZE, r, hosts);
      if (r.backends.length > 0) {
        writeEndpointBackends(backends, b, r);
        b += 4 * r.backends.length;
      }
    } catch (err) {
      throw atField(err, `records[${from + i}]`);
    }
  }
  return { count, backendBytes: b };
}

/** Copies `len` bytes: a byte loop beats a native copy call per record of 28 bytes. */
function copyBytes(dst: Uint8Array, d: number, src: Uint8Array, s: number, len: number): void {
  for (let j = 0; j < len; j++) dst[d + j] = src[s + j];
}

/** The compact form of `count` values in the kernel's layout (values.length must be count x 92). */
export function compactEndpointValues(values: Uint8Array, count: number): CompactEndpointValues {
  if (values.length !== count * EV.size) throw new RangeError(`compactEndpointValues: ${values.length} bytes is not ${count} values`);
  let backendCount = 0;
  for (let i = 0; i < count; i++) backendCount += values[i * EV.size + BACKEND_COUNT];
  const heads = Buffer.allocUnsafe(count * ENDPOINT_VALUE_HEAD_SIZE);
  const backends = Buffer.allocUnsafe(4 * backendCount);
  let b = 0;
  for (let i = 0; i < count; i++) {
    const v = i * EV.size;
    copyBytes(heads, i * ENDPOINT_VALUE_HEAD_SIZE, values, v, ENDPOINT_VALUE_HEAD_SIZE);
    const n = 4 * Math.min(values[v + BACKEND_COUNT], MAX_BACKENDS); // more is transitd's to refuse, never read past the value
    copyBytes(backends, b, values, v + EV.off.backends, n);
    b += n;
  }
  return { heads, backends: backends.subarray(0, b) };
}

/**
 * The values of `count` records in the kernel's layout, from their compact
 * form: a new buffer, the unused backend slots zero. INVALID_ARGUMENT when the
 * heads are not `count` heads, a record claims more than MAX_BACKENDS, or the
 * backends are not exactly those the heads count.
 */
export function expandEndpointValues(c: { heads: Uint8Array; backends: Uint8Array }, count: number): Buffer {
  const { heads, backends } = c;
  if (heads.length !== count * ENDPOINT_VALUE_HEAD_SIZE)
    throw invalid(`compact.heads: ${heads.length} bytes, want ${count} x ${ENDPOINT_VALUE_HEAD_SIZE}`);
  const values = Buffer.alloc(count * EV.size);
  let b = 0;
  for (let i = 0; i < count; i++) {
    const h = i * ENDPOINT_VALUE_HEAD_SIZE;
    const v = i * EV.size;
    copyBytes(values, v, heads, h, ENDPOINT_VALUE_HEAD_SIZE);
    const n = heads[h + BACKEND_COUNT];
    if (n === 0) continue;
    if (n > MAX_BACKENDS) throw invalid(`records[${i}].backends: at most ${MAX_BACKENDS}, got ${n}`);
    if (b + 4 * n > backends.length) throw invalid(`compact.backends: ${backends.length} bytes, fewer than the heads count`);
    copyBytes(values, v + EV.off.backends, backends, b, 4 * n);
    b += 4 * n;
  }
  if (b !== backends.length) throw invalid(`compact.backends: ${backends.length} bytes, the heads count ${b}`);
  return values;
}

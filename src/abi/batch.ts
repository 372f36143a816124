// The packed endpoint batch (proto EndpointBatch): struct endpoint_key[] and
// struct endpoint_value[] back to back, exactly as the kernel's batch update
// takes them. packEndpoints builds one; checkEndpointBatch checks one field by
// field without decoding it (a million records must stay cheap).
import { atField, invalid } from '../errors.js';
import { HostAddressCache, type EndpointKey, type EndpointRecord, decodeEndpoint, decodeEndpointKey, writeEndpoint, writeEndpointKey } from './codecs.js';
import { batchKeyCount } from './batch-compact.js';
import { EndpointType } from './enums.js';
import { ENDPOINT_KEY as EK, ENDPOINT_VALUE as EV } from './layout.js';
import { MAX_BACKENDS, MAX_VNI } from './limits.js';
import { NOT_UNICAST_TEXT, formatIpv4, isUnicastIpv4 } from '../util/addr.js';

export interface EndpointBatch { keys: Buffer; values: Buffer }

/** Many endpoints in the packed form transitd's PutEndpoints takes. */
export function packEndpoints(records: readonly EndpointRecord[]): EndpointBatch {
  const keys = Buffer.alloc(records.length * EK.size);
  const values = Buffer.alloc(records.length * EV.size);
  packEndpointsInto(records, 0, records.length, keys, values);
  return { keys, values };
}

/**
 * Packs records[from..to) into the start of keys/values (reused buffers: no
 * allocation per batch); returns the record count. The buffers must hold them.
 */
export function packEndpointsInto(records: readonly EndpointRecord[], from: number, to: number, keys: Buffer, values: Buffer): number {
  const count = to - from;
  if (keys.length < count * EK.size || values.length < count * EV.size) throw new RangeError(`packEndpointsInto: buffers too small for ${count} records`);
  values.fill(0, 0, count * EV.size); // writeEndpoint leaves unused backend slots as they are
  const hosts = new HostAddressCache();
  for (let i = 0; i < count; i++) {
    const r = records[from + i];
    try {
      writeEndpointKey(keys, i * EK.size, r.vni, r.ip);
      writeEndpoint(values, i * EV.size, r, hosts);
    } catch (err) {
      throw atField(err, `records[${from + i}]`);
    }
  }
  return count;
}

/** The big-endian u32 at off (an IPv4 address): byte loads, not a Buffer read per field. */
const be32 = (b: Buffer, off: number): number => ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;


/** Checks record i; throws INVALID_ARGUMENT naming it (the name is only built for an error). */
function checkRecord(keys: Buffer, values: Buffer, i: number): void {
  const k = i * EK.size;
  const v = i * EV.size;
  const vo = k + EK.off.vni;
  const vni = (keys[vo] | (keys[vo + 1] << 8) | (keys[vo + 2] << 16) | (keys[vo + 3] << 24)) >>> 0;
  if (vni < 1 || vni > MAX_VNI) throw invalid(`records[${i}].vni: ${vni} is not a VNI (1..${MAX_VNI})`);
  const ip = be32(keys, k + EK.off.ip);
  if (!isUnicastIpv4(ip)) throw invalid(`records[${i}].ip: ${formatIpv4(ip)} is not an endpoint address (${NOT_UNICAST_TEXT})`);
  const type = values[v + EV.off.type];
  if (type > EndpointType.GATEWAY) throw invalid(`records[${i}].type: ${type} is not an endpoint type`);
  const backends = values[v + EV.off.backend_count];
  if (backends > MAX_BACKENDS) throw invalid(`records[${i}].backends: at most ${MAX_BACKENDS}, got ${backends}`);
  if ((type === EndpointType.SCALED) !== (backends > 0))
    throw invalid(`records[${i}].backends: a scaled endpoint needs backends, and only a scaled endpoint has them`);
  if (values[v + EV.off.mac] & 1) throw invalid(`records[${i}].mac: a multicast MAC`);
  // The rules of the per-record path (validate.ts endpointRecord): a scaled endpoint lives on no host (0.0.0.0) or a unicast one.
  const host = be32(values, v + EV.off.host_ip);
  if (!isUnicastIpv4(host) && (type !== EndpointType.SCALED || host !== 0)) {
    throw invalid(`records[${i}].host_ip: ${formatIpv4(host)} is not a host (${NOT_UNICAST_TEXT})`);
  }
  if (values[v + EV.off.host_mac] & 1) throw invalid(`records[${i}].host_mac: a multicast MAC`);
  if (values[v + EV.off._pad] | values[v + EV.off._pad + 1]) throw invalid(`records[${i}]: its padding (bytes ${EV.off._pad}-${EV.off._pad + 1} of the value) must be zero`);
  if (backends > 0) checkBackends(values, v + EV.off.backends, backends, i);
}

/** A scaled endpoint's backends: unicast endpoint addresses, none twice (as validate.ts members()). */
function checkBackends(values: Buffer, off: number, count: number, i: number): void {
  for (let b = 0; b < count; b++) {
    const ip = be32(values, off + 4 * b);
    if (!isUnicastIpv4(ip)) throw invalid(`records[${i}].backends[${b}]: ${formatIpv4(ip)} is not an endpoint address (${NOT_UNICAST_TEXT})`);
    for (let a = 0; a < b; a++) {
      if (be32(values, off + 4 * a) === ip) throw invalid(`records[${i}].backends: ${formatIpv4(ip)} is listed twice`);
    }
  }
}

/**
 * Checks a whole packed batch: whole records, then each record field by field.
 * Returns the record count; throws INVALID_ARGUMENT naming the first bad field.
 */
export function checkEndpointBatch(keys: Buffer, values: Buffer): number {
  const count = batchKeyCount(keys);
  if (values.length !== count * EV.size) throw invalid(`values: ${values.length} bytes, want ${count} x ${EV.size}`);
  for (let i = 0; i < count; i++) checkRecord(keys, values, i);
  return count;
}

/** (vni, ip) of record i. */
export const batchEndpointKey = (keys: Buffer, i: number): EndpointKey => decodeEndpointKey(keys, i * EK.size);

/** host_ip of record i as a number (compare with parseIpv4: no string per record). */
export const batchEndpointHostIp = (values: Buffer, i: number): number => values.readUInt32BE(i * EV.size + EV.off.host_ip);

/** Sets hosted_ifindex of record i (transitd's to fill: the veth, if the endpoint lives on this host). */
export function setBatchHostedIfindex(values: Buffer, i: number, ifindex: number): void {
  const off = i * EV.size + EV.off.hosted_ifindex; // little-endian, byte by byte (once per record of every batch)
  if (off < 0 || off + 4 > values.length) throw new RangeError(`record ${i}: outside the batch`);
  values[off] = ifindex; values[off + 1] = ifindex >> 8; values[off + 2] = ifindex >> 16; values[off + 3] = ifindex >> 24;
}

/** hosted_ifindex of record i (-1: not attached on the host that filled it). */
export const batchHostedIfindex = (values: Buffer, i: number): number => values.readInt32LE(i * EV.size + EV.off.hosted_ifindex);

/** How many records a packed batch holds (its keys' length over the key size). */
export const batchCount = (batch: EndpointBatch): number => batch.keys.length / EK.size;

/** Record i of a packed batch, decoded. */
export const batchEndpoint = (batch: EndpointBatch, i: number): EndpointRecord =>
  decodeEndpoint(batch.keys.subarray(i * EK.size, (i + 1) * EK.size), batch.values.subarray(i * EV.size, (i + 1) * EV.size));

/**
 * Whether record i of a packed batch holds `r`'s value, hosted_ifindex aside
 * (the host fills that): `r` is packed into `scratch` (EV.size bytes, reused)
 * and the bytes compared, so a match decodes nothing and makes no strings.
 * The key is the caller's to match.
 */
export function batchValueIs(values: Buffer, i: number, r: EndpointRecord, scratch: Buffer): boolean {
  const off = i * EV.size;
  scratch.fill(0, 0, EV.size);
  writeEndpoint(scratch, 0, r);
  scratch.writeInt32LE(values.readInt32LE(off + EV.off.hosted_ifindex), EV.off.hosted_ifindex);
  return values.compare(scratch, 0, EV.size, off, off + EV.size) === 0;
}

/** The records of a packed batch, decoded (for tests and tools; transitd never decodes a batch). */
export function unpackEndpoints(batch: EndpointBatch): EndpointRecord[] {
  return Array.from({ length: batchCount(batch) }, (_, i) => batchEndpoint(batch, i));
}

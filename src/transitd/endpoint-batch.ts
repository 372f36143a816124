// PutEndpoints: many endpoint records in the kernel's own layout. Each record
// is checked field by field (INVALID_ARGUMENT names record and field), the
// ones hosted here get their veth's ifindex, and HostDataplane writes the set
// with one batch update it can undo. This is the path that makes a million
// endpoints take seconds.
import { XvpcError, invalid } from '../errors.js';
import { EndpointType, MAX_BACKENDS, SIZES } from '../dataplane/records.js';
import type { HostDataplane } from '../dataplane/host.js';
import { parseIpv4 } from '../util/addr.js';
import { MAX_VNI } from './validate.js';

const KEY = SIZES.endpoint_key;
const VALUE = SIZES.endpoint_value;

/** Checks record i; throws INVALID_ARGUMENT naming it. */
function checkRecord(keys: Buffer, values: Buffer, i: number): void {
  const k = i * KEY;
  const v = i * VALUE;
  const where = `records[${i}]`;
  const vni = keys.readUInt32LE(k);
  if (vni < 1 || vni > MAX_VNI) throw invalid(`${where}.vni: ${vni} is not a VNI (1..${MAX_VNI})`);
  if (keys.readUInt32BE(k + 4) === 0) throw invalid(`${where}.ip: 0.0.0.0 is not an endpoint address`);
  const type = values[v];
  if (type > EndpointType.GATEWAY) throw invalid(`${where}.type: ${type} is not an endpoint type`);
  const backends = values[v + 1];
  if (backends > MAX_BACKENDS) throw invalid(`${where}.backends: at most ${MAX_BACKENDS}, got ${backends}`);
  if ((type === EndpointType.SCALED) !== (backends > 0))
    throw invalid(`${where}.backends: a scaled endpoint needs backends, and only a scaled endpoint has them`);
  if (values[v + 2] & 1) throw invalid(`${where}.mac: a multicast MAC`);
  if (type !== EndpointType.SCALED) {
    if (values.readUInt32BE(v + 8) === 0) throw invalid(`${where}.host_ip: 0.0.0.0 is not a host`);
    if (values[v + 12] & 1) throw invalid(`${where}.host_mac: a multicast MAC`);
  }
  for (let b = 0; b < backends; b++) {
    if (values.readUInt32BE(v + 28 + 4 * b) === 0) throw invalid(`${where}.backends[${b}]: 0.0.0.0 is not an endpoint`);
  }
}

export async function putEndpointBatch(dp: HostDataplane, hostIp: string, keysIn: Buffer, valuesIn: Buffer): Promise<number> {
  if (keysIn.length % KEY !== 0) throw invalid(`keys: ${keysIn.length} bytes is not a whole number of ${KEY}-byte keys`);
  const count = keysIn.length / KEY;
  if (valuesIn.length !== count * VALUE) throw invalid(`values: ${valuesIn.length} bytes, want ${count} x ${VALUE}`);
  if (count === 0) return 0;
  // Our own copies: hosted_ifindex is rewritten below.
  const keys = Buffer.from(keysIn);
  const values = Buffer.from(valuesIn);
  for (let i = 0; i < count; i++) checkRecord(keys, values, i);

  const here = parseIpv4(hostIp, 'host ip');
  const hosted = dp.hostedIfindexes();
  for (let i = 0; i < count; i++) {
    let ifindex = -1;
    if (values.readUInt32BE(i * VALUE + 8) === here && hosted.size > 0) {
      const ip = keys.subarray(i * KEY + 4, i * KEY + 8).join('.');
      ifindex = hosted.get(`${keys.readUInt32LE(i * KEY)}/${ip}`) ?? -1;
    }
    values.writeInt32LE(ifindex, i * VALUE + 20);
  }

  try {
    await dp.putEndpointsPacked(keys, values, count);
  } catch (err) {
    throw new XvpcError('INTERNAL', `endpoint batch not applied (rolled back): ${(err as Error).message}`);
  }
  return count;
}

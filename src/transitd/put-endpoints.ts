// PutEndpoints: many endpoint records, in the kernel's own layout once a
// compact request is expanded (src/abi/batch-compact.ts). The batch is
// checked field by field (src/abi/batch.ts: INVALID_ARGUMENT names record and
// field), the ones hosted here get their veth's ifindex, and HostDataplane
// writes the set with one batch update it can undo. This is the path that
// makes a million endpoints take seconds.
import { invalid } from '../errors.js';
import { notAppliedError } from './map-full.js';
import {
  ENDPOINT_KEY, ENDPOINT_VALUE, batchEndpointHostIp, batchEndpointKey, batchKeyCount, checkEndpointBatch, endpointRecordKey, expandEndpointValues,
  setBatchHostedIfindex,
} from '../abi/index.js';
import type { EndpointBatchPlan, HostDataplane } from '../dataplane/host.js';
import { parseIpv4 } from '../util/addr.js';

/**
 * A request's values in the kernel's layout: its compact form expanded (a new
 * buffer: the wire form leaves the empty backend slots out), or its `values`
 * as a view. INVALID_ARGUMENT when it carries both forms, a compact form that
 * does not match its keys, or more records than `maxMessageBytes` holds in the
 * kernel's layout (the expanded batch is 2.6x the request: without this bound
 * a 64 MiB request would become 170 MB, before the queue).
 */
export function endpointBatchValues(keys: Buffer, m: { values: Uint8Array; compact?: { heads: Uint8Array; backends: Uint8Array } },
  maxMessageBytes: number): Buffer {
  if (!m.compact) return Buffer.from(m.values.buffer, m.values.byteOffset, m.values.byteLength);
  if (m.values.length > 0) throw invalid('values and compact: a batch carries its values in one form, not both');
  const count = batchKeyCount(keys);
  const most = Math.floor(maxMessageBytes / (ENDPOINT_KEY.size + ENDPOINT_VALUE.size));
  if (count > most) throw invalid(`keys: ${count} records, more than the ${most} one call may carry (what ${maxMessageBytes} bytes hold in the kernel's layout)`);
  return expandEndpointValues(m.compact, count);
}

/**
 * Checks and applies one batch. keys/values become transitd's: hosted_ifindex
 * is written into `values` in place and both are handed to the kernel as they
 * are (no copy of a 100 MB batch); the caller must not use them again.
 */
export async function putEndpointBatch(dp: HostDataplane, hostIp: string, keys: Buffer, values: Buffer): Promise<number> {
  return applyEndpointBatch(dp, hostIp, keys, values, checkEndpointBatch(keys, values));
}

/**
 * Applies a batch checkEndpointBatch passed (count: its answer). The check
 * reads only the request, so transitd runs it outside its one-at-a-time
 * queue, while the kernel still writes the batch before; so does the plan
 * (HostDataplane.planEndpoints: which records are new), made in arrival order.
 */
export async function applyEndpointBatch(dp: HostDataplane, hostIp: string, keys: Buffer, values: Buffer, count: number,
  plan?: EndpointBatchPlan): Promise<number> {
  if (count === 0) return 0;

  const here = parseIpv4(hostIp, 'host ip');
  const hosted = dp.hostedIfindexes();
  for (let i = 0; i < count; i++) {
    let ifindex = -1;
    if (hosted.size > 0 && batchEndpointHostIp(values, i) === here) {
      ifindex = hosted.get(endpointRecordKey(batchEndpointKey(keys, i))) ?? -1;
    }
    setBatchHostedIfindex(values, i, ifindex);
  }

  try {
    await dp.putEndpointsPacked(keys, values, count, plan);
  } catch (err) {
    throw notAppliedError(err, 'endpoint batch not applied (rolled back)');
  }
  return count;
}

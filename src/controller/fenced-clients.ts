// Host writes only while this controller leads. The store refuses a deposed
// leader's commits (etcd compares the leader key), but hosts take whatever
// they are sent: a leader that lost its lease in the middle of a call (paused,
// cut off from etcd) must not go on programming them against what the new
// leader writes. Two fences: every transitd call that changes a host is
// checked here first (reads, Health, Get*, Dump, stats, are not, so a standby
// still looks); and every call carries the store's fence (its epoch, and an
// etcd leader's term), so the host itself refuses a change from a leadership
// older than one it has heard, or from another store (src/transitd/fence.ts):
// that covers a call already past this check when the lease ended.
import { XvpcError } from '../errors.js';
import type { CallOpts, FenceToken, TransitdClient } from '../transitd/client.js';

/** The transitd calls that change nothing on the host. */
const READS = new Set(['health', 'getStats', 'getMapUsage', 'getVpc', 'getNetwork', 'getEndpoint', 'getSubstrate', 'getSecurityGroup',
  'getSecurityAttachment', 'dump', 'dumpPacked', 'getFailedCalls', 'close', 'name']);

/** Whether this controller leads now, and its leadership when leaders take turns (etcd; none for a store of one controller). */
export interface LeaseNow { leading: boolean; fence?: FenceToken }

/**
 * `client` with every host-changing call refused (UNAVAILABLE, nothing sent)
 * unless `lease()` says this controller leads at the moment of the call, and
 * every call made while it leads carrying its leadership.
 */
export function fencedClient(client: TransitdClient, lease: () => LeaseNow): TransitdClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || prop === 'close') return value;
      const read = READS.has(prop);
      return (req: unknown, opts: CallOpts = {}) => {
        const now = lease();
        if (!now.leading && !read) {
          return Promise.reject(new XvpcError('UNAVAILABLE', `host ${target.name}: this controller no longer leads (its lease ended), `
            + `so it changes no host (${prop} not sent); the leader does`));
        }
        const fence = now.leading ? now.fence : undefined;
        return (value as (r: unknown, o: CallOpts) => unknown).call(target, req, fence === undefined ? opts : { ...opts, fence });
      };
    },
  });
}

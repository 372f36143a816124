// Host writes only while this controller leads. The store refuses a deposed
// leader's commits (etcd compares the leader key), but hosts take whatever
// they are sent: a leader that lost its lease in the middle of a call (paused,
// cut off from etcd) must not go on programming them against what the new
// leader writes. Every transitd call that changes a host is checked first;
// reads (Health, Get*, Dump, stats) are not, so a standby still looks.
import { XvpcError } from '../errors.js';
import type { TransitdClient } from '../transitd/client.js';

/** The transitd calls that change nothing on the host. */
const READS = new Set(['health', 'getStats', 'getMapUsage', 'getVpc', 'getNetwork', 'getEndpoint', 'getSubstrate', 'getSecurityGroup',
  'getSecurityAttachment', 'dump', 'dumpPacked', 'getFailedCalls', 'close', 'name']);

/**
 * `client` with every host-changing call refused (UNAVAILABLE, nothing sent)
 * unless `leads()` says this controller leads at the moment of the call.
 */
export function fencedClient(client: TransitdClient, leads: () => boolean): TransitdClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || READS.has(prop)) return value;
      return (...args: unknown[]) => {
        if (!leads()) {
          return Promise.reject(new XvpcError('UNAVAILABLE', `host ${target.name}: this controller no longer leads (its lease ended), `
            + `so it changes no host (${prop} not sent); the leader does`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

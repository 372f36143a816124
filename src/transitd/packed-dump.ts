// DumpPacked's messages (proto/transit.proto): how transitd splits what it
// dumps into messages that each fit the size limit, and how the client joins
// them again; and the same answer made from a Dump, for a transitd from
// before DumpPacked.
import { ENDPOINT_KEY, ENDPOINT_VALUE, packEndpoints, type EndpointRecord } from '../abi/index.js';
import type { EndpointKey, GoalState, PackedDump } from '../gen/transit.js';

/**
 * DumpPacked's messages: `records`, the endpoints attached here and the first
 * `chunk` endpoints, then `chunk` endpoints each (views, no copy).
 */
export function packedDumpMessages(records: GoalState, endpoints: { keys: Buffer; values: Buffer }, chunk: number,
  attached: EndpointKey[]): PackedDump[] {
  const count = endpoints.keys.length / ENDPOINT_KEY.size;
  const out: PackedDump[] = [];
  for (let first = 0; first === 0 || first < count; first += chunk) {
    const last = Math.min(first + chunk, count);
    out.push({
      records: first === 0 ? records : undefined,
      attached: first === 0 ? attached : [],
      attachedKnown: first === 0,
      endpoints: {
        keys: endpoints.keys.subarray(first * ENDPOINT_KEY.size, last * ENDPOINT_KEY.size),
        values: endpoints.values.subarray(first * ENDPOINT_VALUE.size, last * ENDPOINT_VALUE.size),
      },
    });
  }
  return out;
}

/** DumpPacked's messages joined: the first one's records, all their endpoints in one batch. */
export function joinPackedDump(messages: readonly PackedDump[]): PackedDump {
  if (messages.length === 1) return messages[0]; // most hosts: nothing to copy
  const first = messages.find((m) => m.records);
  const part = (f: 'keys' | 'values') => Buffer.concat(messages.map((m) => m.endpoints?.[f] ?? Buffer.alloc(0)));
  return { records: first?.records, endpoints: { keys: part('keys'), values: part('values') },
    attached: first?.attached ?? [], attachedKnown: first?.attachedKnown ?? false };
}

/** A Dump's answer in DumpPacked's shape (for a transitd from before DumpPacked). */
export function packDump(dump: GoalState): PackedDump {
  // The generated enum type differs from abi's only by its UNRECOGNIZED member, which packing refuses.
  const endpoints = dump.endpoints.map((e) => ({ ...e, type: e.type as number as EndpointRecord['type'] }));
  return { records: { ...dump, endpoints: [] }, endpoints: packEndpoints(endpoints), attached: [], attachedKnown: false };
}


// What one client can make transitd spend: message sizes, calls in flight,
// streams per connection, idle connections. Also the decoding of requests:
// grpc-js answers INTERNAL when a deserializer throws, so transitd decodes
// tolerantly and the handler answers INVALID_ARGUMENT instead.
import type * as grpc from '@grpc/grpc-js';
import { ENDPOINT_KEY, ENDPOINT_VALUE } from '../abi/index.js';

export interface Limits {
  /** the largest request or reply, in bytes (64 MiB: ~670k endpoints packed in the kernel's layout, as DumpPacked answers; PutEndpoints takes no more records per call than that) */
  maxMessageBytes: number;
  /** calls being served at once, over all connections; more get RESOURCE_EXHAUSTED */
  maxCallsInFlight: number;
  /** HTTP/2 streams one connection may hold open */
  maxStreamsPerConnection: number;
  /** a connection with no call for this long is closed */
  idleConnectionMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 64 * 1024 * 1024,
  maxCallsInFlight: 64,
  maxStreamsPerConnection: 32,
  idleConnectionMs: 5 * 60_000,
};

/**
 * Packed endpoint records one PutEndpoints call of the Controller carries: half
 * the message limit (room for the protobuf framing), so a million changed
 * endpoints go as several calls.
 */
export const MAX_ENDPOINTS_PER_PUT = endpointsPerMessage(DEFAULT_LIMITS.maxMessageBytes);

/** Packed endpoint records that fit a message of `maxMessageBytes` with room to spare (half of it). */
export function endpointsPerMessage(maxMessageBytes: number): number {
  return Math.floor(maxMessageBytes / 2 / (ENDPOINT_KEY.size + ENDPOINT_VALUE.size));
}

/**
 * Endpoint records per DumpPacked message unless the caller asks otherwise:
 * 10 MB each, so a million endpoints come as ten messages, each far below the
 * size limit, and the first one arrives before the last is encoded.
 */
export const DEFAULT_DUMP_ENDPOINTS_PER_MESSAGE = 100_000;

/** Endpoints one AttachEndpoints call may carry (the Controller sends at most this many per call). */
export const MAX_ATTACH_PER_CALL = 4096;

/** grpc-js server options enforcing `l`. */
export function serverOptions(l: Limits): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': l.maxMessageBytes,
    'grpc.max_send_message_length': l.maxMessageBytes,
    'grpc.max_concurrent_streams': l.maxStreamsPerConnection,
    'grpc.max_connection_idle_ms': l.idleConnectionMs,
    // Dead peers are found and their connections freed.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
  };
}

/** What a request becomes when its bytes are not a valid message. */
export class Undecodable {
  constructor(readonly method: string, readonly reason: string) {}
}

/** The service definition with every request deserializer made total: failures become an Undecodable. */
export function tolerantDefinition<D extends grpc.ServiceDefinition>(def: D): D {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def)) {
    out[name] = {
      ...m,
      requestDeserialize: (buf: Buffer) => {
        try {
          return m.requestDeserialize(buf);
        } catch (err) {
          return new Undecodable(name, err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return out as D;
}

/** Counts calls in flight against a limit. */
export class CallGate {
  private inFlight = 0;
  constructor(private readonly max: number) {}
  /** false: the limit is reached, refuse the call */
  enter(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }
  leave(): void { this.inFlight--; }
  get current(): number { return this.inFlight; }
}

// A promise-based client of one transitd. gRPC failures become XvpcErrors with
// the same code and the daemon's message, prefixed with the host's name. The
// controller's one door to transitd: it imports this file and src/abi only.
import * as grpc from '@grpc/grpc-js';
import { XvpcError, type XvpcErrorCode } from '../errors.js';
import { DEFAULT_LIMITS } from './limits.js';

export { MAX_ATTACH_PER_CALL, MAX_ENDPOINTS_PER_PUT } from './limits.js';
import { clientCredentials, type TlsFiles } from './tls.js';
import { TransitService, type TransitClient as GrpcClient } from '../gen/transit.js';
import { encodeEndpointBatch } from './batch-wire.js';
import type { DumpPackedRequest, GoalState, PackedDump } from '../gen/transit.js';
import { joinPackedDump, packDump } from './packed-dump.js';
import { FENCE_HEADER, fenceText, type FenceToken } from './fence.js';

export { isEpoch, type FenceToken } from './fence.js';

/** Per call: its deadline (ms from now), and the fence of the controller making it (fence.ts: its store's epoch, an etcd leader's term). */
export interface CallOpts { timeoutMs?: number; fence?: FenceToken }

/** The generated client, with PutEndpoints' request encoded by batch-wire.ts (the values compact, in one allocation). */
const GrpcTransitClient = grpc.makeGenericClientConstructor({
  ...TransitService, putEndpoints: { ...TransitService.putEndpoints, requestSerialize: encodeEndpointBatch },
}, 'xvpc.Transit') as unknown as new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>) => GrpcClient;

/** The messages a client sends and receives (proto/transit.proto). */
export type {
  AttachEndpointReply, AttachEndpointRequest, AttachEndpointsReply, AttachEndpointsRequest, DumpPackedRequest, Endpoint, EndpointBatch, EndpointKey, GoalState, HealthReply, HostCacheFlush, Network, PackedDump,
  NetworkKey, SecurityAttachment, SecurityGroup, SecurityGroupKey, SecurityRule, StatsReply, Substrate, SubstrateKey, Vpc, VpcKey,
} from '../gen/transit.js';

const CODE_NAMES: Partial<Record<grpc.status, XvpcErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [grpc.status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'UNAVAILABLE',
  [grpc.status.RESOURCE_EXHAUSTED]: 'UNAVAILABLE',
};

type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>,
  cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;
type Methods = {
  [K in keyof GrpcClient as GrpcClient[K] extends Unary<any, any> ? K : never]:
    GrpcClient[K] extends Unary<infer Req, infer Res> ? (req: Req, opts?: CallOpts) => Promise<Res> : never;
};

export type TransitdClient = Omit<Methods, 'dumpPacked'> & {
  /**
   * DumpPacked's stream read whole: `records`, and every endpoint record
   * packed in one batch. A transitd from before DumpPacked (UNIMPLEMENTED) is
   * asked for its Dump instead, its endpoints packed here: the same answer.
   */
  dumpPacked(req?: Partial<DumpPackedRequest>, opts?: CallOpts): Promise<PackedDump>;
  close(): void;
  readonly name: string;
};

/** What a transitd from before the compact PutEndpoints form answers every batch of this client (its values field is empty). */
const PRE_COMPACT_REFUSAL = /^values: 0 bytes, want [1-9]\d* x \d+$/;

/**
 * grpc-js's words for a transitd it cannot reach ("No connection established.
 * Last error: Error: connect ECONNREFUSED /run/... Resolution note: "), said
 * plainly: what the connection attempt met. Other details as they are.
 */
export function unreachableDetails(details: string): string {
  const m = /^No connection established\. Last error: (?:Error: )?(.*?)\.?(?: Resolution note: ?(.*))?(?: \(\d{4}-\d\d-\d\dT[\d:.]+Z\))?$/s.exec(details);
  if (!m) return details;
  return `transitd does not answer (${m[1]}${m[2] ? `; ${m[2]}` : ''})`;
}

/** How long a call that found no connection waits for one before its one retry. */
const RECONNECT_WAIT_MS = 1500;

/** UNAVAILABLE before anything was sent: the channel had no connection (grpc-js's words). */
const notConnected = (err: grpc.ServiceError): boolean =>
  err.code === grpc.status.UNAVAILABLE && /^No connection established/.test(err.details ?? '');

/** A gRPC failure as the XvpcError the client throws. */
function clientError(name: string, err: grpc.ServiceError): XvpcError {
  const details = unreachableDetails(err.details || err.message);
  const advice = PRE_COMPACT_REFUSAL.test(details) ? ' (a transitd older than this client: upgrade transitd first, docs/deploy.md)' : '';
  return new XvpcError(CODE_NAMES[err.code as grpc.status] ?? 'INTERNAL', `${name}: ${details}${advice}`);
}

/**
 * A client of the transitd at `address`: unix:// (local, root-only socket) or
 * ADDR:PORT with `tls`, the controller's certificate and the CA (the server's
 * certificate must name `name`).
 */
export function connectTransitd(name: string, address: string, defaultTimeoutMs = 30_000, tls?: TlsFiles): TransitdClient {
  const sizes = { 'grpc.max_send_message_length': DEFAULT_LIMITS.maxMessageBytes, 'grpc.max_receive_message_length': DEFAULT_LIMITS.maxMessageBytes };
  // A restarted transitd is found again within a second (grpc-js would back off to 2 minutes).
  const reconnect = { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 };
  const secure = tls ? clientCredentials(tls, name) : undefined;
  const raw = new GrpcTransitClient(address, secure?.credentials ?? grpc.credentials.createInsecure(), { ...sizes, ...reconnect, ...secure?.options });
  const deadline = (opts: CallOpts) => new Date(Date.now() + (opts.timeoutMs ?? defaultTimeoutMs));
  const metadata = (opts: CallOpts) => {
    const m = new grpc.Metadata();
    if (opts.fence !== undefined) m.set(FENCE_HEADER, fenceText(opts.fence));
    return m;
  };
  // A call that found no connection was never sent: it waits once for the channel (a transitd just
  // restarted, while the channel still backs off) and is made again; it cannot be applied twice.
  const retried = (until: Date, attempt: (last: boolean) => void, err: grpc.ServiceError, last: boolean): boolean => {
    if (last || !notConnected(err)) return false;
    raw.waitForReady(new Date(Math.min(until.getTime(), Date.now() + RECONNECT_WAIT_MS)), () => attempt(true));
    return true;
  };
  const unaryCall = (method: Function, req: unknown, opts: CallOpts) =>
    new Promise((resolve, reject) => {
      const until = deadline(opts);
      const attempt = (last: boolean) => method.call(raw, req, metadata(opts), { deadline: until }, (err: grpc.ServiceError | null, res: unknown) => {
        if (err && retried(until, attempt, err, last)) return;
        if (err) reject(clientError(name, err));
        else resolve(res);
      });
      attempt(false);
    });
  const dumpPacked = (req: Partial<DumpPackedRequest> = {}, opts: CallOpts = {}): Promise<PackedDump> =>
    new Promise<PackedDump[]>((resolve, reject) => {
      const until = deadline(opts);
      const attempt = (last: boolean) => {
        const messages: PackedDump[] = [];
        let failed = false; // a failed stream may still end: that is no answer
        const stream = raw.dumpPacked({ endpointsPerMessage: 0, ...req }, metadata(opts), { deadline: until });
        stream.on('data', (m: PackedDump) => messages.push(m));
        stream.on('error', (err: grpc.ServiceError) => {
          failed = true;
          if (!retried(until, attempt, err, last)) reject(err);
        });
        stream.on('end', () => { if (!failed) resolve(messages); });
      };
      attempt(false);
    }).then(joinPackedDump, async (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.UNIMPLEMENTED) throw clientError(name, err);
      return packDump(await unaryCall(raw.dump, {}, opts) as GoalState);
    });
  return new Proxy({} as TransitdClient, {
    get(_target, prop: string) {
      if (prop === 'close') return () => raw.close();
      if (prop === 'name') return name;
      if (prop === 'dumpPacked') return dumpPacked;
      if (prop === 'then') return undefined; // not a thenable
      const method = (raw as any)[prop];
      if (typeof method !== 'function') return undefined;
      return (req: unknown, opts: CallOpts = {}) => unaryCall(method, req, opts);
    },
  });
}

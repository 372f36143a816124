// DumpPacked as a stream (src/transitd/packed-dump.ts, client.ts): transitd
// splits the dump into messages of at most N endpoint records, the client
// joins them back byte for byte; a transitd from before DumpPacked
// (UNIMPLEMENTED) is asked for its Dump instead and the answer has the same
// shape. Real gRPC over a unix socket, served by a grpc-js server with the
// generated service definition (no kernel, no root).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ENDPOINT_KEY, ENDPOINT_VALUE, EndpointType, packEndpoints, unpackEndpoints, type EndpointRecord } from '../../src/abi/index.js';
import { TransitService as TransitServiceDef, type GoalState, type PackedDump } from '../../src/gen/transit.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { joinPackedDump, packDump, packedDumpMessages } from '../../src/transitd/packed-dump.js';

const noRecords = (): GoalState => ({
  substrate: [], vpcs: [], networks: [], endpoints: [],
  deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
  securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
});

const endpoint = (i: number): EndpointRecord => ({
  vni: 7, ip: `10.7.${i >> 8}.${i & 255}`, type: EndpointType.SIMPLE, mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
  hostIp: '172.30.0.9', hostMac: '02:00:00:00:00:09', netId: 1, backends: [], hostedIfindex: i % 3 === 0 ? 40 + i : -1,
});

const records = (): GoalState => ({ ...noRecords(), substrate: [{ ip: '172.30.0.9', mac: '02:00:00:00:00:09' }], vpcs: [{ vni: 7, routers: [], directPath: true }] });

describe('packedDumpMessages / joinPackedDump', () => {
  it.each([0, 1, 5, 6, 7, 13])('%i endpoints in messages of 3: records in the first only, every record once, in order', (count) => {
    const batch = packEndpoints(Array.from({ length: count }, (_, i) => endpoint(i)));
    const attached = [{ vni: 7, ip: '10.0.0.1' }, { vni: 7, ip: '10.0.0.9' }];
    const messages = packedDumpMessages(records(), batch, 3, attached);
    expect(messages.length).toBe(Math.max(1, Math.ceil(count / 3)));
    expect(messages[0].records).toEqual(records());
    expect(messages[0]).toMatchObject({ attached, attachedKnown: true });
    expect(messages.slice(1).every((m) => m.records === undefined && m.attached.length === 0 && !m.attachedKnown)).toBe(true);
    expect(messages.every((m) => m.endpoints!.keys.length <= 3 * ENDPOINT_KEY.size && m.endpoints!.values.length <= 3 * ENDPOINT_VALUE.size)).toBe(true);
    const joined = joinPackedDump(messages);
    expect(joined.records).toEqual(records());
    expect(joined).toMatchObject({ attached, attachedKnown: true });
    expect(Buffer.from(joined.endpoints!.keys).equals(batch.keys)).toBe(true);
    expect(Buffer.from(joined.endpoints!.values).equals(batch.values)).toBe(true);
  });

  it('packDump: a Dump answer in the same shape, endpoints packed with their hosted ifindex', () => {
    const eps = [endpoint(1), endpoint(3)];
    const packed = packDump({ ...records(), endpoints: eps });
    expect(packed.records).toEqual(records());
    expect(packed.attachedKnown).toBe(false); // a Dump does not say: observe.ts goes by the records' hosted ifindex
    expect(unpackEndpoints({ keys: Buffer.from(packed.endpoints!.keys), values: Buffer.from(packed.endpoints!.values) })).toEqual(eps);
  });
});

describe('connectTransitd().dumpPacked over gRPC', () => {
  let server: grpc.Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.tryShutdown(() => r()) : r()));
    server = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A transitd stand-in serving only `impl` (every other method answers UNIMPLEMENTED). */
  async function serve(impl: grpc.UntypedServiceImplementation): Promise<string> {
    dir = mkdtempSync(join(tmpdir(), 'xvpc-dump-'));
    const socket = `unix://${join(dir, 't.sock')}`;
    server = new grpc.Server();
    server.addService(TransitServiceDef, impl);
    await new Promise<void>((resolve, reject) => server!.bindAsync(socket, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    return socket;
  }

  it('joins a stream of several messages; asks for the size the caller gave', async () => {
    const batch = packEndpoints(Array.from({ length: 10 }, (_, i) => endpoint(i)));
    const asked: number[] = [];
    const address = await serve({
      dumpPacked: (call: grpc.ServerWritableStream<{ endpointsPerMessage: number }, PackedDump>) => {
        asked.push(call.request.endpointsPerMessage);
        for (const m of packedDumpMessages(records(), batch, 4, [])) call.write(m);
        call.end();
      },
    });
    const t = connectTransitd('t', address);
    try {
      const got = await t.dumpPacked({ endpointsPerMessage: 4 });
      expect(asked).toEqual([4]);
      expect(got.records).toEqual(records());
      expect(Buffer.from(got.endpoints!.keys).equals(batch.keys)).toBe(true);
      expect(Buffer.from(got.endpoints!.values).equals(batch.values)).toBe(true);
    } finally {
      t.close();
    }
  });

  it('a transitd without DumpPacked: its Dump, packed the same way', async () => {
    const eps = [endpoint(2), endpoint(5)];
    let dumps = 0;
    const address = await serve({
      dump: (_call: grpc.ServerUnaryCall<unknown, GoalState>, cb: grpc.sendUnaryData<GoalState>) => { dumps++; cb(null, { ...records(), endpoints: eps }); },
    });
    const t = connectTransitd('t', address);
    try {
      const got = await t.dumpPacked();
      expect(dumps).toBe(1);
      expect(got.records).toEqual(records());
      expect(unpackEndpoints({ keys: Buffer.from(got.endpoints!.keys), values: Buffer.from(got.endpoints!.values) })).toEqual(eps);
    } finally {
      t.close();
    }
  });

  it('an error from the stream is an XvpcError with its code and the host name', async () => {
    const address = await serve({
      dumpPacked: (call: grpc.ServerWritableStream<unknown, PackedDump>) => {
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'endpointsPerMessage: too many' });
      },
    });
    const t = connectTransitd('t', address);
    try {
      await expect(t.dumpPacked({ endpointsPerMessage: 1 << 30 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 't: endpointsPerMessage: too many' });
    } finally {
      t.close();
    }
  });
});

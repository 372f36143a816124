// EndpointBatchSender against a real transitd: records packed into shared
// memory and sent from a worker thread as PutEndpoints calls of `chunk`
// records land exactly in the host's endpoints map; a chunk transitd refuses
// is refused whole and named by its record range; a closed sender refuses.
// The sender runs from dist/ (its worker thread is the compiled module).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointBatchSender } from '../../dist/transitd/batch-sender.js';
import { XvpcError } from '../../dist/errors.js';
import { connectTransitd, type TransitdClient } from '../../src/transitd/client.js';
import { XvpcError as SrcXvpcError } from '../../src/errors.js';
import { EndpointType, type EndpointRecord } from '../../src/abi/index.js';
import { PinnedMap } from '../../src/dataplane/bpf.js';
import type { Droplet } from '../../src/droplet/index.js';
import { destroyDroplets, expectFailedCalls, makeDroplets } from './lib.js';

const VNI = 63;
const rec = (i: number, mac = '0e:3f:00:00:00:01'): EndpointRecord => ({
  vni: VNI, ip: `10.63.${(i >> 8) & 255}.${i & 255}`, type: EndpointType.SIMPLE, mac, hostIp: `172.30.9.${(i % 7) + 2}`,
  hostMac: '0a:00:00:00:09:09', netId: 1, backends: [], hostedIfindex: 0,
});
const range = (from: number, n: number, f = rec) => Array.from({ length: n }, (_, i) => f(from + i));

async function refusal(p: Promise<unknown>): Promise<XvpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a rejection').toBeInstanceOf(XvpcError);
  return err as XvpcError;
}

/** The same for errors of the src/ client (its own XvpcError class). */
async function refusalOf(p: Promise<unknown>): Promise<SrcXvpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a rejection').toBeInstanceOf(SrcXvpcError);
  return err as SrcXvpcError;
}

describe('EndpointBatchSender', () => {
  let droplets: Record<string, Droplet>;
  let transitd: TransitdClient;
  let sender: EndpointBatchSender;
  const mapCount = () => {
    const m = PinnedMap.open(`${droplets.h1.pinRoot}/endpoints`);
    try { return m.keys().length; } finally { m.close(); }
  };

  beforeAll(async () => {
    droplets = await makeDroplets(['h1'], 'bs');
    transitd = connectTransitd('h1', droplets.h1.transitdAddress);
    sender = new EndpointBatchSender('h1', droplets.h1.transitdAddress, { chunk: 1000, window: 2 });
    await sender.ready();
  });

  afterAll(async () => {
    await sender?.close();
    transitd?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('puts records in chunks, every one exactly as sent; again is harmless', async () => {
    const records = range(1, 4321); // 4 full chunks and a short one, two in flight
    expect(mapCount()).toBe(0);
    expect(await sender.put(records)).toBe(4321);
    expect(mapCount()).toBe(4321);
    for (const i of [0, 999, 1000, 2001, 4320]) {
      const r = records[i];
      expect(await transitd.getEndpoint({ vni: VNI, ip: r.ip })).toMatchObject({ ip: r.ip, hostIp: r.hostIp, mac: r.mac, hostedIfindex: -1 });
    }
    expect(await sender.put(records)).toBe(4321);
    expect(mapCount()).toBe(4321);
  });

  it('a chunk transitd refuses changes nothing of it, stops the rest, and is named by its records', async () => {
    const before = mapCount();
    // records 5000.. : chunk 0 (5000..5999) is fine, chunk 1 (6000..6999) has a multicast MAC at 6500, chunk 2 is
    // never sent (one call in flight, so the refusal comes before chunk 2 would be packed)
    const records = range(5000, 3000, (i) => rec(i, i === 6500 ? '01:3f:00:00:00:01' : '0e:3f:00:00:00:01'));
    const one = new EndpointBatchSender('h1', droplets.h1.transitdAddress, { chunk: 1000, window: 1 });
    expectFailedCalls(droplets.h1, 1);
    const err = await refusal(one.put(records)).finally(() => one.close());
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/^records 1000\.\.1999 \(one PutEndpoints call, refused whole\): h1: records\[500\]\.mac: a multicast MAC/);
    // Chunk 0 went in; not one record of the refused chunk or after it did.
    expect(mapCount()).toBe(before + 1000);
    expect(await transitd.getEndpoint({ vni: VNI, ip: records[999].ip })).toMatchObject({ ip: records[999].ip });
    expectFailedCalls(droplets.h1, 5); // the five lookups below
    for (const i of [1000, 1500, 1999, 2000, 2999]) {
      expect((await refusalOf(transitd.getEndpoint({ vni: VNI, ip: records[i].ip }))).code).toBe('NOT_FOUND');
    }
  });

  it('a record that cannot be packed is named and nothing of its chunk is sent', async () => {
    const before = mapCount();
    const records = range(9000, 10);
    records[3] = { ...records[3], hostIp: '172.30.9.300' };
    const err = await refusal(sender.put(records));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe("records[3].hostIp: '172.30.9.300' is not an IPv4 address");
    expect(mapCount()).toBe(before);
  });

  it('refuses to send once closed', async () => {
    const s = new EndpointBatchSender('h1', droplets.h1.transitdAddress, { chunk: 10 });
    await s.ready();
    await s.close();
    const err = await refusal(s.put(range(9100, 5)));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toBe('h1: batch sender closed');
  });
});

// transitd's packed endpoint path against a real (small) map: new records on
// the fast path, existing ones overwritten, and a batch the kernel refuses
// half-way (the map fills up) put back exactly as it was; a large batch of
// distinct keys written by several kernel threads at once, and one with a key
// twice written in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDataplane } from '../src/dataplane/host.js';
import { EndpointType, checkEndpointBatch, packEndpoints, unpackEndpoints, type EndpointRecord } from '../src/abi/index.js';
import { applyEndpointBatch, putEndpointBatch } from '../src/transitd/put-endpoints.js';
import { XvpcError } from '../src/errors.js';
import { batchParts, writeThreads } from '../src/dataplane/parallel-write.js';
import { openDataplane } from './xdp/harness.js';

const HOST = '172.30.0.9';
const rec = (i: number, hostIp = '172.30.0.2'): EndpointRecord => ({
  vni: 9, ip: `10.9.${i >> 8}.${i & 255}`, type: EndpointType.SIMPLE, mac: '0e:09:00:00:00:01', hostIp,
  hostMac: '0a:58:ac:1e:00:02', netId: 1, backends: [], hostedIfindex: 0,
});
const put = (dp: HostDataplane, records: EndpointRecord[]): Promise<number> => {
  const { keys, values } = packEndpoints(records);
  return putEndpointBatch(dp, HOST, keys, values);
};

describe('packed endpoint batches (capacity 1024)', () => {
  let env: ReturnType<typeof openDataplane>;

  beforeAll(() => { env = openDataplane('batch'); });
  afterAll(() => env?.close());

  it('writes new records and overwrites existing ones', async () => {
    expect(await put(env.dp, Array.from({ length: 1000 }, (_, i) => rec(i + 1)))).toBe(1000);
    expect(env.dp.listEndpointKeys()).toHaveLength(1000);
    // Half already there (moved to another host), half new.
    expect(await put(env.dp, Array.from({ length: 20 }, (_, i) => rec(i + 991, '172.30.0.3')))).toBe(20);
    expect(env.dp.listEndpointKeys()).toHaveLength(1010);
    expect(env.dp.get('endpoints', { vni: 9, ip: rec(995).ip })).toMatchObject({ hostIp: '172.30.0.3', hostedIfindex: -1 });
    expect(env.dp.get('endpoints', { vni: 9, ip: rec(1).ip })).toMatchObject({ hostIp: '172.30.0.2' });
  });

  it('lists every record as written: all keys in one packed Buffer, all values in one lookup', () => {
    const map = env.dp.map('endpoints');
    const packed = map.keysPacked();
    expect(packed.length).toBe(1010 * map.info().keySize);
    expect(packed).toEqual(Buffer.concat(map.keys()));
    const listed = env.dp.list('endpoints');
    expect(listed).toHaveLength(1010);
    const byIp = new Map(listed.map((r) => [r.ip, r]));
    expect(byIp.get(rec(995).ip)).toEqual({ ...rec(995, '172.30.0.3'), hostedIfindex: -1 });
    expect(byIp.get(rec(1).ip)).toEqual({ ...rec(1), hostedIfindex: -1 });
  });

  it('endpointsPacked: every record as the map holds it, in two addon calls, hosted ifindex included', () => {
    const packed = env.dp.endpointsPacked();
    expect(checkEndpointBatch(packed.keys, packed.values)).toBe(1010);
    const sort = (l: EndpointRecord[]) => [...l].sort((a, b) => (a.ip < b.ip ? -1 : 1));
    expect(sort(unpackEndpoints(packed))).toEqual(sort(env.dp.list('endpoints')));
  });

  it('a batch that overflows the map is undone: no new record stays, old values come back', async () => {
    const before = env.dp.list('endpoints');
    // 30 existing records rewritten, then 40 new ones: the map holds 1024.
    const batch = [...Array.from({ length: 30 }, (_, i) => rec(i + 1, '172.30.0.4')), ...Array.from({ length: 40 }, (_, i) => rec(i + 2000))];
    let err: unknown;
    try { await put(env.dp, batch); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(XvpcError);
    // a full map is the caller's to change, not a bug: FAILED_PRECONDITION naming it and the way out
    expect((err as XvpcError).code).toBe('FAILED_PRECONDITION');
    expect((err as XvpcError).message).toMatch(/^endpoint batch not applied \(rolled back\): map endpoints is full \(delete records, or start transitd with a larger --capacity endpoints=N\)/);
    const sort = (l: EndpointRecord[]) => [...l].sort((a, b) => (a.ip < b.ip ? -1 : 1));
    expect(sort(env.dp.list('endpoints'))).toEqual(sort(before));
  });

  it('new records only, overflowing: the ones that went in are taken out again', async () => {
    const before = env.dp.listEndpointKeys().length;
    await expect(put(env.dp, Array.from({ length: 40 }, (_, i) => rec(i + 3000)))).rejects.toThrow(/rolled back/);
    expect(env.dp.listEndpointKeys()).toHaveLength(before);
  });

  it('batches planned on arrival, before the one ahead is applied (as transitd does): a refused one ahead changes nothing of the next', async () => {
    const sort = (l: EndpointRecord[]) => [...l].sort((a, b) => (a.ip < b.ip ? -1 : 1));
    const before = env.dp.list('endpoints');
    // A overflows the map (20 rewritten, 40 new); B shares 10 of A's new keys (planned as rewrites: A's
    // plan entered them) plus 4 new, and fits once A is undone. Both planned before either is applied.
    const a = [...Array.from({ length: 20 }, (_, i) => rec(i + 1, '172.30.0.5')), ...Array.from({ length: 40 }, (_, i) => rec(i + 4000))];
    const b = [...Array.from({ length: 10 }, (_, i) => rec(i + 4000, '172.30.0.6')), ...Array.from({ length: 4 }, (_, i) => rec(i + 5000, '172.30.0.6'))];
    const pa = packEndpoints(a);
    const pb = packEndpoints(b);
    const planA = env.dp.planEndpoints(pa.keys, a.length);
    const planB = env.dp.planEndpoints(pb.keys, b.length);
    expect([planA.fresh.length, planA.rewritten.length]).toEqual([40, 20]);
    expect([planB.fresh.length, planB.rewritten.length]).toEqual([4, 10]);
    await expect(applyEndpointBatch(env.dp, HOST, pa.keys, pa.values, a.length, planA)).rejects.toThrow(/rolled back/);
    expect(sort(env.dp.list('endpoints'))).toEqual(sort(before));
    expect(await applyEndpointBatch(env.dp, HOST, pb.keys, pb.values, b.length, planB)).toBe(14);
    expect(sort(env.dp.list('endpoints'))).toEqual(sort([...before, ...b.map((r) => ({ ...r, hostedIfindex: -1 }))]));
    // The index knows B's keys again (A's undo had taken 10 of them out): a refused batch rewriting them restores them.
    const c = [...b.map((r) => ({ ...r, hostIp: '172.30.0.7' })), ...Array.from({ length: 40 }, (_, i) => rec(i + 6000))];
    const afterB = env.dp.list('endpoints');
    await expect(put(env.dp, c)).rejects.toThrow(/rolled back/);
    expect(sort(env.dp.list('endpoints'))).toEqual(sort(afterB));
  });

  it('a key the index holds but the map lacks (a plan abandoned in the queue) is removed by a refused batch\'s undo', async () => {
    const before = env.dp.list('endpoints');
    const ghost = [rec(7000)];
    const g = packEndpoints(ghost);
    env.dp.planEndpoints(g.keys, 1); // planned, never applied: the index holds it, the map does not
    await expect(put(env.dp, [{ ...rec(7000), hostIp: '172.30.0.8' }, ...Array.from({ length: 40 }, (_, i) => rec(i + 8000))])).rejects.toThrow(/rolled back/);
    const sort = (l: EndpointRecord[]) => [...l].sort((a, b) => (a.ip < b.ip ? -1 : 1));
    expect(sort(env.dp.list('endpoints'))).toEqual(sort(before));
  });
});

describe('large batches written by several kernel threads (capacity 65536)', () => {
  let env: ReturnType<typeof openDataplane>;
  const sort = (l: EndpointRecord[]) => [...l].sort((a, b) => (a.ip < b.ip ? -1 : 1));
  const many = (n: number, from: number, vni = 9) => Array.from({ length: n }, (_, i) => ({ ...rec(from + i), vni }));

  beforeAll(() => { env = openDataplane('batchpar', 65536); });
  afterAll(() => env?.close());

  it('a batch of distinct new keys is split across threads, and every record lands as sent', async () => {
    expect(batchParts(40_000, writeThreads()).length, 'this machine gives transitd one write thread: nothing here is split').toBeGreaterThan(1);
    expect(await put(env.dp, many(40_000, 1))).toBe(40_000);
    expect(sort(env.dp.list('endpoints'))).toEqual(sort(many(40_000, 1).map((r) => ({ ...r, hostedIfindex: -1 }))));
  });

  it('a key twice in one batch keeps its last value (such a batch is written in order, not split)', async () => {
    const batch = many(20_000, 41_000);
    batch[19_000] = { ...rec(41_100), hostIp: '172.30.0.9' }; // again, later in the batch
    expect(await put(env.dp, batch)).toBe(20_000);
    expect(env.dp.get('endpoints', { vni: 9, ip: rec(41_100).ip })).toMatchObject({ hostIp: '172.30.0.9' });
    expect(env.dp.listEndpointKeys()).toHaveLength(40_000 + 19_999);
  });

  it('a split batch that overflows the map is undone whole, whichever part the kernel refused', async () => {
    const before = env.dp.listEndpointKeys().length;
    await expect(put(env.dp, many(20_000, 1, 10))).rejects.toThrow(/^endpoint batch not applied \(rolled back\): map endpoints is full/);
    expect(env.dp.listEndpointKeys()).toHaveLength(before);
  });
});

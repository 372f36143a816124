// The Controller's stores without root: the embedded SQLite store (a real
// file in a temp dir) and the memory store behave alike: versions, stale
// commits refused whole, deletes; and the Model <-> store objects mapping.
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EndpointType } from '../../src/abi/index.js';
import { Model } from '../../src/controller/model.js';
import { MODEL_KINDS, modelChanges, modelFrom } from '../../src/controller/stored-model.js';
import { MemoryStore } from '../../src/controller/store/memory.js';
import { SqliteStore } from '../../src/controller/store/sqlite.js';
import { etcdHosts } from '../../src/controller/store/etcd-url.js';
import { StaleStoreError, type Store } from '../../src/controller/store/store.js';
import { storeOpener } from '../../src/controller/store/open.js';
import { XvpcError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'xvpc-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(join(dir, `t${Math.random().toString(36).slice(2)}.db`))],
];

describe.each(stores)('%s store', (_name, make) => {
  it('commits in order, bumps the version, loads what was committed', async () => {
    const s = make();
    expect(await s.load()).toEqual({ objects: [], version: 0 });
    const v1 = await s.commit([{ kind: 'vpc', key: '3', value: { vni: 3 } }, { kind: 'network', key: '3/1', value: { n: 1 } }], 0);
    expect(v1).toBe(1);
    const v2 = await s.commit([{ kind: 'vpc', key: '3', value: { vni: 3, x: 1 } }, { kind: 'network', key: '3/1' }], 1);
    expect(v2).toBe(2);
    const snap = await s.load();
    expect(snap.version).toBe(2);
    expect(snap.objects).toEqual([{ kind: 'vpc', key: '3', value: { vni: 3, x: 1 } }]);
    await s.close();
  });

  it('a commit against an older version is refused whole', async () => {
    const s = make();
    await s.commit([{ kind: 'vpc', key: '1', value: 1 }], 0);
    await expect(s.commit([{ kind: 'vpc', key: '2', value: 2 }], 0)).rejects.toBeInstanceOf(StaleStoreError);
    expect((await s.load()).objects.map((o) => o.key)).toEqual(['1']);
    expect(await s.version()).toBe(1);
    await s.close();
  });
});

describe('sqlite store on disk', () => {
  it('is root-only (0600), and a second handle on the file sees the first one\'s commits', async () => {
    const path = join(dir, 'shared.db');
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await a.commit([{ kind: 'endpoint', key: '3/10.0.0.5', value: { ip: '10.0.0.5' } }], 0);
    expect(await b.version()).toBe(1);
    expect((await b.load()).objects).toEqual([{ kind: 'endpoint', key: '3/10.0.0.5', value: { ip: '10.0.0.5' } }]);
    await expect(b.commit([], 0)).rejects.toBeInstanceOf(StaleStoreError);
    await a.close();
    await b.close();
  });

  it('an unusable path is a clear FAILED_PRECONDITION', () => {
    expect(() => new SqliteStore(join(dir, 'no/such/dir/x.db'))).toThrow(XvpcError);
  });

  it('a file corrupted after it opened: every call fails FAILED_PRECONDITION naming the store, never a raw SqliteError', async () => {
    const path = join(dir, 'corrupt.db');
    const s = new SqliteStore(path);
    try {
      await s.commit(Array.from({ length: 200 }, (_, i) => ({ kind: 'endpoint', key: `3/10.0.0.${i}`, value: { pad: 'x'.repeat(200) } })), 0);
      const { db } = s as unknown as { db: { pragma(p: string): unknown } };
      db.pragma('wal_checkpoint(TRUNCATE)'); // everything in the main file
      const size = statSync(path).size;
      const fd = openSync(path, 'r+');
      try {
        writeSync(fd, randomBytes(size - 4096), 0, size - 4096, 4096); // every page but the header's
      } finally { closeSync(fd); }
      db.pragma('shrink_memory'); // its page cache let go: the next read is from the file
      for (const call of [() => s.load(), () => s.commit([{ kind: 'vpc', key: '9', value: {} }], 1)]) {
        await expect(call()).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(/^store .*corrupt\.db: .*\(SQLITE_/) });
      }
    } finally {
      await s.close();
    }
  });
});

describe('store option', () => {
  it('names what it accepts', async () => {
    expect(() => storeOpener(42, [])).toThrow(/store: expected/);
    expect(() => storeOpener('mysql://x', [])).toThrow(/store: 'mysql:\/\/x' is not/);
    expect(() => storeOpener('etcd://nope', [])).toThrow(/store: 'etcd:\/\/nope' is not etcd/);
    expect(() => etcdHosts('etcd://')).toThrow(/store/);
    expect(() => etcdHosts('etcd://a b:1')).toThrow(/store/);
    expect(etcdHosts('etcd://127.0.0.1:2379,10.0.0.2:2380')).toEqual(['127.0.0.1:2379', '10.0.0.2:2380']);
    expect((await storeOpener(undefined, [{ id: 'x' }])()).description).toBe('memory'); // no prefix: memory only
    expect((await storeOpener(`sqlite:${join(dir, 'opt.db')}`, [])()).description).toBe(`sqlite:${join(dir, 'opt.db')}`);
  });
});

function sampleModel(): Model {
  const m = new Model();
  m.vpcs.set(3, { vni: 3, cidr: '10.3.0.0/16', routers: ['r'], directPath: true });
  m.networks.set(Model.netKey(3, 1), { vni: 3, netId: 1, cidr: '10.3.1.0/24', switches: ['s'] });
  m.endpoints.set('3/10.3.1.5', { vni: 3, netId: 1, ip: '10.3.1.5', mac: '02:00:00:00:00:05', type: EndpointType.SIMPLE, host: 'h', backends: [] });
  return m;
}

describe('model in the store', () => {
  it('puts kinds in dependency order and deletes them in the reverse one', () => {
    const m = sampleModel();
    const put = modelChanges(new Model(), m);
    expect(put.map((c) => `${c.kind}:${c.key}:${c.value === undefined ? 'del' : 'put'}`)).toEqual([
      'vpc:3:put', 'network:3/1:put', 'endpoint:3/10.3.1.5:put',
    ]);
    const del = modelChanges(m, new Model());
    expect(del.map((c) => `${c.kind}:${c.key}:${c.value === undefined ? 'del' : 'put'}`)).toEqual([
      'endpoint:3/10.3.1.5:del', 'network:3/1:del', 'vpc:3:del',
    ]);
  });

  it('writes only what changed, and reads back the same model', () => {
    const m = sampleModel();
    const m2 = m.clone();
    m2.networks.get('3/1')!.switches.push('s2');
    expect(modelChanges(m, m2)).toEqual([{ kind: 'network', key: '3/1', value: m2.networks.get('3/1') }]);
    expect(modelChanges(m, m.clone())).toEqual([]);
    const back = modelFrom(modelChanges(new Model(), m).map((c) => ({ kind: c.kind, key: c.key, value: c.value })));
    for (const k of MODEL_KINDS) expect([...k.map(back)]).toEqual([...k.map(m)]);
  });

  it('refuses objects of a kind it does not know', () => {
    expect(() => modelFrom([{ kind: 'bogus', key: '1', value: {} }])).toThrow(/kind 'bogus'/);
  });
});

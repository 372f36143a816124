// Several controllers on one etcd (a real etcd-server started here): one leads
// through a lease, the others stand by; kill -9 the leader and another takes
// over within the lease time and goes on reconciling (it repairs drift the
// test makes). A standby's calls are refused, and a controller whose lease is
// gone cannot write (fenced): nothing it asks for reaches the store or a host,
// also when the lease ends between its store commit and the hosts, or when its
// own clock says the lease has run out before etcd's word does.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { endpointKey } from '../../src/abi/index.js';
import { Controller } from '../../src/controller/controller.js';
import { EtcdStore } from '../../src/controller/store/etcd.js';
import { StaleStoreError } from '../../src/controller/store/store.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { Droplet } from '../../src/droplet/index.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { must } from '../../src/util/exec.js';
import { freePort, startEtcd, type TestEtcd } from '../lib/etcd.js';
import { destroyDroplets, expectOnlyFenceRefusals, failedTotals, makeDroplets } from './lib.js';

const CHILD = fileURLToPath(new URL('../lib/controller-child.mjs', import.meta.url));
const VNI = 43;
// The leader lease (etcd enforces at least 2 s; 4 leaves keep-alives room on a
// loaded 2-core machine; the takeover bound is TTL + 1 s).
const TTL = 4;

interface Child { proc: ChildProcess; lines: Record<string, any>[]; pid: number }

function serve(prefix: string, store: string): Child {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify({ prefix, store, intervalMs: 300, leaseTtlSeconds: TTL, steps: [{ op: 'serve' }] })],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const child: Child = { proc, lines: [], pid: proc.pid! };
  let buf = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      child.lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  return child;
}

const isLeading = (c: Child) => c.lines.filter((l) => l.op === 'leading').at(-1)?.leading === true;

async function until<T>(what: string, ms: number, fn: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('controllers on one etcd', () => {
  let etcd: TestEtcd;
  let droplets: Record<string, Droplet>;
  let a: Endpoint;
  let b: Endpoint;
  const children: Child[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    droplets = await makeDroplets(['h1', 'h2', 'sw'], 'ce');
    const c = new Controller(droplets, { store: etcd.url, leaseTtlSeconds: TTL });
    try {
      // No direct path: traffic crosses the switch, whose record the test removes.
      await c.createVpc({ vni: VNI, cidr: '10.43.0.0/16', routers: ['sw'], directPath: false });
      await c.createNetwork({ vni: VNI, netId: 1, cidr: '10.43.1.0/24', switches: ['sw'] });
      a = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.43.1.10', host: 'h1' });
      b = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.43.1.11', host: 'h2' });
      expect(c.leading).toBe(true);
    } finally {
      await c.close(); // revokes its lease: the children need not wait for it to expire
    }
  });
  afterAll(async () => {
    for (const ch of children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');
    if (droplets) await destroyDroplets(droplets);
    await etcd?.stop();
  });

  it('one of three leads; kill -9 it and another takes over within the lease time and repairs drift', async () => {
    const prefix = droplets.h1.prefix;
    for (let i = 0; i < 3; i++) children.push(serve(prefix, etcd.url));
    const leader = await until('one child leads', 10_000, () => children.find(isLeading));
    await new Promise((r) => setTimeout(r, 1000));
    expect(children.filter(isLeading)).toEqual([leader]);
    // The leader reconciles (the loop); the standbys do not.
    await until('the leader reconciles', 5000, () => leader.lines.some((l) => l.op === 'reconciled' && l.leading && !l.error));
    for (const s of children.filter((ch) => ch !== leader)) expect(s.lines.some((l) => l.op === 'reconciled' && l.leading)).toBe(false);

    leader.proc.kill('SIGKILL');
    const killedAt = Date.now();
    const next = await until('another child leads', (TTL + 3) * 1000, () => children.find((ch) => ch !== leader && isLeading(ch)));
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThanOrEqual(TTL * 1000 + 1000);
    expect(children.filter((ch) => ch !== leader && isLeading(ch))).toEqual([next]);

    // Drift behind everyone's back: the new leader's loop repairs it.
    expect((await a.ping(b.ip)).ok).toBe(true);
    await must(['bpftool', 'map', 'delete', 'pinned', `${droplets.sw.pinRoot}/endpoints`, 'key', ...[...endpointKey(VNI, b.ip)].map(String)]);
    const repairedBefore = next.lines.filter((l) => l.op === 'reconciled' && l.repaired > 0).length;
    await until('the new leader repairs the switch', 10_000, () => next.lines.filter((l) => l.op === 'reconciled' && l.repaired > 0).length > repairedBefore);
    expect((await a.ping(b.ip)).ok).toBe(true);
  });

  it('a standby\'s calls are refused; a controller whose lease is gone cannot write (fenced)', async () => {
    const standby = new Controller(droplets, { store: etcd.url, leaseTtlSeconds: TTL });
    try {
      expect((await standby.listVpcs()).map((v) => v.vni)).toEqual([VNI]); // reads work
      await expect(standby.createVpc({ vni: 44, cidr: '10.44.0.0/16' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(await standby.reconcile()).toEqual({ checked: 0, repaired: 0 });
    } finally {
      await standby.close();
    }
    for (const ch of children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');

    const first = new Controller(droplets, { store: etcd.url, leaseTtlSeconds: TTL });
    const second = new Controller(droplets, { store: etcd.url, leaseTtlSeconds: TTL });
    const raw = new Etcd3({ hosts: etcd.url.replace('etcd://', 'http://') });
    try {
      await until('one of the two leads', (TTL + 3) * 1000, () => first.leading || second.leading);
      const [old, fresh] = first.leading ? [first, second] : [second, first];
      await old.createVpc({ vni: 45, cidr: '10.45.0.0/16', routers: ['sw'] });
      // Its lease ends behind its back (as when a paused process misses its keep-alives).
      const kv = await raw.get(`xvpc/${droplets.h1.prefix}/leader`).exec();
      await raw.leaseClient.leaseRevoke({ ID: kv.kvs[0].lease });
      await until('the other takes over', (TTL + 3) * 1000, () => fresh.leading);
      await expect(old.createVpc({ vni: 46, cidr: '10.46.0.0/16', routers: ['sw'] })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect((await fresh.listVpcs()).map((v) => v.vni)).toEqual([VNI, 45]);
      const sw = connectTransitd('sw', droplets.sw.transitdAddress);
      try {
        expect((await sw.dump({})).vpcs.map((v) => v.vni).sort()).toEqual([VNI, 45]);
      } finally {
        sw.close();
      }
      await fresh.deleteVpc({ vni: 45 });
    } finally {
      raw.close();
      await first.close();
      await second.close();
    }
  });

  it('a controller that lost its lease stands back one lease time before it campaigns again (a standby takes over, not it)', async () => {
    const lone = new Controller(droplets, { store: etcd.url, leaseTtlSeconds: TTL });
    const raw = new Etcd3({ hosts: etcd.url.replace('etcd://', 'http://') });
    try {
      await until('it leads', (TTL + 3) * 1000, () => lone.leading);
      const kv = await raw.get(`xvpc/${droplets.h1.prefix}/leader`).exec();
      await raw.leaseClient.leaseRevoke({ ID: kv.kvs[0].lease });
      await until('it sees its lease lost', (TTL + 3) * 1000, () => !lone.leading);
      const lostAt = Date.now();
      // Nobody else campaigns: it leads again, but only after standing back.
      await until('it leads again', (2 * TTL + 3) * 1000, () => lone.leading);
      expect(Date.now() - lostAt).toBeGreaterThanOrEqual(TTL * 1000 - 100);
    } finally {
      raw.close();
      await lone.close();
    }
  });

  it('a leader whose lease ends between its store commit and the hosts programs no host: the call fails UNAVAILABLE', async () => {
    for (const ch of children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');
    const prefix = droplets.h1.prefix;
    const store = new EtcdStore(etcd.url, prefix, TTL);
    store.startCampaign();
    const c = new Controller(droplets, { store });
    const raw = new Etcd3({ hosts: etcd.url.replace('etcd://', 'http://') });
    const commit = store.commit.bind(store);
    try {
      await until('it leads', (TTL + 3) * 1000, () => c.leading);
      // Its lease ends right after the commit (revoked behind its back: as when it is paused past its TTL there).
      store.commit = async (changes, expect) => {
        const v = await commit(changes, expect);
        store.commit = commit;
        const kv = await raw.get(`xvpc/${prefix}/leader`).exec();
        await raw.leaseClient.leaseRevoke({ ID: kv.kvs[0].lease });
        await until('it sees its lease lost', (TTL + 3) * 1000, () => !store.leading);
        return v;
      };
      await expect(c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.43.1.30', host: 'h1' }))
        .rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/this controller no longer leads \(its lease ended\), so it changes no host/) });
      for (const name of ['h1', 'h2', 'sw']) {
        const t = connectTransitd(name, droplets[name].transitdAddress);
        try {
          expect((await t.dump({})).endpoints.map((e) => e.ip), name).not.toContain('10.43.1.30');
        } finally { t.close(); }
      }
    } finally {
      store.commit = commit;
      raw.close();
      await c.close();
    }
  });

  it('a deposed leader that still believes it leads is refused by the hosts themselves once its successor has reached them', async () => {
    for (const ch of children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');
    const prefix = droplets.h1.prefix;
    const s1 = new EtcdStore(etcd.url, prefix, TTL);
    const s2 = new EtcdStore(etcd.url, prefix, TTL);
    const old = new Controller(droplets, { store: s1 });
    const next = new Controller(droplets, { store: s2 });
    const raw = new Etcd3({ hosts: etcd.url.replace('etcd://', 'http://') });
    try {
      s1.startCampaign();
      await until('the first leads', (TTL + 3) * 1000, () => old.leading);
      await old.reconcile(); // its takeover's reconcile has ended too (they queue)
      s2.startCampaign();
      // Its lease ends, but it has not looked yet (a process paused past its TTL, between its own check and its calls).
      Object.defineProperty(s1, 'leading', { get: () => true, configurable: true });
      const kv = await raw.get(`xvpc/${prefix}/leader`).exec();
      await raw.leaseClient.leaseRevoke({ ID: kv.kvs[0].lease });
      await until('the second takes over', (TTL + 3) * 1000, () => s2.leading);
      expect(s2.fence!.epoch).toBe(s1.fence!.epoch);
      expect(s2.fence!.term).toBeGreaterThan(s1.fence!.term);
      await next.reconcile(); // it reaches every host (its takeover ran one already)

      // Drift the deposed leader would repair with its old term: every host refuses it.
      await must(['bpftool', 'map', 'delete', 'pinned', `${droplets.sw.pinRoot}/endpoints`, 'key', ...[...endpointKey(VNI, b.ip)].map(String)]);
      const before = await failedTotals(droplets);
      await expect(old.reconcile()).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION', message: expect.stringMatching(new RegExp(`term ${s1.fence!.term}\\) has ended; a later leader \\(term ${s2.fence!.term}\\) programs this host`)),
      });
      await old.close();
      const sw = connectTransitd('sw', droplets.sw.transitdAddress);
      try {
        expect((await sw.dump({})).endpoints.map((e) => e.ip)).not.toContain(b.ip);
      } finally { sw.close(); }
      expect(await expectOnlyFenceRefusals(before, /^FAILED_PRECONDITION .* refused: its controller's leadership \(term \d+\) has ended/)).toBeGreaterThan(0);
      // The leader repairs it.
      expect((await next.reconcile()).repaired).toBeGreaterThan(0);
      expect((await a.ping(b.ip)).ok).toBe(true);
    } finally {
      delete (s1 as { leading?: boolean }).leading;
      raw.close();
      await old.close();
      await next.close();
    }
  });

  it('the leader of an etcd replaced by an empty one is refused by the hosts, which keep what they hold', async () => {
    for (const ch of children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');
    const before = await failedTotals(droplets);
    const empty = await startEtcd();
    const c = new Controller(droplets, { store: empty.url, leaseTtlSeconds: TTL });
    try {
      await until('it leads', (TTL + 3) * 1000, () => c.leading);
      expect(await c.listVpcs()).toEqual([]);
      // Matching the hosts to its empty store would remove everything: each host refuses.
      await expect(c.reconcile()).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION', message: expect.stringMatching(/programmed by the controllers of another store/),
      });
      for (const [name, d] of Object.entries(droplets)) {
        const t = connectTransitd(name, d.transitdAddress);
        try {
          expect((await t.dump({})).vpcs.map((v) => v.vni), name).toContain(VNI);
        } finally { t.close(); }
      }
      expect((await a.ping(b.ip)).ok).toBe(true);
      await c.close();
      expect(await expectOnlyFenceRefusals(before, /^FAILED_PRECONDITION .* refused: this host is programmed by the controllers of another store/)).toBeGreaterThan(0);
    } finally {
      await c.close();
      await empty.stop();
    }
  });

  it('a controller started while its etcd is down works once etcd is up (its calls load the store again)', async () => {
    for (const ch of children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');
    const port = await freePort();
    // Droplets of its own: the hosts above belong to the other etcd's controllers (fence.ts), and would refuse this one.
    const own = await makeDroplets(['lone'], 'le');
    const c = new Controller(own, { store: `etcd://127.0.0.1:${port}`, leaseTtlSeconds: TTL });
    let late: TestEtcd | undefined;
    try {
      await expect(c.listVpcs()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      late = await startEtcd({ clientPort: port });
      // Its first calls after etcd comes may still meet the client's back-off: asked until one is answered.
      const vpcs = await until('the store answers', 30_000, async () => {
        try { return await c.listVpcs(); } catch { return undefined; }
      });
      expect(vpcs).toEqual([]);
      await until('it leads', (TTL + 3) * 1000, () => c.leading);
      await c.createVpc({ vni: 49, cidr: '10.49.0.0/16', routers: ['lone'] });
      expect(await c.reconcile()).toMatchObject({ repaired: 0 });
    } finally {
      await c.close();
      await late?.stop();
      await destroyDroplets(own);
    }
  });

  it('a change waits out a dead leader\'s lease (one TTL) and goes through; objects it cannot read are FAILED_PRECONDITION naming them', async () => {
    for (const ch of children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');
    const raw = new Etcd3({ hosts: etcd.url.replace('etcd://', 'http://') });
    const ns = `xvpc/${droplets.h1.prefix}`;
    const c = new Controller(droplets, { store: etcd.url, leaseTtlSeconds: TTL });
    try {
      // A leader that died (kill -9): its key lives until its lease runs out.
      const lease = raw.lease(TTL, { autoKeepAlive: false });
      await raw.delete().key(`${ns}/leader`);
      await raw.put(`${ns}/leader`).value('a-controller-killed-with-9').lease(await lease.grant());
      const t0 = Date.now();
      await c.createVpc({ vni: 47, cidr: '10.47.0.0/16', routers: ['sw'] });
      expect(Date.now() - t0).toBeGreaterThan(1000); // it did wait for the lease
      await c.deleteVpc({ vni: 47 });

      await raw.put(`${ns}/obj/vpc/48`).value('{bad');
      await raw.put(`${ns}/version`).value(String(Number(await raw.get(`${ns}/version`).string()) + 1));
      await expect(c.listVpcs()).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION', message: expect.stringMatching(/obj\/vpc\/48 is not JSON .*not written by xvpc/),
      });
      await raw.put(`${ns}/obj/vpc/48`).value('{"vni":48}');
      await raw.put(`${ns}/version`).value(String(Number(await raw.get(`${ns}/version`).string()) + 1));
      await expect(c.listVpcs()).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION', message: expect.stringMatching(/not a desired state this version of xvpc can read/),
      });
      await raw.delete().key(`${ns}/obj/vpc/48`);
      await raw.put(`${ns}/version`).value(String(Number(await raw.get(`${ns}/version`).string()) + 1));
      expect((await c.listVpcs()).map((v) => v.vni)).toEqual([VNI]);
    } finally {
      raw.close();
      await c.close();
    }
  });

  it('a leader whose own clock says its lease ran out leads no more, before etcd says so', async () => {
    const store = new EtcdStore(etcd.url, `clock${Date.now()}`, TTL);
    try {
      store.startCampaign();
      expect(await store.whenLeading((TTL + 3) * 1000)).toBe(true);
      const now = performance.now();
      const clock = vi.spyOn(performance, 'now').mockReturnValue(now + (TTL + 1) * 1000); // as after a pause of TTL + 1 s
      try {
        expect(store.leading).toBe(false);
        await expect(store.commit([{ kind: 'vpc', key: '1', value: {} }], 0)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      } finally {
        clock.mockRestore();
      }
      expect(store.leading).toBe(true); // its keep-alives were answered all along
      expect(await store.commit([{ kind: 'vpc', key: '1', value: {} }], 0)).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('a commit past its deadline (etcd frozen under it) fails UNAVAILABLE, writes no more and bumps nothing; the next goes through', async () => {
    const ns = `late${Date.now()}`;
    // A lease longer than the freeze: it still leads after it, so only the deadline stops the commit.
    const w = new EtcdStore(etcd.url, ns, 30);
    const raw = new Etcd3({ hosts: etcd.url.replace('etcd://', 'http://') });
    const count = async () => Number((await raw.getAll().prefix(`xvpc/${ns}/obj/`).count()));
    try {
      w.startCampaign();
      expect(await w.whenLeading(5000)).toBe(true);
      const changes = Array.from({ length: 20_000 }, (_, i) => ({ kind: 'endpoint', key: `7/10.1.${i >> 8}.${i & 255}`, value: { i } }));
      const committing = w.commit(changes, 0);
      committing.catch(() => undefined);
      await until('part of it is written', 10_000, async () => (await count()) > 0);
      etcd.signal('SIGSTOP');
      try {
        await expect(committing).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/did not answer within \d+ ms/) });
      } finally {
        etcd.signal('SIGCONT');
      }
      // Whatever was in flight lands; then nothing more, and the version is still 0.
      await new Promise((r) => setTimeout(r, 1500));
      const settled = await count();
      expect(settled).toBeGreaterThan(0);
      expect(settled).toBeLessThan(20_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await count()).toBe(settled);
      // Its etcd client fails fast for a while after the failures (a circuit breaker): asked until it answers.
      const answered = await until('the store answers again', 30_000, async () => {
        try { return { version: await w.version() }; } catch { return undefined; }
      });
      expect(answered.version).toBe(0);
      // Still the leader: a commit from version 0 goes through.
      expect(await w.whenLeading(5000)).toBe(true);
      expect(await w.commit([{ kind: 'vpc', key: '1', value: {} }], 0)).toBe(1);
    } finally {
      raw.close();
      await w.close();
    }
  });

  it('the etcd store: a commit larger than a transaction, loaded back whole (in pages); a stale commit is refused', async () => {
    const ns = `bulk${Date.now()}`;
    const w = new EtcdStore(etcd.url, ns, TTL);
    const r = new EtcdStore(etcd.url, ns, TTL);
    try {
      w.startCampaign();
      expect(await w.whenLeading(5000)).toBe(true);
      const changes = Array.from({ length: 12_000 }, (_, i) => ({ kind: 'endpoint', key: `7/10.0.${i >> 8}.${i & 255}`, value: { i } }));
      // Loads made while it commits see part of it only under the version before (0), never under its own (1).
      const committing = w.commit(changes, 0);
      let done = false;
      void committing.finally(() => { done = true; });
      const seen: [number, number][] = [];
      while (!done) {
        const snap = await r.load();
        seen.push([snap.version, snap.objects.length]);
      }
      expect(await committing).toBe(1);
      expect(seen.length, 'no load finished while it committed: the test saw nothing').toBeGreaterThan(0);
      expect(seen.filter(([version, objects]) => version === 1 && objects !== 12_000)).toEqual([]);
      const snap = await r.load();
      expect(snap.version).toBe(1);
      expect(snap.objects.length).toBe(12_000);
      expect(new Set(snap.objects.map((o) => (o.value as { i: number }).i)).size).toBe(12_000);
      await expect(w.commit([{ kind: 'vpc', key: '1', value: {} }], 0)).rejects.toBeInstanceOf(StaleStoreError);
      expect(await r.version()).toBe(1);
      await expect(r.commit([{ kind: 'vpc', key: '1', value: {} }], 1)).rejects.toMatchObject({ code: 'UNAVAILABLE' }); // not the leader
    } finally {
      await w.close();
      await r.close();
    }
  });
});

// The Controller with its store (issue 14 item 8): endpoints created through
// the public Controller API with the embedded store (SQLite) and with etcd,
// against the same with the store in memory; then a new Controller resuming
// that deployment from the store, and a reconcile pass over it.
//
// What the endpoints are: 100,000 simple endpoints would be 100,000 namespaces
// and veths, which one machine cannot hold, so they are scaled endpoints
// (createScaledEndpoint), each with one backend: one simple endpoint on
// droplet 'b'. A scaled endpoint is a full endpoint record in its network's
// switches' maps (plus its slot table in scaled_backends, which holds 65,536
// per host), so the VPC has two networks, each with its own switch droplet
// ('s1', 's2') holding half the endpoints: real transitd processes on real
// droplets take every record. Calls are issued in waves of WAVE at once (as
// many clients would); the Controller applies the calls that arrive during a
// sync together (one store commit, one diff, one PutEndpoints per host).
import { rmSync } from 'node:fs';
import { createDroplets, destroyDroplets, type Droplet } from '../dist/droplet/index.js';
import { Controller } from '../dist/controller/controller.js';
import type { Endpoint } from '../dist/controller/endpoint.js';
import { PinnedMap } from '../dist/dataplane/bpf.js';
import { formatIpv4 } from '../dist/util/addr.js';
import { startEtcd } from './etcd.js';
import { msSince, nowNs, sig } from './measure.js';

export type StoreName = 'memory' | 'sqlite' | 'etcd';

export interface StoreRun {
  store: StoreName;
  /** the store option given to the Controller */
  spec: string;
  /** from the first createScaledEndpoint issued to the last answered */
  createSeconds: number;
  /** createSeconds / the mean of the two memory runs' (the first and the last of the four) */
  vsMemory: number;
  /** a new Controller over the same droplets and store: constructed to its first answer (listNetworks), the store read and the model rebuilt */
  resumeSeconds?: number;
  /**
   * that resumed Controller's reconcile(): Dump of every host, diff against
   * the desired state, nothing to repair (with etcd, after the reconcile the
   * Controller makes by itself on taking the lead)
   */
  reconcileSeconds?: number;
  /** the pass after it, timed the same way (no target: shows how much of the first is warm-up) */
  reconcileAgainSeconds?: number;
  reconcile?: { checked: number; repaired: number };
  verified: string;
}

export interface ControllerStoreResult {
  endpoints: number;
  /** calls issued at once */
  wave: number;
  what: string;
  /** in the order run: memory, sqlite, etcd, memory */
  runs: StoreRun[];
}

/** Calls issued at once. */
export const WAVE = 10_000;
const VNI = 8;

/** Scaled endpoint i of half: 10.1.0.0 upwards in network 1, 10.129.0.0 upwards in network 2. */
const ipOf = (net: 1 | 2, i: number) => formatIpv4((((net === 1 ? 10 << 24 | 1 << 16 : 10 << 24 | 129 << 16)) >>> 0) + i);

async function createAll(c: Controller<Droplet>, n: number, wave: number): Promise<number> {
  await c.createVpc({ vni: VNI, cidr: '10.0.0.0/8' });
  await c.createNetwork({ vni: VNI, netId: 1, cidr: '10.0.0.0/9', switches: ['s1'] });
  await c.createNetwork({ vni: VNI, netId: 2, cidr: '10.128.0.0/9', switches: ['s2'] });
  const backend: Endpoint = await c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: '10.0.0.10', host: 'b' });
  const half = n / 2;
  const t0 = nowNs();
  for (let off = 0; off < n; off += wave) {
    const calls: Promise<unknown>[] = [];
    for (let k = off; k < Math.min(n, off + wave); k++) {
      const net = k < half ? 1 : 2;
      calls.push(c.createScaledEndpoint({ vni: VNI, netId: net, ip: ipOf(net, net === 1 ? k : k - half), backends: [backend] }));
    }
    await Promise.all(calls);
  }
  return msSince(t0) / 1000;
}

/** Each switch's endpoints map holds its half and the backend: read from the kernel. */
function verifyMaps(d: Record<string, Droplet>, n: number): string {
  const counts = (['s1', 's2'] as const).map((s) => {
    const map = PinnedMap.open(`${d[s].pinRoot}/endpoints`);
    try {
      return map.keys().length;
    } finally {
      map.close();
    }
  });
  const want = n / 2 + 1;
  if (counts.some((x) => x !== want)) throw new Error(`controller bench: switches hold ${counts.join(' and ')} endpoint records, want ${want} each`);
  return `s1 and s2 endpoints maps hold ${want} records each`;
}

async function oneStore(prefix: string, store: StoreName, spec: string, n: number, wave: number, resume: boolean): Promise<Omit<StoreRun, 'vsMemory'>> {
  const droplets = await createDroplets(['s1', 's2', 'b'], { prefix });
  try {
    const c = new Controller(droplets, { store: spec });
    let createSeconds: number;
    try {
      createSeconds = await createAll(c, n, wave);
    } finally {
      await c.close();
    }
    let verified = verifyMaps(droplets, n);
    if (!resume) return { store, spec, createSeconds, verified };
    const t0 = nowNs();
    const again = new Controller(droplets, { store: spec });
    try {
      const nets = await again.listNetworks({ vni: VNI });
      const resumeSeconds = msSince(t0) / 1000;
      if (nets.length !== 2) throw new Error(`controller bench: the resumed Controller lists ${nets.length} networks, want 2`);
      // With etcd, a Controller that comes to lead reconciles on its own (controller.ts): let that one finish
      // first, so the pass timed below is one pass, as with SQLite, not two queued.
      if (store === 'etcd') {
        const deadline = Date.now() + 120_000;
        while (!again.lastReconcile && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (!again.lastReconcile) throw new Error('controller bench: the etcd Controller did not reconcile on taking the lead within 120 s');
        if (again.lastReconcile.error) throw new Error(`controller bench: the etcd Controller's own reconcile failed: ${again.lastReconcile.error}`);
      }
      const t1 = nowNs();
      const reconcile = await again.reconcile();
      const reconcileSeconds = msSince(t1) / 1000;
      if (reconcile.repaired !== 0 || reconcile.checked < n) {
        throw new Error(`controller bench: reconcile checked ${reconcile.checked} and repaired ${reconcile.repaired}, want >= ${n} and 0`);
      }
      // The next pass, on a warm Controller: the same work.
      const t2 = nowNs();
      const next = await again.reconcile();
      const reconcileAgainSeconds = msSince(t2) / 1000;
      if (next.repaired !== 0) throw new Error(`controller bench: the second reconcile repaired ${next.repaired}, want 0`);
      verified += `; resumed Controller: reconcile checked ${reconcile.checked}, repaired 0, twice`;
      return { store, spec, createSeconds, resumeSeconds, reconcileSeconds, reconcileAgainSeconds, reconcile, verified };
    } finally {
      await again.close();
    }
  } finally {
    await destroyDroplets(droplets);
  }
}

/** n endpoints (even) per store, each store on fresh droplets in `prefix`. */
export async function measureControllerStores(prefix: string, n: number, onStep: (s: string) => void, onDone: (s: string) => void,
  wave = WAVE): Promise<ControllerStoreResult> {
  const runs: StoreRun[] = [];
  const label = n.toLocaleString('en');
  const etcd = await startEtcd();
  try {
    // The embedded store: a file of its own for this run.
    const dbPath = `/tmp/xvpc-bench-${prefix}-controller.db`;
    // Memory first and again last: the baseline is their mean, so neither warm-up nor a drift in
    // the machine's load over the run favours the stores.
    const specs: [StoreName, string][] = [['memory', 'memory'], ['sqlite', `sqlite:${dbPath}`], ['etcd', etcd.url], ['memory', 'memory']];
    const raw: Omit<StoreRun, 'vsMemory'>[] = [];
    for (const [store, spec] of specs) {
      onStep(`${label} endpoints through the Controller, store ${store}${store === 'memory' ? '' : ', then resume and reconcile'}`);
      let r: Omit<StoreRun, 'vsMemory'>;
      try {
        r = await oneStore(prefix, store, spec, n, wave, store !== 'memory');
      } finally {
        if (store === 'sqlite') for (const ext of ['', '-wal', '-shm']) rmSync(`${dbPath}${ext}`, { force: true });
      }
      raw.push(r);
      onDone(`${sig(r.createSeconds)} s${store === 'memory' ? '' : `, resume ${sig(r.resumeSeconds!)} s, reconcile ${sig(r.reconcileSeconds!)} s then ${sig(r.reconcileAgainSeconds!)} s`}`);
    }
    const mem = raw.filter((r) => r.store === 'memory').map((r) => r.createSeconds);
    const base = mem.reduce((a, b) => a + b, 0) / mem.length;
    for (const r of raw) runs.push({ ...r, vsMemory: sig(r.createSeconds / base) });
  } finally {
    await etcd.stop();
  }
  return {
    endpoints: n, wave,
    what: `${label} scaled endpoints (one backend each), half in each of two networks with a switch droplet each, created through `
      + `Controller.createScaledEndpoint in waves of ${wave.toLocaleString('en')} calls at once; real transitd on each droplet`,
    runs,
  };
}

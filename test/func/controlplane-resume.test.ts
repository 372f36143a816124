// The control plane survives its process: controllers in child processes
// build a VPC and exit (cleanly, killed by the store-commit test hook between
// the store commit and the hosts, and kill -9 in the middle of a batch); a
// controller made later in this process over openDroplets() sees everything,
// repairs what the killed ones left, pings across it, deletes part of it; and
// nothing is duplicated or lost: every host holds exactly what the store says.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import { openDroplets, type Droplet } from '../../src/droplet/index.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { XvpcError } from '../../src/errors.js';
import { destroyDroplets, makeDroplets, shortPrefix } from './lib.js';
import { cleanupAll } from '../../src/droplet/cleanup.js';

const CHILD = fileURLToPath(new URL('../lib/controller-child.mjs', import.meta.url));
const VNI = 40;
const ip = (n: number) => `10.40.1.${n}`;

interface ChildRun { lines: Record<string, any>[]; code: number | null; signal: NodeJS.Signals | null }

/**
 * Runs the child controller with `steps`; killWhen: once it prints {op:'started'}, SIGKILL it as
 * soon as this says so (polled every 2 ms).
 */
function child(prefix: string, steps: unknown[], opts: { env?: Record<string, string>; killWhen?: () => boolean } = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, JSON.stringify({ prefix, steps })], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, any>[] = [];
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        lines.push(line);
        if (line.op === 'started' && opts.killWhen) {
          const poll = setInterval(() => {
            if (p.exitCode !== null || p.signalCode !== null) clearInterval(poll);
            else if (opts.killWhen!()) {
              clearInterval(poll);
              p.kill('SIGKILL');
            }
          }, 2);
        }
      }
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ lines, code, signal }));
  });
}

/** Every endpoint record and attachment each host holds, as sorted lines. */
async function hostState(droplets: Record<string, Droplet>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [name, d] of Object.entries(droplets)) {
    const c = connectTransitd(name, d.transitdAddress);
    try {
      const dump = await c.dump({});
      out[name] = dump.endpoints.map((e) => `${e.vni}/${e.ip}${e.hostIp === d.ip && e.hostedIfindex >= 0 ? ' attached' : ''}`).sort();
    } finally {
      c.close();
    }
  }
  return out;
}

describe('control plane across processes', () => {
  let droplets: Record<string, Droplet>;
  let prefix: string;

  beforeAll(async () => {
    droplets = await makeDroplets(['h1', 'h2', 'sw'], 'cr');
    prefix = droplets.h1.prefix;
  });
  afterAll(async () => {
    if (droplets) await destroyDroplets(droplets);
  });

  it('a child builds a VPC and exits; a new controller lists it, pings across it, and finds nothing to repair', async () => {
    const run = await child(prefix, [
      { op: 'createVpc', args: { vni: VNI, cidr: '10.40.0.0/16', routers: ['sw'] } },
      { op: 'createNetwork', args: { vni: VNI, netId: 1, cidr: '10.40.1.0/24', switches: ['sw'] } },
      { op: 'createSimpleEndpoint', args: { vni: VNI, netId: 1, ip: ip(10), host: 'h1' } },
      { op: 'createSimpleEndpoint', args: { vni: VNI, netId: 1, ip: ip(11), host: 'h2' } },
      { op: 'createSimpleEndpoint', args: { vni: VNI, netId: 1, ip: ip(12), host: 'h1' } },
    ]);
    expect(run.code).toBe(0);
    expect(run.lines.map((l) => l.ok)).toEqual([true, true, true, true, true]);

    const again = await openDroplets({ prefix });
    expect(Object.keys(again).sort()).toEqual(['h1', 'h2', 'sw']);
    expect(again.h1.transitdPid).toBe(droplets.h1.transitdPid);
    const c = new Controller(again);
    try {
      expect(await c.listVpcs()).toEqual([{ vni: VNI, cidr: '10.40.0.0/16', routers: ['sw'], directPath: true }]);
      expect(await c.listNetworks({ vni: VNI })).toEqual([{ vni: VNI, netId: 1, cidr: '10.40.1.0/24', switches: ['sw'] }]);
      const eps = await c.listEndpoints({ vni: VNI });
      expect(eps.map((e) => `${e.ip}@${e.host?.id}`).sort()).toEqual([`${ip(10)}@h1`, `${ip(11)}@h2`, `${ip(12)}@h1`]);
      const e10 = eps.find((e) => e.ip === ip(10))!;
      expect((await e10.ping(ip(11))).ok).toBe(true);
      expect(await c.reconcile()).toMatchObject({ repaired: 0 });
      // Creating what exists is refused, as in the process that made it.
      await expect(c.createSimpleEndpoint({ vni: VNI, netId: 1, ip: ip(11), host: 'h2' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    } finally {
      await c.close();
    }
    await expect(c.listVpcs()).rejects.toBeInstanceOf(XvpcError);
    await expect(c.createVpc({ vni: 41, cidr: '10.41.0.0/16' })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });

  it('killed between the store commit and the hosts: the next reconcile programs what was committed', async () => {
    const run = await child(prefix, [{ op: 'createSimpleEndpoint', args: { vni: VNI, netId: 1, ip: ip(13), host: 'h2' } }],
      { env: { XVPC_TEST_CRASH_AFTER_STORE_COMMIT: '1' } });
    expect(run.signal).toBe('SIGKILL');
    expect(run.lines).toEqual([]); // killed before it could answer
    expect((await hostState(droplets)).h2).not.toContain(`${VNI}/${ip(13)} attached`);

    const c = new Controller(await openDroplets({ prefix }));
    try {
      const eps = await c.listEndpoints({ vni: VNI });
      expect(eps.map((e) => e.ip)).toContain(ip(13));
      const r = await c.reconcile();
      expect(r.repaired).toBeGreaterThanOrEqual(3); // record on h2 and sw, attachment on h2
      expect((await hostState(droplets)).h2).toContain(`${VNI}/${ip(13)} attached`);
      const e10 = eps.find((e) => e.ip === ip(10))!;
      expect((await e10.ping(ip(13))).ok).toBe(true);
      expect((await c.reconcile()).repaired).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('kill -9 in the middle of a batch: nothing duplicated or lost once reconciled', async () => {
    const calls = Array.from({ length: 24 }, (_, k) => ({
      op: 'createSimpleEndpoint', args: { vni: VNI, netId: 1, ip: ip(100 + k), host: k % 2 ? 'h1' : 'h2' },
    }));
    // Killed once the hosts are being programmed (the store has the batch: writes are ordered):
    // the first of its namespaces is there. A fixed delay raced the batch, which got fast.
    const namespaces = calls.map((c) => `/run/netns/${prefix}-${c.args.host}-e${VNI}-${c.args.ip.replaceAll('.', '-')}`);
    const run = await child(prefix, [{ op: 'parallel', calls }], { killWhen: () => namespaces.some((n) => existsSync(n)) });
    expect(run.signal).toBe('SIGKILL');

    const c = new Controller(await openDroplets({ prefix }));
    try {
      const listed = (await c.listEndpoints({ vni: VNI })).map((e) => e.ip);
      expect(new Set(listed).size).toBe(listed.length);
      await c.reconcile();
      expect((await c.reconcile()).repaired).toBe(0);
      // Each host holds exactly the endpoints the store names for it (and the switch all of them).
      const eps = await c.listEndpoints({ vni: VNI });
      const want = (h: string) => eps.filter((e) => e.host?.id === h).map((e) => `${VNI}/${e.ip} attached`).sort();
      const have = await hostState(droplets);
      expect(have.h1).toEqual(want('h1'));
      expect(have.h2).toEqual(want('h2'));
      expect(have.sw).toEqual(eps.map((e) => `${VNI}/${e.ip}`).sort());
      // Whatever the killed child managed to commit works.
      const e10 = eps.find((e) => e.ip === ip(10))!;
      for (const e of eps.filter((x) => x.ip.startsWith('10.40.1.1') && x.ip !== ip(10)).slice(0, 3)) expect((await e10.ping(e.ip, { count: 1 })).ok).toBe(true);
      // And the rest can be made now, once.
      for (const call of calls) {
        if (!listed.includes(call.args.ip)) await c.createSimpleEndpoint(call.args);
      }
      expect((await c.listEndpoints({ vni: VNI })).length).toBe(4 + 24);
    } finally {
      await c.close();
    }
  });

  it('a new process deletes part; another lists the rest, and the hosts agree', async () => {
    const del = await child(prefix, [
      { op: 'deleteSimpleEndpoint', args: { vni: VNI, netId: 1, ip: ip(11) } },
      ...Array.from({ length: 24 }, (_, k) => ({ op: 'deleteSimpleEndpoint', args: { vni: VNI, netId: 1, ip: ip(100 + k) } })),
    ]);
    expect(del.code).toBe(0);
    expect(del.lines.every((l) => l.ok)).toBe(true);
    const list = await child(prefix, [{ op: 'listEndpoints', args: { vni: VNI } }]);
    expect(list.lines[0].result.map((e: { ip: string }) => e.ip).sort()).toEqual([ip(10), ip(12), ip(13)]);
    const have = await hostState(droplets);
    expect(have.h1).toEqual([`${VNI}/${ip(10)} attached`, `${VNI}/${ip(12)} attached`]);
    expect(have.h2).toEqual([`${VNI}/${ip(13)} attached`]);
    expect(have.sw).toEqual([ip(10), ip(12), ip(13)].map((x) => `${VNI}/${x}`));
  });
});

describe('two processes make droplets of one prefix at once', () => {
  it('one makes them, the other gets ALREADY_EXISTS (never a raw "File exists")', async () => {
    const prefix = shortPrefix('cl');
    try {
      const runs = await Promise.all([0, 1].map(() => child(prefix, [{ op: 'createDroplets', names: ['a', 'b'] }])));
      const results = runs.map((r) => r.lines[0]);
      expect(results.filter((r) => r.ok).length).toBe(1);
      expect(results.find((r) => !r.ok)).toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(Object.keys(await openDroplets({ prefix })).sort()).toEqual(['a', 'b']);
    } finally {
      await cleanupAll(prefix);
    }
  });

  it('openDroplets of a prefix with none is NOT_FOUND', async () => {
    await expect(openDroplets({ prefix: shortPrefix('cn') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(openDroplets({ prefix: 'BAD!' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

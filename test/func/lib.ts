// Shared pieces of the functional suite: droplets with a unique prefix,
// traffic checks, and counter deltas that prove packets crossed XDP.
import { randomBytes } from 'node:crypto';
import { afterEach, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { PROBE, startServer } from './probe.js';
import { createDroplets, destroyDroplets as destroyAll, type Droplet } from '../../src/droplet/index.js';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import type { AttachMode } from '../../src/dataplane/host.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { XvpcError } from '../../src/errors.js';

export { PROBE };
export const UDP_GSO = fileURLToPath(new URL('../lib/udp-gso.py', import.meta.url));

/** ≤ 6 chars, unique per run. */
export const shortPrefix = (tag: string): string => `${tag}${randomBytes(2).toString('hex')}`.slice(0, 6);

export async function makeDroplets(names: string[], tag: string, backend: 'netns' | 'docker' = 'netns',
  mode?: AttachMode): Promise<Record<string, Droplet>> {
  const droplets = await createDroplets(names, { prefix: shortPrefix(tag), backend, mode });
  for (const d of Object.values(droplets)) watched.set(d, { seen: 0, allowed: 0, pid: d.transitdPid });
  return droplets;
}

export async function destroyDroplets(droplets: Record<string, Droplet>): Promise<void> {
  for (const d of Object.values(droplets)) watched.delete(d);
  await destroyAll(droplets);
}

// ---- no transitd call fails unless the test meant it (as Mizar checked its failed RPCs) ----

/** Droplets of this test file, with the failed calls already accounted for. */
const watched = new Map<Droplet, { seen: number; allowed: number; pid: number | undefined }>();

/** The test makes `count` calls to this droplet's transitd fail on purpose. */
export function expectFailedCalls(droplet: Droplet, count: number): void {
  const w = watched.get(droplet);
  if (w) w.allowed += count;
}

async function failedCalls(d: Droplet) {
  const client = connectTransitd(d.id, d.transitdAddress);
  try {
    return await client.getFailedCalls({}, { timeoutMs: 10_000 });
  } finally {
    client.close();
  }
}

/** After every test: each live droplet's transitd failed exactly the calls the test expected. */
afterEach(async () => {
  for (const [d, w] of watched) {
    let r;
    try {
      r = await failedCalls(d);
    } catch (err) {
      if (err instanceof XvpcError && err.code === 'UNAVAILABLE') continue; // stopped by the test (a restart, a crash test)
      throw err;
    }
    const total = Number(r.total);
    // A restarted transitd counts from 0 (a droplet of a shared transitd host restarts within the same process).
    if (d.transitdPid !== w.pid || total < w.seen) w.seen = 0;
    w.pid = d.transitdPid;
    const unexpected = total - w.seen - w.allowed;
    w.seen = total;
    w.allowed = 0;
    const recent = r.last.slice(-Math.max(unexpected, 1)).map((c) => `${c.method}: ${c.code} ${c.message}`);
    expect(unexpected, `${d.id}: transitd calls failed that the test did not expect:\n${recent.join('\n')}`).toBe(0);
  }
});

/** Each droplet's count of failed transitd calls so far. */
export async function failedTotals(droplets: Record<string, Droplet>): Promise<Map<Droplet, number>> {
  return new Map(await Promise.all(Object.values(droplets).map(async (d) => {
    const t = connectTransitd(d.id, d.transitdAddress);
    try { return [d, Number((await t.getFailedCalls({})).total)] as const; } finally { t.close(); }
  })));
}

/**
 * Every transitd call that failed since `before` was refused by the host's
 * fence with a message matching `why`; expected so. Counted once the counts
 * stay put for a second: a controller's reconcile that failed on one host may
 * still have calls to others in flight.
 */
export async function expectOnlyFenceRefusals(before: Map<Droplet, number>, why: RegExp): Promise<number> {
  let totals = await failedTotals(Object.fromEntries([...before.keys()].map((d) => [d.id, d])));
  for (let still = 0, tries = 0; still < 4 && tries < 40; tries++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await failedTotals(Object.fromEntries([...before.keys()].map((d) => [d.id, d])));
    still = [...now].every(([d, n]) => totals.get(d) === n) ? still + 1 : 0;
    totals = now;
  }
  let all = 0;
  for (const [d, total] of before) {
    const t = connectTransitd(d.id, d.transitdAddress);
    try {
      const r = await t.getFailedCalls({});
      const refused = Number(r.total) - total;
      if (refused > 0) for (const f of r.last.slice(r.last.length - refused)) expect(`${f.code} ${f.message}`, d.id).toMatch(why);
      expectFailedCalls(d, refused);
      all += refused;
    } finally { t.close(); }
  }
  return all;
}

export type Counters = Record<string, number>;

export async function snapshot(droplets: Droplet[]): Promise<Counters[]> {
  return Promise.all(droplets.map((d) => d.stats()));
}

export function delta(before: Counters, after: Counters, name: string): number {
  return (after[name] ?? 0) - (before[name] ?? 0);
}

/** Pings and expects every echo answered. */
export async function expectPing(from: Endpoint, to: string, count = 5): Promise<void> {
  const r = await from.ping(to, { count });
  expect(r, `${from.ip} -> ${to}`).toMatchObject({ ok: true, transmitted: count, received: count });
}

/** Pings and expects every echo request sent and none answered (a ping that never ran fails). */
export async function expectNoPing(from: Endpoint, to: string, count = 2): Promise<void> {
  const r = await from.ping(to, { count, timeoutMs: 2000 });
  expect(r, `${from.ip} -> ${to} must send ${count} echo requests and get no answer`)
    .toMatchObject({ ok: false, transmitted: count, received: 0 });
}

/** Starts an echo server on `server`, asks it from `client`, checks the answer. */
export async function expectEcho(proto: 'tcp' | 'udp' | 'http', client: Endpoint, server: Endpoint, port: number): Promise<void> {
  const serving = await startServer(server, proto, port, { seconds: 20 });
  try {
    const msg = `${proto}-${client.ip}-to-${server.ip}`;
    const r = await client.run([process.execPath, PROBE, 'ask', proto, server.ip, String(port), msg], { timeoutMs: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`pong:${msg}`);
  } finally {
    await serving.stop();
  }
}

export interface SwitchScenario {
  droplets: Record<string, Droplet>;
  c: Controller<Droplet>;
  left: Endpoint;
  right: Endpoint;
  /** Closes the controller and destroys the droplets (idempotent). */
  close(): Promise<void>;
}

/**
 * The basic scenario: VPC `vni` with one network (`net`.0.0/16) switched by
 * droplet 'switch', endpoints `net`.0.2 on 'left' and `net`.0.3 on `rightHost`.
 * If setting it up fails, whatever was made is torn down before the error.
 */
export async function switchScenario(tag: string, opts: {
  backend?: 'netns' | 'docker'; vni?: number; net?: string; rightHost?: 'right' | 'switch'; mode?: AttachMode;
  /** the VPC's direct path (default on, as createVpc's) */
  directPath?: boolean;
} = {}): Promise<SwitchScenario> {
  const { backend = 'netns', vni = 3, net = '10.0', rightHost = 'right', mode, directPath } = opts;
  const names = rightHost === 'right' ? ['left', 'right', 'switch'] : ['left', 'switch'];
  const droplets = await makeDroplets(names, tag, backend, mode);
  const c = new Controller(droplets);
  const close = async () => {
    await c.close();
    await destroyDroplets(droplets);
  };
  try {
    await c.createVpc({ vni, cidr: `${net}.0.0/16`, routers: [], directPath });
    await c.createNetwork({ vni, netId: 1, cidr: `${net}.0.0/16`, switches: ['switch'] });
    const left = await c.createSimpleEndpoint({ vni, netId: 1, ip: `${net}.0.2`, host: 'left' });
    const right = await c.createSimpleEndpoint({ vni, netId: 1, ip: `${net}.0.3`, host: rightHost });
    return { droplets, c, left, right, close };
  } catch (err) {
    await close();
    throw err;
  }
}

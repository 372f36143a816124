// transitd --metrics: scraped from inside the droplets, the data-path counters,
// map occupancy and RPC counts move with what happens (a ping through a switch,
// a failed call), the Controller's reconciles are counted and timed, and
// `xvpc status` reports each host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import { createDroplets, destroyDroplets, type Droplet } from '../../src/droplet/index.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { expectPing, shortPrefix } from './lib.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

type Samples = Map<string, number>;

/** name{labels} -> value, with the labels sorted (see key()). */
function parse(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+|NaN)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out.set(key(m[1], labels), Number(m[3]));
  }
  return out;
}

const key = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
/** A sample's key: metric, host and other labels. */
const k = (name: string, host: string, labels: Record<string, string> = {}) => key(name, { ...labels, host });

describe('transitd metrics and xvpc status', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let left: Endpoint;
  let right: Endpoint;

  const scrape = async (d: Droplet): Promise<Samples> => {
    const r = await d.run([process.execPath, '-e', `fetch(${JSON.stringify(d.metricsUrl)}).then((r) => r.text()).then((t) => process.stdout.write(t))`], { timeoutMs: 20_000 });
    expect(r.stderr).toBe('');
    return parse(r.stdout);
  };
  const get = (s: Samples, key: string): number => {
    const v = s.get(key);
    if (v === undefined) throw new Error(`no sample ${key}`);
    return v;
  };

  beforeAll(async () => {
    droplets = await createDroplets(['left', 'right', 'switch'], { prefix: shortPrefix('mx'), transitdMetricsPort: 9464 });
    c = new Controller(droplets);
    await c.createVpc({ vni: 3, cidr: '10.0.0.0/16', routers: [], directPath: false });
    await c.createNetwork({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });
    left = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.2', host: 'left' });
    right = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.3', host: 'right' });
  });

  afterAll(async () => {
    await c?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('data-path counters move with traffic; every drop reason and map is exported', async () => {
    const before = await Promise.all([droplets.left, droplets.switch].map(scrape));
    await expectPing(left, right.ip, 5);
    const after = await Promise.all([droplets.left, droplets.switch].map(scrape));
    const moved = (i: number, key: string) => get(after[i], key) - get(before[i], key);

    expect(moved(0, k('xvpc_datapath_packets_total', 'left', { program: 'agent', verdict: 'rx' }))).toBeGreaterThanOrEqual(5);
    expect(moved(0, k('xvpc_datapath_events_total', 'left', { event: 'encap' }))).toBeGreaterThanOrEqual(5);
    expect(moved(1, k('xvpc_datapath_packets_total', 'switch', { program: 'transit', verdict: 'tx' }))).toBeGreaterThanOrEqual(10);
    expect(moved(1, k('xvpc_datapath_events_total', 'switch', { event: 'switch_fwd' }))).toBeGreaterThanOrEqual(10);
    for (const reason of ['truncated', 'bad_ip', 'spoofed', 'no_route', 'ttl']) {
      expect(after[1].has(k('xvpc_datapath_drops_total', 'switch', { reason })), reason).toBe(true);
    }
    // The switch holds both endpoint records, left its own agent; capacities are the maps' max_entries.
    expect(get(after[1], k('xvpc_map_entries', 'switch', { map: 'endpoints' }))).toBe(2);
    expect(get(after[0], k('xvpc_map_entries', 'left', { map: 'agent_meta' }))).toBe(1);
    expect(get(after[0], k('xvpc_map_capacity', 'left', { map: 'endpoints' }))).toBeGreaterThan(2);
  });

  it('RPC counts, errors and latencies', async () => {
    const d = droplets.right;
    const before = await scrape(d);
    const client = connectTransitd(d.id, d.transitdAddress);
    try {
      await client.health({});
      await expect(client.getVpc({ vni: 999 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally { client.close(); }
    const after = await scrape(d);
    const moved = (key: string) => get(after, key) - (before.get(key) ?? 0);
    expect(moved(k('xvpc_rpc_requests_total', 'right', { method: 'health', code: 'OK' }))).toBeGreaterThanOrEqual(1);
    expect(moved(k('xvpc_rpc_requests_total', 'right', { method: 'getVpc', code: 'NOT_FOUND' }))).toBe(1);
    expect(moved(k('xvpc_rpc_duration_seconds_count', 'right', { method: 'getVpc' }))).toBe(1);
    expect(get(after, k('xvpc_rpc_duration_seconds_sum', 'right', { method: 'getVpc' }))).toBeGreaterThan(0);
  });

  it('the Controller exports reconcile counts and durations', async () => {
    const before = parse(await c.metrics.registry.metrics());
    const ok = (s: Samples) => s.get(key('xvpc_controller_reconciles_total', { outcome: 'ok' })) ?? 0;
    const count = (s: Samples) => s.get(key('xvpc_controller_reconcile_duration_seconds_count', { outcome: 'ok' })) ?? 0;
    expect(ok(before)).toBeGreaterThanOrEqual(4); // VPC, network, two endpoints
    await c.createVpc({ vni: 4, cidr: '10.4.0.0/16', routers: [] });
    const after = parse(await c.metrics.registry.metrics());
    expect(ok(after) - ok(before)).toBe(1);
    expect(count(after) - count(before)).toBe(1);
    expect(after.get(key('xvpc_controller_reconcile_duration_seconds_sum', { outcome: 'ok' }))).toBeGreaterThan(0);
  });

  it('xvpc status shows every host: health, program, version, map occupancy', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--prefix', droplets.left.prefix, '--json']);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    // One line per host, then one for the controller (its store and drift).
    const hosts = lines.filter((l) => 'host' in l);
    expect(lines.filter((l) => !('host' in l)).map((l) => Object.keys(l))).toEqual([['controller']]);
    expect(hosts.map((h: { host: string }) => h.host).sort()).toEqual(['left', 'right', 'switch']);
    for (const h of hosts) {
      expect(h).toMatchObject({ healthy: true, transitLoaded: true, hook: droplets[h.host].mode === 'tc' ? 'tc' : 'xdp', version: expect.any(String) });
      const endpoints = h.maps.find((m: { name: string }) => m.name === 'endpoints');
      expect(endpoints.capacity).toBeGreaterThan(2);
      if (h.host === 'switch') expect(endpoints.entries).toBe(2);
      else expect(endpoints.entries).toBeGreaterThanOrEqual(1);
    }
    const text = (await promisify(execFile)(process.execPath, [CLI, 'status', '--prefix', droplets.left.prefix])).stdout;
    expect(text).toMatch(/left\s+ok\s+/);
    expect(text).toMatch(/switch\s+ok\s+.*endpoints 2\//);
  });
});

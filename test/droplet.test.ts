// Droplets: plumbing of both backends (namespaces or containers on one
// underlay bridge), transitd's lifecycle inside them, and cleanup after a
// crashed run. Every prefix a test uses is removed in afterAll, pass or fail.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { connectTransitd } from '../src/transitd/client.js';
import { XvpcError } from '../src/errors.js';
import { DEFAULT_DROPLET_MODE, cleanupAll, createDroplets, destroyDroplets, type Droplet } from '../src/droplet/index.js';
import { dockerRunning, docker } from '../src/droplet/docker.js';
import { ownerOf } from '../src/droplet/names.js';
import { NEIGHBOUR_LIMITS } from '../src/droplet/neighbour-limits.js';
import { isRunning } from '../src/droplet/process.js';
import { endpointNames } from '../src/transitd/plumbing.js';
import { must, run } from '../src/util/exec.js';
import { listNamespaces } from '../src/util/netns.js';

// Prefixes are ≤ 6 characters: 'd' + 4 hex keeps concurrent runs apart.
const used: string[] = [];
function newPrefix(): string {
  const p = `d${randomBytes(2).toString('hex')}`;
  used.push(p);
  return p;
}

afterAll(async () => {
  for (const p of used) await cleanupAll(p);
}, 120_000);

async function eth0(d: Droplet): Promise<{ ip: string; mac: string; prefixLen: number }> {
  const r = await d.run(['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
  expect(r.code, r.stderr).toBe(0);
  const [link] = JSON.parse(r.stdout);
  const inet = link.addr_info.find((a: { family: string }) => a.family === 'inet');
  return { ip: inet.local, mac: link.address, prefixLen: inet.prefixlen };
}

/** The XDP program on a droplet's bridge port, if any. */
async function portXdp(d: Droplet): Promise<unknown> {
  const [port] = JSON.parse(await must(['ip', '-n', d.underlayNs, '-j', 'link', 'show', 'dev', d.underlayPort]));
  return port.xdp;
}

async function pingOk(from: Droplet, to: string): Promise<void> {
  const r = await from.run(['ping', '-c', '2', '-i', '0.2', '-W', '2', to], { timeoutMs: 15_000 });
  expect(r.code, `${from.id} -> ${to}: ${r.stdout}${r.stderr}`).toBe(0);
}

/** Entries of the xvpc bpffs dir; none if it does not exist yet, any other error fails. */
async function pinDirs(): Promise<string[]> {
  try {
    return await readdir('/sys/fs/bpf/xvpc');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Everything a prefix may leave on the machine; all empty once it is gone. */
async function leftovers(prefix: string): Promise<{ namespaces: string[]; pins: string[]; runDir: boolean }> {
  return {
    namespaces: (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`)),
    pins: (await pinDirs()).filter((n) => n.startsWith(`${prefix}-`)),
    runDir: existsSync(`/run/xvpc/${prefix}`),
  };
}
const NOTHING = { namespaces: [], pins: [], runDir: false };

async function expectCode(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a rejection').toBeInstanceOf(XvpcError);
  expect((err as XvpcError).code).toBe(code);
  if (pattern) expect((err as XvpcError).message).toMatch(pattern);
}

describe('netns droplets (plumbing, no transitd)', () => {
  const prefix = newPrefix();
  let d: Record<string, Droplet> = {};

  it('creates three droplets with distinct addresses that match their eth0', async () => {
    d = await createDroplets(['a', 'b', 'c'], { prefix, transitd: false });
    expect(Object.keys(d)).toEqual(['a', 'b', 'c']);
    const ips = new Set<string>();
    const macs = new Set<string>();
    for (const drop of Object.values(d)) {
      expect(drop.backend).toBe('netns');
      expect(drop.prefix).toBe(prefix);
      expect(drop.transitdAddress).toBe(`unix:///run/xvpc/${prefix}/${drop.id}.sock`);
      const e = await eth0(drop);
      expect(e).toEqual({ ip: drop.ip, mac: drop.mac, prefixLen: 16 });
      ips.add(drop.ip);
      macs.add(drop.mac);
    }
    expect(ips.size).toBe(3);
    expect(macs.size).toBe(3);
    expect((await listNamespaces())).toEqual(expect.arrayContaining([`${prefix}-ul`, `${prefix}-a`, `${prefix}-b`, `${prefix}-c`]));
    // The machine's one ARP table holds the emulated endpoints' neighbours: its limits are raised (never lowered).
    for (const [k, floor] of Object.entries(NEIGHBOUR_LIMITS)) {
      expect(Number((await readFile(`/proc/sys/net/ipv4/neigh/default/${k}`, 'utf8')).trim()), k).toBeGreaterThanOrEqual(floor);
    }
  });

  it('droplets reach each other over the underlay bridge, with dockerd running', async () => {
    // dockerd loads br_netfilter and sets FORWARD DROP: the bridge must not care.
    expect(await dockerRunning(), 'dockerd must run for this check').toBe(true);
    for (const from of Object.values(d)) {
      for (const to of Object.values(d)) if (from !== to) await pingOk(from, to.ip);
    }
    const nf = await run(['ip', 'netns', 'exec', `${prefix}-ul`, 'sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']);
    expect(nf.code, `br_netfilter must be loaded for this check (dockerd loads it): ${nf.stderr}`).toBe(0);
    expect(nf.stdout.trim()).toBe('0');
  });

  it('runs xdp_pass on the bridge port of XDP droplets only (XDP_TX out of eth0 needs it; on TC it would only cost GSO)', async () => {
    const mode = process.env.XVPC_MODE ?? DEFAULT_DROPLET_MODE;
    for (const drop of Object.values(d)) {
      expect(drop.mode).toBe(mode);
      expect(await portXdp(drop) !== undefined, drop.id).toBe(mode !== 'tc');
    }
    const other = mode === 'tc' ? 'native' : 'tc';
    // One data path per underlay: TC endpoints' offloaded checksums would die at an XDP host.
    await expectCode(createDroplets(['x'], { prefix, transitd: false, mode: other }), 'FAILED_PRECONDITION', /one data path per prefix/);
    const x = await createDroplets(['x'], { prefix: newPrefix(), transitd: false, mode: other });
    try {
      expect(x.x.mode).toBe(other);
      expect(await portXdp(x.x) !== undefined).toBe(other !== 'tc');
    } finally {
      await destroyDroplets(x);
    }
  });

  it('run() returns exit code, stdout and stderr, and honours timeoutMs', async () => {
    const r = await d.a.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const ns = await d.a.run(['ip', '-j', 'link', 'show']);
    expect(JSON.parse(ns.stdout).map((l: { ifname: string }) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    const slow = await d.a.run(['sleep', '10'], { timeoutMs: 300 });
    expect(slow.code).not.toBe(0);
  });

  it('netnsRun() runs inside a namespace of the droplet', async () => {
    const r = await d.b.netnsRun(`${prefix}-b`, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(d.b.ip);
  });

  it('rejects bad names and prefixes with INVALID_ARGUMENT and makes nothing', async () => {
    const fresh = newPrefix();
    for (const names of [[], [''], ['A'], ['a_b'], ['-a'], ['a-'], ['x'.repeat(13)], ['ul'], ['a', 'a']]) {
      await expectCode(createDroplets(names, { prefix: fresh, transitd: false }), 'INVALID_ARGUMENT', /names/);
    }
    for (const bad of ['', 'toolong', 'A1', 'a-b', 'a_b']) {
      await expectCode(createDroplets(['a'], { prefix: bad, transitd: false }), 'INVALID_ARGUMENT', /prefix/);
    }
    await expectCode(createDroplets(['a'], { prefix: fresh, transitd: false, backend: 'vm' as never }), 'INVALID_ARGUMENT', /backend/);
    expect(await leftovers(fresh)).toEqual(NOTHING);
  });

  it('adds droplets to an existing prefix, refuses a duplicate, and destroy spares other droplets', async () => {
    await expectCode(createDroplets(['a'], { prefix, transitd: false }), 'ALREADY_EXISTS', /'a'/);
    const more = await createDroplets(['a-e1'], { prefix, transitd: false });
    const extra = more['a-e1'];
    expect(Object.values(d).map((x) => x.ip)).not.toContain(extra.ip);
    await pingOk(extra, d.a.ip);
    // An endpoint namespace of 'a' (transitd's naming) goes with 'a'; 'a-e1' is not 'a''s endpoint.
    expect(ownerOf(`${prefix}-a-e1`, prefix, ['a', 'a-e1'])).toBe('a-e1');
    expect(ownerOf(`${prefix}-a-e3-10-0-0-2`, prefix, ['a', 'a-e1'])).toBe('a');
    await run(['ip', 'netns', 'add', `${prefix}-a-e3-10-0-0-2`]);
    await d.a.destroy();
    const names = await listNamespaces();
    expect(names).not.toContain(`${prefix}-a`);
    expect(names).not.toContain(`${prefix}-a-e3-10-0-0-2`);
    expect(names).toContain(`${prefix}-a-e1`);
    await pingOk(extra, d.b.ip); // the underlay stays for the others
    await d.a.destroy(); // idempotent
    d['a-e1'] = extra;
  });

  it('destroyDroplets leaves no namespace, bridge, pin or run dir; twice is fine', async () => {
    await destroyDroplets(d);
    expect(await leftovers(prefix)).toEqual(NOTHING);
    await destroyDroplets(d);
    expect(await leftovers(prefix)).toEqual(NOTHING);
  });

  it('cleanupAll(prefix) removes a crashed run\'s leftovers', async () => {
    const p = newPrefix();
    await createDroplets(['x', 'y'], { prefix: p, transitd: false });
    // What a crash would leave besides: an endpoint namespace, pins, a transitd.
    await run(['ip', 'netns', 'add', `${p}-x-e7-10-1-0-5`]);
    await mkdir(`/sys/fs/bpf/xvpc/${p}-x`, { recursive: true });
    const fake = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '--socket', `/run/xvpc/${p}/x.sock`], {
      stdio: 'ignore',
    });
    await new Promise((r) => fake.once('spawn', r));
    const summary = await cleanupAll(p);
    expect(summary.prefixes).toEqual([p]);
    expect(summary.namespaces.sort()).toEqual([`${p}-ul`, `${p}-x`, `${p}-x-e7-10-1-0-5`, `${p}-y`].sort());
    expect(summary.pins).toEqual([`/sys/fs/bpf/xvpc/${p}-x`]);
    expect(summary.processes).toEqual([fake.pid]);
    expect(summary.runDirs).toEqual([`/run/xvpc/${p}`]);
    expect(await isRunning(fake.pid!)).toBe(false);
    expect(await leftovers(p)).toEqual(NOTHING);
    const again = await cleanupAll(p);
    expect(again.namespaces).toEqual([]);
  });

  it('cleanupAll removes the prefix lock of a run killed while making droplets, and keeps a live one', async () => {
    const dead = newPrefix();
    const live = newPrefix();
    // a pid that is no process: a child that has exited
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => gone.once('exit', r));
    await writeFile(`/run/xvpc/${dead}.lock`, `${gone.pid}\n`);
    await writeFile(`/run/xvpc/${live}.lock`, `${process.pid}\n`);
    try {
      expect((await cleanupAll(dead)).locks).toEqual([`/run/xvpc/${dead}.lock`]);
      expect(existsSync(`/run/xvpc/${dead}.lock`)).toBe(false);
      expect((await cleanupAll(live)).locks).toEqual([]);
      expect(existsSync(`/run/xvpc/${live}.lock`)).toBe(true);
    } finally {
      await rm(`/run/xvpc/${dead}.lock`, { force: true });
      await rm(`/run/xvpc/${live}.lock`, { force: true });
    }
  });
});

describe('netns droplets with transitd', () => {
  const prefix = newPrefix();
  let d: Record<string, Droplet> = {};

  it('starts transitd in every droplet, answering on its unix socket', async () => {
    expect(existsSync(new URL('../dist/transitd/main.js', import.meta.url)), 'dist/transitd/main.js: run npm run build').toBe(true);
    d = await createDroplets(['left', 'right'], { prefix });
    for (const drop of Object.values(d)) {
      const h = await drop.health();
      expect(h).toMatchObject({ host: drop.id, ip: drop.ip, mac: drop.mac, pid: drop.transitdPid, transitLoaded: true });
      expect(await isRunning(drop.transitdPid!)).toBe(true);
      expect(Number((await readFile(`/run/xvpc/${prefix}/${drop.id}.pid`, 'utf8')).trim())).toBe(drop.transitdPid);
      expect((await readdir(drop.pinRoot)).length).toBeGreaterThan(0);
      const stats = await drop.stats();
      expect(Object.keys(stats).length).toBeGreaterThan(0);
      for (const v of Object.values(stats)) expect(typeof v).toBe('number');
    }
  });

  it('keeps the underlay working with the transit program on eth0', async () => {
    await pingOk(d.left, d.right.ip);
    await pingOk(d.right, d.left.ip);
  });

  it('restartTransitd gives a new process that finds its pins again', async () => {
    const before = d.left.transitdPid!;
    const pins = (await readdir(d.left.pinRoot)).sort();
    await d.left.restartTransitd();
    expect(d.left.transitdPid).not.toBe(before);
    expect(await isRunning(before)).toBe(false);
    expect((await readdir(d.left.pinRoot)).sort()).toEqual(pins);
    expect((await d.left.health()).pid).toBe(d.left.transitdPid);
    await pingOk(d.left, d.right.ip);
  });

  it('stopTransitd stops it; stats then fails cleanly; startTransitd brings it back', async () => {
    const pid = d.right.transitdPid!;
    await d.right.stopTransitd();
    expect(await isRunning(pid)).toBe(false);
    expect(existsSync(`/run/xvpc/${prefix}/right.pid`)).toBe(false);
    await expectCode(d.right.stats(), 'FAILED_PRECONDITION');
    await d.right.stopTransitd(); // idempotent
    await d.right.startTransitd();
    expect(await isRunning(d.right.transitdPid!)).toBe(true);
  });

  it('destroy removes the endpoint namespaces transitd made, the pins and the process', async () => {
    const client = connectTransitd('left', d.left.transitdAddress);
    try {
      const reply = await client.attachEndpoint({
        vni: 3, netId: 1, ip: '10.0.0.2', mac: '02:00:0a:00:00:02', cidr: '10.0.0.0/16', gatewayIp: '10.0.0.1',
        hostEndpoint: false, mtu: 0, vpcCidr: '',
      });
      expect(reply.netns.startsWith(`${prefix}-left-e`)).toBe(true);
      const inside = await d.left.netnsRun(reply.netns, ['ip', '-j', 'addr', 'show', 'dev', 'veth0']);
      expect(inside.stdout).toContain('10.0.0.2');
      // Both sides of the pair: one queue each way (plumbing.ts ONE_QUEUE), the same MTU.
      const link = async (r: Promise<{ stdout: string }>) => {
        const [l] = JSON.parse((await r).stdout) as { mtu: number; num_tx_queues: number; num_rx_queues: number }[];
        return { mtu: l.mtu, tx: l.num_tx_queues, rx: l.num_rx_queues };
      };
      const endpointSide = await link(d.left.netnsRun(reply.netns, ['ip', '-j', '-d', 'link', 'show', 'dev', 'veth0']));
      const hostSide = await link(d.left.run(['ip', '-j', '-d', 'link', 'show', 'dev', endpointNames('', 3, '10.0.0.2', false).veth]));
      expect(endpointSide).toEqual({ mtu: hostSide.mtu, tx: 1, rx: 1 });
      expect(hostSide).toEqual({ mtu: endpointSide.mtu, tx: 1, rx: 1 });
      expect(endpointSide.mtu).toBeGreaterThanOrEqual(1280);
    } finally {
      client.close();
    }
    const pids = Object.values(d).map((x) => x.transitdPid!);
    await destroyDroplets(d);
    for (const pid of pids) expect(await isRunning(pid)).toBe(false);
    expect(await leftovers(prefix)).toEqual(NOTHING);
  });

  it('a create that fails (transitd not answering in time) leaves nothing behind', async () => {
    const p = newPrefix();
    await expectCode(createDroplets(['f1', 'f2'], { prefix: p, transitdTimeoutMs: 1 }), 'UNAVAILABLE', /did not answer|exited/);
    expect(await leftovers(p)).toEqual(NOTHING);
    const { findProcesses } = await import('../src/droplet/process.js');
    expect(await findProcesses(`/run/xvpc/${p}/`)).toEqual([]);
  });

  it('XVPC_TRANSITD_CAPACITY sizes the maps of transitds started under it; a bad one stops start-up, naming it, and leaves nothing', async () => {
    const p = newPrefix();
    const saved = process.env.XVPC_TRANSITD_CAPACITY;
    const maxEntries = async (pin: string) => (JSON.parse(await must(['bpftool', '-j', 'map', 'show', 'pinned', pin])) as { max_entries: number }).max_entries;
    try {
      process.env.XVPC_TRANSITD_CAPACITY = 'conntrack=4096,endpoints=16384,vpcs=2';
      const small = await createDroplets(['c1'], { prefix: p });
      try {
        expect(await maxEntries(`${small.c1.pinRoot}/conntrack`)).toBe(4096);
        expect(await maxEntries(`${small.c1.pinRoot}/endpoints`)).toBe(16384);
        expect(await maxEntries(`${small.c1.pinRoot}/ep_host_cache`)).toBe(65536); // not named: the default
        expect((await small.c1.health()).transitLoaded).toBe(true);
        // A full map is the caller's to change: FAILED_PRECONDITION naming it, nothing applied.
        const c = connectTransitd(small.c1.id, small.c1.transitdAddress);
        try {
          await c.createVpc({ vni: 1, routers: [] });
          await c.createVpc({ vni: 2, routers: [] });
          await expectCode(c.createVpc({ vni: 3, routers: [] }), 'FAILED_PRECONDITION', /^c1: vpc 3: map vpcs is full \(delete records, or start transitd with a larger --capacity vpcs=N\)/);
          const goal = {
            substrate: [], vpcs: [{ vni: 4, routers: [], directPath: false }], networks: [], endpoints: [], deleteSubstrate: [], deleteVpcs: [],
            deleteNetworks: [], deleteEndpoints: [], securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
          };
          await expectCode(c.applyGoalState(goal), 'FAILED_PRECONDITION', /map vpcs is full/);
          expect((await c.dump({})).vpcs.map((v) => v.vni).sort()).toEqual([1, 2]);
        } finally {
          c.close();
        }
      } finally {
        await destroyDroplets(small);
      }
      process.env.XVPC_TRANSITD_CAPACITY = 'conntrack=0';
      await expectCode(createDroplets(['c2'], { prefix: p }), 'UNAVAILABLE', /XVPC_TRANSITD_CAPACITY: conntrack=0 is outside 1\.\.16777216/);
      expect(await leftovers(p)).toEqual(NOTHING);
    } finally {
      if (saved === undefined) delete process.env.XVPC_TRANSITD_CAPACITY;
      else process.env.XVPC_TRANSITD_CAPACITY = saved;
    }
  });

  it('XVPC_TRANSITD_PREALLOCATE=endpoints preallocates the endpoints map of transitds started under it; a bad one stops start-up, naming it', async () => {
    const p = newPrefix();
    const saved = process.env.XVPC_TRANSITD_PREALLOCATE;
    const flags = async (pin: string) => (JSON.parse(await must(['bpftool', '-j', 'map', 'show', 'pinned', pin])) as { flags: number }).flags;
    try {
      delete process.env.XVPC_TRANSITD_PREALLOCATE;
      const plain = await createDroplets(['a1'], { prefix: p });
      try {
        expect(await flags(`${plain.a1.pinRoot}/endpoints`)).toBe(1); // BPF_F_NO_PREALLOC: the default
      } finally {
        await destroyDroplets(plain);
      }
      process.env.XVPC_TRANSITD_PREALLOCATE = 'endpoints';
      const pre = await createDroplets(['a2'], { prefix: p });
      try {
        expect(await flags(`${pre.a2.pinRoot}/endpoints`)).toBe(0);
        expect(await flags(`${pre.a2.pinRoot}/substrate`)).toBe(1); // only the endpoints map
        expect((await pre.a2.health()).transitLoaded).toBe(true);
      } finally {
        await destroyDroplets(pre);
      }
      process.env.XVPC_TRANSITD_PREALLOCATE = 'conntrack';
      await expectCode(createDroplets(['a3'], { prefix: p }), 'UNAVAILABLE', /XVPC_TRANSITD_PREALLOCATE: 'conntrack' cannot be preallocated \(only: endpoints\)/);
      expect(await leftovers(p)).toEqual(NOTHING);
    } finally {
      if (saved === undefined) delete process.env.XVPC_TRANSITD_PREALLOCATE;
      else process.env.XVPC_TRANSITD_PREALLOCATE = saved;
    }
  });

  it('cleanupAll(prefix) stops the transitds of a crashed run', async () => {
    const p = newPrefix();
    const run1 = await createDroplets(['h1'], { prefix: p });
    const pid = run1.h1.transitdPid!;
    const summary = await cleanupAll(p);
    expect(summary.processes).toEqual([pid]);
    expect(await isRunning(pid)).toBe(false);
    expect(await leftovers(p)).toEqual(NOTHING);
  });
});

describe('docker droplets', () => {
  const prefix = newPrefix();
  let d: Record<string, Droplet> = {};

  const containers = async (p: string) =>
    (await docker().listContainers({ all: true, filters: { label: [`xvpc.prefix=${p}`] } })).map((c) => c.Names[0]);

  it('creates two containers on the underlay that ping each other', async () => {
    // Not a skip: without dockerd or the image this fails, saying what to do.
    d = await createDroplets(['p', 'q'], { backend: 'docker', prefix, transitd: false });
    expect((await containers(prefix)).sort()).toEqual([`/${prefix}-p`, `/${prefix}-q`]);
    for (const drop of Object.values(d)) {
      expect(drop.backend).toBe('docker');
      expect(await eth0(drop)).toEqual({ ip: drop.ip, mac: drop.mac, prefixLen: 16 });
      expect(await portXdp(drop) !== undefined, `${drop.id}: xdp_pass on the bridge port only for XDP`).toBe(drop.mode !== 'tc');
    }
    expect(d.p.ip).not.toBe(d.q.ip);
    await pingOk(d.p, d.q.ip);
    await pingOk(d.q, d.p.ip);
  });

  it('run() and netnsRun() work inside the container', async () => {
    expect(await d.p.run(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await d.p.run(['hostname'])).stdout.trim()).toBe('p');
    expect((await d.p.run(['sleep', '10'], { timeoutMs: 1000 })).code).toBe(124);
    expect((await d.p.run(['ip', 'netns', 'add', 'inner'])).code).toBe(0);
    const r = await d.p.netnsRun('inner', ['ip', '-j', 'link', 'show']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).map((l: { ifname: string }) => l.ifname)).toEqual(['lo']);
  });

  it('runs transitd inside the container; a restart keeps the pins', async () => {
    expect(existsSync(new URL('../dist/transitd/main.js', import.meta.url)), 'dist/transitd/main.js: run npm run build').toBe(true);
    await d.q.startTransitd();
    const h = await d.q.health();
    expect(h).toMatchObject({ host: 'q', ip: d.q.ip, mac: d.q.mac, transitLoaded: true });
    // The transit program on the container's eth0, on the droplet's hook.
    if (d.q.mode === 'tc') {
      expect((await d.q.run(['tc', 'filter', 'show', 'dev', 'eth0', 'ingress'])).stdout).toContain('tc_transit');
    } else {
      const [link] = JSON.parse((await d.q.run(['ip', '-j', '-d', 'link', 'show', 'dev', 'eth0'])).stdout);
      expect(link.xdp?.prog?.name, 'the program on the container\'s eth0').toBe('xdp_transit');
    }
    const pins = (await readdir(d.q.pinRoot)).sort();
    expect(pins.length).toBeGreaterThan(0);
    const before = d.q.transitdPid!;
    await d.q.restartTransitd();
    expect(await isRunning(before)).toBe(false);
    expect((await readdir(d.q.pinRoot)).sort()).toEqual(pins);
    expect(Object.keys(await d.q.stats()).length).toBeGreaterThan(0);
    await pingOk(d.p, d.q.ip);
  });

  it('destroyDroplets removes containers, ports, pins and the run dir', async () => {
    await destroyDroplets(d);
    expect(await containers(prefix)).toEqual([]);
    expect(await leftovers(prefix)).toEqual(NOTHING);
    await destroyDroplets(d);
  });

  it('cleanupAll(prefix) removes a crashed docker run', async () => {
    const p = newPrefix();
    await createDroplets(['r'], { backend: 'docker', prefix: p, transitd: false });
    const summary = await cleanupAll(p);
    expect(summary.containers).toEqual([`${p}-r`]);
    expect(await containers(p)).toEqual([]);
    expect(await leftovers(p)).toEqual(NOTHING);
  });
});

// What one emulated endpoint costs the kernel, and which part of it each
// plumbing option avoids (docs/emulation.md "Memory"). For each variant it
// makes `--count` endpoints the way transitd does (one `ip -batch`, the peer
// created inside its namespace, then the addon's configureEndpointLink) with
// the kernel's kmalloc, kmem_cache and percpu allocations traced (tracefs),
// and counts the allocations still live when they are made, by call site.
// Slab, cgroup and MemAvailable deltas are noisy on a shared machine (other
// work allocates and frees meanwhile); allocations made by this process and
// the commands it runs, matched to their frees by address, are not (work done
// for them in kernel threads is not counted). Needs root.
//
//   node dist-bench/endpoint-memory.js [--count 200] [--trace-mb 128] [--sites] [--shared | --prove [--verbose] | --transitd-shared]
//
// --shared measures designs where a droplet's endpoints share one namespace
// instead (docs/emulation.md "Memory"): per endpoint only what it adds to a
// namespace and host namespace made before tracing starts. --prove checks on
// two endpoints that each shared design really sends endpoint-to-endpoint
// traffic out through the sender's veth and in through the receiver's.
// --transitd-shared traces transitd's own code for it (src/transitd/shared-plumbing.ts,
// createSharedEndpointsPlumbing, run as a droplet's transitd runs it: inside a host namespace
// through netnsContext), the shared namespace made first (untraced); the commands it starts are
// followed by their fork events.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { addon } from '../dist/dataplane/addon.js';
import { netnsContext } from '../dist/dataplane/netns-context.js';
import { createSharedEndpointsPlumbing, endpointNames } from '../dist/transitd/plumbing.js';
import { ensureSharedNamespace } from '../dist/transitd/shared-plumbing.js';
import { SHARED_DESIGNS, endpointIp, makeShared, prove, removeShared, setupShared, unsupported, type SharedNames } from './shared-endpoints.js';

interface Variant { name: string; veth: boolean; oneQueue: boolean; noIpv6: boolean }
const VARIANTS: Variant[] = [
  { name: 'a namespace (lo down)', veth: false, oneQueue: false, noIpv6: false },
  { name: '+ a veth pair (default queues), configured', veth: true, oneQueue: false, noIpv6: false },
  { name: 'the same, one queue each way (as transitd makes it)', veth: true, oneQueue: true, noIpv6: false },
  { name: 'the same, IPv6 off in the namespace before the veth', veth: true, oneQueue: true, noIpv6: true },
];

/** Call sites grouped by what they build, first match wins. */
const CATEGORIES: [string, RegExp][] = [
  ['sysctl tables (/proc/sys/net)', /sysctl/],
  ['sysfs nodes (kernfs)', /kernfs/],
  ['the namespace\'s kernel sockets', /sk_prot_alloc|sock_alloc_inode|unix_net_init/],
  ['/proc/net entries', /proc_/],
  ['net_device, queues, qdisc', /alloc_netdev_mqs|veth_dev_init|qdisc|netdev_create_hash|device_add/],
  ['IPv6 state (inet6_dev, routes, addrconf)', /ipv6|inet6|addrconf|fib6|ip6/],
  ['MIB counters', /mib/],
  ['netfilter (conntrack, ip_set, nf_log, br_netfilter)', /nf_|ip_set|brnf/],
];

const possibleCpus = (): number => {
  const spans = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',');
  return spans.reduce((n, s) => { const [a, b] = s.split('-').map(Number); return n + (b === undefined ? 1 : b - a + 1); }, 0);
};

/** This process and the commands it ran: only their allocations are counted (others on the machine allocate too). */
const ours = new Set<number>([process.pid]);

function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): void {
  const argv = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = spawnSync('ip', argv, { input: `${lines.join('\n')}\n` });
  ours.add(r.pid);
  if (r.status !== 0 && !opts.force) throw new Error(`ip ${argv.join(' ')}: ${r.stderr.toString().trim()}`);
}

/** A tracefs instance of our own with the allocation events on (tracefs mounted first if it is not). */
class Trace {
  private readonly dir: string;
  private readonly mounted?: string;
  constructor(tag: string, bufferMb: number) {
    let root = '/sys/kernel/tracing';
    if (!existsSync(`${root}/instances`)) {
      root = `/tmp/${tag}-tracefs`;
      mkdirSync(root, { recursive: true });
      const m = spawnSync('mount', ['-t', 'tracefs', 'nodev', root]);
      if (m.status !== 0) throw new Error(`mount tracefs: ${m.stderr.toString().trim()}`);
      this.mounted = root;
    }
    this.dir = `${root}/instances/${tag}`;
    mkdirSync(this.dir);
    writeFileSync(`${this.dir}/buffer_size_kb`, String(bufferMb * 1024));
    for (const e of ['kmem/kmalloc', 'kmem/kmem_cache_alloc', 'kmem/kfree', 'kmem/kmem_cache_free', 'percpu/percpu_alloc_percpu', 'percpu/percpu_free_percpu',
      'sched/sched_process_fork']) {
      writeFileSync(`${this.dir}/events/${e}/enable`, '1');
    }
  }
  on(on: boolean): void { writeFileSync(`${this.dir}/tracing_on`, on ? '1' : '0'); }
  clear(): void { writeFileSync(`${this.dir}/trace`, ''); }
  /**
   * Bytes still allocated at the end of the trace, by call site (function name): allocations
   * made by our processes, freed by anyone (RCU callbacks free in whatever task runs them).
   */
  async live(): Promise<{ bySite: Map<string, number>; lost: boolean }> {
    const cpus = possibleCpus();
    const live = new Map<string, [string, number]>();
    let lost = false;
    const lines = createInterface({ input: createReadStream(`${this.dir}/trace`) });
    for await (const line of lines) {
      const header = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(line);
      if (header) { lost = header[1] !== header[2]; continue; }
      // A command one of ours started is ours too (transitd's code starts `ip` itself).
      const fork = /sched_process_fork: comm=.* pid=(\d+) child_comm=.* child_pid=(\d+)/.exec(line);
      if (fork) { if (ours.has(Number(fork[1]))) ours.add(Number(fork[2])); continue; }
      const m = /-(\d+)\s+\[\d+\].*?: (kmalloc|kmem_cache_alloc|kfree|kmem_cache_free|percpu_alloc_percpu|percpu_free_percpu): (.*)/.exec(line);
      if (!m) continue;
      const [, pid, event, rest] = m;
      const mine = ours.has(Number(pid));
      const f = new Map([...rest.matchAll(/(\w+)=(\S+)/g)].map((x) => [x[1], x[2]]));
      const site = (f.get('call_site') ?? '?').replace(/\+0x.*/, '');
      switch (event) {
        case 'kmalloc': case 'kmem_cache_alloc': if (mine) live.set(f.get('ptr')!, [site, Number(f.get('bytes_alloc'))]); break;
        case 'kfree': case 'kmem_cache_free': live.delete(f.get('ptr')!); break;
        case 'percpu_alloc_percpu': if (mine) live.set(`pcpu ${f.get('ptr')}`, [`${site} [percpu]`, Number(f.get('size')) * cpus]); break;
        case 'percpu_free_percpu': live.delete(`pcpu ${f.get('ptr')}`); break;
      }
    }
    const bySite = new Map<string, number>();
    for (const [site, bytes] of live.values()) bySite.set(site, (bySite.get(site) ?? 0) + bytes);
    return { bySite, lost };
  }
  close(): void {
    try { this.on(false); rmdirSync(this.dir); } finally { if (this.mounted) spawnSync('umount', [this.mounted]); }
  }
}

const meminfo = (): Map<string, number> => new Map(readFileSync('/proc/meminfo', 'utf8').split('\n')
  .map((l) => /^(\w+):\s+(\d+)/.exec(l)).filter((m) => m !== null).map((m) => [m[1], Number(m[2]) * 1024]));
const kernelBytes = (): number => { const m = meminfo(); return ['Slab', 'Percpu', 'KernelStack', 'PageTables'].reduce((s, k) => s + (m.get(k) ?? 0), 0); };

/** The endpoints of one variant, made in namespaces `${prefix}-N` with their host sides in `hostNs`. */
function makeEndpoints(v: Variant, prefix: string, hostNs: string, count: number): void {
  ipBatch(Array.from({ length: count }, (_, i) => `netns add ${prefix}-${i}`));
  if (v.noIpv6) {
    for (let i = 0; i < count; i++) {
      const r = spawnSync('nsenter', [`--net=/run/netns/${prefix}-${i}`, 'sh', '-c',
        'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6']);
      ours.add(r.pid);
      if (r.status !== 0) throw new Error(`disable_ipv6 in ${prefix}-${i}: ${r.stderr.toString().trim()}`);
    }
  }
  if (!v.veth) return;
  const q = v.oneQueue ? ' numtxqueues 1 numrxqueues 1' : '';
  ipBatch(Array.from({ length: count }, (_, i) => {
    const mac = `0e:00:0a:fd:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    return [`link add h${i} mtu 1448${q} type veth peer name veth0 netns ${prefix}-${i} address ${mac} mtu 1448${q}`, `link set h${i} addrgenmode none up`];
  }).flat(), { netns: hostNs });
  for (let i = 0; i < count; i++) {
    addon.configureEndpointLink(`/run/netns/${prefix}-${i}`, {
      ifname: 'veth0', ip: endpointIp(i), prefixLen: 16, gateway: '10.253.0.1', featuresOff: ['tx-udp-segmentation', 'tx-gso-list'],
    });
  }
}

function removeEndpoints(prefix: string, hostNs: string, count: number): void {
  ipBatch([...Array.from({ length: count }, (_, i) => `netns del ${prefix}-${i}`), `netns del ${hostNs}`], { force: true });
}

/** The trace buffer per CPU: 128 MB held 500 endpoints of each --shared design; 500 with a namespace each needed 512. */
function traceMb(): number {
  const at = process.argv.indexOf('--trace-mb');
  const mb = at > 0 ? Number(process.argv[at + 1]) : 128;
  if (!Number.isInteger(mb) || mb < 1 || mb > 4096) throw new Error('--trace-mb must be 1-4096');
  return mb;
}

const kB = (bytes: number, count: number): string => (bytes / count / 1024).toFixed(1);

/** Traced: what --count endpoints of each shared-namespace design add to namespaces made before. */
async function mainShared(count: number, tag: string): Promise<void> {
  const trace = new Trace(tag, traceMb());
  const n: SharedNames = { hostNs: `${tag}h`, sharedNs: `${tag}s` };
  const rows: { name: string; total?: number; why?: string }[] = [];
  const stop = (): void => { removeShared(n); trace.close(); process.exit(130); };
  process.once('SIGINT', stop);
  try {
    for (const { design, name } of SHARED_DESIGNS) {
      setupShared(n);
      try {
        const why = unsupported(design, n);
        if (why) { rows.push({ name, why }); continue; }
        await new Promise((r) => setTimeout(r, 2000));
        trace.clear();
        trace.on(true);
        try {
          makeShared(design, n, 0, count, (lines, opts) => ipBatch(lines, opts));
          await new Promise((r) => setTimeout(r, 2000));
        } finally {
          trace.on(false);
        }
      } finally {
        removeShared(n);
      }
      const { bySite, lost } = await trace.live();
      if (lost) throw new Error(`${name}: the trace buffer overflowed; use a smaller --count or a larger --trace-mb`);
      rows.push({ name, total: [...bySite.values()].reduce((s, b) => s + b, 0) });
      await new Promise((r) => setTimeout(r, 8000));
    }
  } finally {
    trace.close();
  }
  console.log(`${count} endpoints per design in one shared namespace, ${possibleCpus()} possible CPUs, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`);
  console.log('| design | live kernel allocations per endpoint | vs the first row |');
  console.log('|---|---|---|');
  const base = rows[0].total ?? 0;
  for (const r of rows) {
    if (r.total === undefined) { console.log(`| ${r.name} | not measured: ${r.why} | - |`); continue; }
    const d = r.total - base;
    console.log(`| ${r.name} | ${kB(r.total, count)} kB | ${r === rows[0] ? '-' : `${d >= 0 ? '+' : ''}${kB(d, count)} kB`} |`);
  }
}

/** Traced: what --count endpoints cost as transitd --endpoint-namespace shared makes them (its own code). */
async function mainTransitdShared(count: number, tag: string): Promise<void> {
  const trace = new Trace(tag, traceMb());
  const hostNs = `${tag}h`;
  const list = Array.from({ length: count }, (_, i) => {
    const ip = endpointIp(i);
    const mac = `0e:00:0a:fd:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    return {
      names: endpointNames(hostNs, 9, ip, false, 'shared'), mtu: 1448,
      req: { vni: 9, netId: 1, ip, mac, cidr: '10.253.0.0/16', prefixLen: 16, gatewayIp: '10.253.0.1', hostEndpoint: false, mtu: 1448, vpcCidr: '' },
    };
  });
  const remove = (): void => { spawnSync('ip', ['-force', '-batch', '-'], { input: `netns del ${list[0].names.netns}\nnetns del ${hostNs}\n` }); };
  const stop = (): void => { remove(); trace.close(); process.exit(130); };
  process.once('SIGINT', stop);
  let total: number;
  try {
    spawnSync('ip', ['netns', 'add', hostNs]);
    const inHost = <T>(fn: () => Promise<T>): Promise<T> => netnsContext.run(`/run/netns/${hostNs}`, fn);
    await inHost(() => ensureSharedNamespace(list[0].names.netns));
    await new Promise((r) => setTimeout(r, 2000));
    trace.clear();
    trace.on(true);
    try {
      await inHost(() => createSharedEndpointsPlumbing(list, { txChecksum: true }));
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      trace.on(false);
    }
    const { bySite, lost } = await trace.live();
    if (lost) throw new Error('the trace buffer overflowed; use a smaller --count or a larger --trace-mb');
    total = [...bySite.values()].reduce((s, b) => s + b, 0);
  } finally {
    remove();
    trace.close();
  }
  console.log(`${count} endpoints made by transitd's createSharedEndpointsPlumbing in one shared namespace, ${possibleCpus()} possible CPUs, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`);
  console.log(`| transitd --endpoint-namespace shared (veth pair, /32, features, source rule and table) | ${kB(total, count)} kB per endpoint |`);
}

/** Untraced: endpoint A to endpoint B on the wire, for each design this kernel can make. */
async function mainProve(tag: string): Promise<void> {
  console.log('| design | ping as A | TCP connect as A | A->B echo requests + SYNs on A\'s veth / on B\'s veth | plain ping in the shared namespace (no source) |');
  console.log('|---|---|---|---|---|');
  // 'veth' (no routing of its own) is the control: the kernel delivers A->B inside the namespace.
  for (const design of ['veth', 'rules', 'vrf'] as const) {
    const n: SharedNames = { hostNs: `${tag}h`, sharedNs: `${tag}s` };
    setupShared(n);
    try {
      const why = unsupported(design, n);
      if (why) { console.log(`| ${design} | not run: ${why} | | | |`); continue; }
      const p = await prove(design, n);
      console.log(`| ${design} | ${p.ping ? 'answered' : 'FAILED'} | ${p.tcp ? 'echoed' : 'FAILED'} | ${p.aOut} / ${p.bIn} | ${p.unboundPing} |`);
      if (process.argv.includes('--verbose')) for (const l of p.lines) console.log(`    ${l}`);
    } finally {
      removeShared(n);
    }
  }
}

async function main(): Promise<void> {
  const countAt = process.argv.indexOf('--count');
  const count = countAt > 0 ? Number(process.argv[countAt + 1]) : 200;
  if (!Number.isInteger(count) || count < 1 || count > 4000) throw new Error('--count must be 1-4000');
  const tag = `xem${randomBytes(3).toString('hex')}`;
  if (process.argv.includes('--prove')) return mainProve(tag);
  if (process.argv.includes('--shared')) return mainShared(count, tag);
  if (process.argv.includes('--transitd-shared')) return mainTransitdShared(count, tag);
  const trace = new Trace(tag, traceMb());
  const results: { v: Variant; bySite: Map<string, number>; total: number; kernel: number }[] = [];
  const stop = (): void => { removeEndpoints(`${tag}e`, `${tag}h`, count); trace.close(); process.exit(130); };
  process.once('SIGINT', stop);
  try {
    for (const v of VARIANTS) {
      const prefix = `${tag}e`; const hostNs = `${tag}h`;
      ipBatch([`netns add ${hostNs}`]);
      await new Promise((r) => setTimeout(r, 2000));
      trace.clear();
      const before = kernelBytes();
      trace.on(true);
      try {
        makeEndpoints(v, prefix, hostNs, count);
        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        trace.on(false);
      }
      const kernel = kernelBytes() - before;
      removeEndpoints(prefix, hostNs, count);
      const { bySite, lost } = await trace.live();
      if (lost) throw new Error(`${v.name}: the trace buffer overflowed; use a smaller --count or a larger --trace-mb`);
      const total = [...bySite.values()].reduce((s, b) => s + b, 0);
      results.push({ v, bySite, total, kernel });
      // The namespaces just removed are freed by a kernel worker; let it finish before the next.
      await new Promise((r) => setTimeout(r, 8000));
    }
  } finally {
    trace.close();
  }
  console.log(`${count} endpoints per variant, ${possibleCpus()} possible CPUs, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`);
  console.log('| variant | live kernel allocations per endpoint | vs the row above | Slab+Percpu+stacks+page tables grew (noisy) |');
  console.log('|---|---|---|---|');
  results.forEach((r, i) => {
    const delta = i === 0 ? '-' : `${(r.total - results[i - 1].total) >= 0 ? '+' : ''}${kB(r.total - results[i - 1].total, count)} kB`;
    console.log(`| ${r.v.name} | ${kB(r.total, count)} kB | ${delta} | ${kB(r.kernel, count)} kB |`);
  });
  const byCategory = (m: Map<string, number>): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [site, bytes] of m) {
      const cat = CATEGORIES.find(([, re]) => re.test(site))?.[0] ?? 'other';
      out.set(cat, (out.get(cat) ?? 0) + bytes);
    }
    return out;
  };
  const ns = byCategory(results[0].bySite);
  const withVeth = byCategory(results[2].bySite);
  console.log('\n| what (call sites grouped) | the namespace | the veth pair (both ends, one queue, configured) |');
  console.log('|---|---|---|');
  for (const cat of [...CATEGORIES.map(([c]) => c), 'other']) {
    console.log(`| ${cat} | ${kB(ns.get(cat) ?? 0, count)} kB | ${kB((withVeth.get(cat) ?? 0) - (ns.get(cat) ?? 0), count)} kB |`);
  }
  if (process.argv.includes('--sites')) {
    for (let i = 1; i < results.length; i++) {
      console.log(`\n${results[i].v.name}, call sites that moved by >= 0.3 kB per endpoint against the row above:`);
      const sites = new Set([...results[i].bySite.keys(), ...results[i - 1].bySite.keys()]);
      const moved = [...sites].map((s) => [s, (results[i].bySite.get(s) ?? 0) - (results[i - 1].bySite.get(s) ?? 0)] as const)
        .filter(([, d]) => Math.abs(d) >= 0.3 * 1024 * count).sort((a, b) => b[1] - a[1]);
      for (const [s, d] of moved) console.log(`  ${kB(d, count).padStart(7)} kB  ${s}`);
    }
  }
}

await main();

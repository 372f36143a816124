#!/usr/bin/env node
// The switch path's per-packet cost of two or more builds of xvpc.o, side by
// side in one run: each object on its own pinned maps holding the same
// records as bench/pktcost.ts, measured as the bench's headline is (restoring
// wrapper, repeat = N, minus the wrapper with the empty program, plus the
// empty program's own per-run cost), in rounds that interleave every build,
// the wrapped empty program and the bare one in an order shuffled anew each
// round (a fixed rotation puts each term always after the same neighbour,
// a bias of its own). Each build is loaded --copies times (each copy its own
// maps and JIT image, so its own code placement, which alone moved one
// object by 3-4 ns between two loads); a build's figure in a round is the
// mean of its copies. Prints per
// build the median over rounds of ns per packet and of its ratio to the
// empty program, with the middle half and the whole range.
//
//   node tools/switch-cost-ab.mjs [--rounds 15] [--repeat 1000000] [--copies 1] [--verdict-only] NAME=path/to/xvpc.o ...
//
// --verdict-only: check each build's verdict (XDP_TX) but not its rewritten
// outer destination (tools/switch-cost-bisect.mjs --stages: builds that stop
// part way and leave the packet as it came).
//
// Without objects: the build in obj/bpf/xvpc.o. Run as root after `npm run build`.
import { mkdirSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BpfObject, bpfObjectPath } from '../dist/dataplane/bpf.js';
import { HostDataplane } from '../dist/dataplane/host.js';
import { EndpointType } from '../dist/abi/index.js';
import { geneve, innerUdpFrame, outerDst } from '../dist-bench/packets.js';
import { RestoreWrapper } from '../dist-bench/restore-prog.js';
import { spreadOf } from '../dist-bench/spread.js';
import { VNI, buildsFromArgs, client, loIfindex, me, peer, server, sw } from './ab-fixtures.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '15' }, repeat: { type: 'string', default: '1000000' }, 'verdict-only': { type: 'boolean', default: false }, copies: { type: 'string', default: '1' } } });
const forwarded = (r) => r.retval === XDP_TX && (values['verdict-only'] || outerDst(r.data) === peer.ip);
const rounds = Number(values.rounds);
const repeat = Number(values.repeat);
const copies = Number(values.copies);
if (!(copies >= 1)) throw new Error(`--copies ${values.copies}: want 1 or more`);
const builds = buildsFromArgs(positionals, bpfObjectPath('xvpc'));

const XDP_PASS = 2, XDP_TX = 3;
const lo = loIfindex();
const packet = geneve(peer, me, VNI, innerUdpFrame(client, server));

const root = `/sys/fs/bpf/xvpc/swab${process.pid}`;
const insts = []; // every loaded copy: its build's index and its data plane
let empty, wrapper;
try {
  empty = BpfObject.load(bpfObjectPath('pass'));
  wrapper = await RestoreWrapper.load(`/tmp/swab${process.pid}`);
  for (const [bi, b] of builds.entries()) for (let c = 0; c < copies; c++) {
    const dp = HostDataplane.open(`${root}/${b.name}-${c}`, { endpoints: 1024, networks: 64, vpcs: 64, substrate: 64, agent_meta: 64, ep_host_cache: 64 }, { objectPath: b.path });
    dp.setHostConfig({ ip: me.ip, mac: me.mac, ifindex: lo });
    dp.addInterface(lo);
    for (const h of [peer, sw]) dp.put('substrate', { ip: h.ip, mac: h.mac });
    dp.put('networks', { vni: VNI, netId: 1, cidr: '10.0.0.0/16', gatewayIp: '10.0.0.1', gatewayMac: '0a:03:0a:00:00:01', switches: [sw.ip] });
    dp.put('endpoints', { vni: VNI, ip: server.ip, type: EndpointType.SIMPLE, mac: server.mac, hostIp: peer.ip, hostMac: peer.mac, netId: 1, backends: [], hostedIfindex: -1 });
    dp.put('endpoints', { vni: VNI, ip: client.ip, type: EndpointType.SIMPLE, mac: client.mac, hostIp: me.ip, hostMac: me.mac, netId: 1, backends: [], hostedIfindex: lo });
    const r = dp.transitProgram.testRun(packet, { ingressIfindex: lo });
    if (!forwarded(r)) throw new Error(`${b.name}: verdict ${r.retval}, outer dst ${outerDst(r.data)}`);
    insts.push({ build: bi, dp });
  }
  const terms = ['bare', 'wrapped-empty', ...insts.map((_, j) => j)];
  const ns = { bare: [], 'wrapped-empty': [] };
  const wall = { bare: [], 'wrapped-empty': [] };
  builds.forEach((_, i) => { ns[i] = []; wall[i] = []; });
  let seed = 0x5eed;
  const random = () => { seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t ^= t + Math.imul(t ^ (t >>> 7), 61 | t); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const cpuNs = (f) => { const c0 = process.cpuUsage(); const r = f(); const c = process.cpuUsage(c0); return { r, cpu: (c.user + c.system) * 1000 / repeat }; };
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (let round = 0; round < rounds; round++) {
    const order = [...terms];
    for (let k = order.length - 1; k > 0; k--) { const j = Math.floor(random() * (k + 1)); [order[k], order[j]] = [order[j], order[k]]; }
    const got = {}; // this round: per copy, kernel ns and cpu ns
    for (const t of order) {
      if (t === 'bare') {
        const { r, cpu } = cpuNs(() => empty.program('xdp_pass').testRun(packet, { repeat }));
        if (r.retval !== XDP_PASS) throw new Error('bare empty: not PASS');
        ns.bare.push(r.durationNs); wall.bare.push(cpu);
      } else if (t === 'wrapped-empty') {
        const { r, cpu } = cpuNs(() => wrapper.run(empty.program('xdp_pass'), packet, repeat, lo));
        if (r.retval !== XDP_PASS) throw new Error('wrapped empty: not PASS');
        ns[t].push(r.meanNs); wall[t].push(cpu);
      } else {
        const { r, cpu } = cpuNs(() => wrapper.run(insts[t].dp.transitProgram, packet, repeat, lo));
        if (!forwarded(r)) throw new Error(`${builds[insts[t].build].name} (wrapped): verdict ${r.retval}`);
        got[t] = { ns: r.meanNs, cpu };
      }
    }
    builds.forEach((_, i) => {
      const mine = insts.map((x, j) => (x.build === i ? got[j] : undefined)).filter(Boolean);
      ns[i].push(mean(mine.map((g) => g.ns)));
      wall[i].push(mean(mine.map((g) => g.cpu)));
    });
  }
  const f = (s) => `${s.median.toFixed(2)} (middle half ${s.p25.toFixed(2)}-${s.p75.toFixed(2)}, all ${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
  console.log(`switch path, restoring wrapper, repeat ${repeat} x ${rounds} rounds, ${copies} cop${copies === 1 ? 'y' : 'ies'} of each build; empty program bare: ${f(spreadOf(ns.bare))} ns, wrapped: ${f(spreadOf(ns['wrapped-empty']))} ns`);
  const min = (xs) => Math.min(...xs);
  console.log(`  quietest rounds (min of each term): empty bare ${min(ns.bare)} ns, wrapped ${min(ns['wrapped-empty'])} ns`);
  builds.forEach((b, i) => {
    const m = min(ns.bare) + min(ns[i]) - min(ns['wrapped-empty']);
    console.log(`  ${b.name.padEnd(12)} min-based ns/packet ${m.toFixed(2)}, vs empty ${(m / min(ns.bare)).toFixed(2)}`);
  });
  // CPU time (user + system) per run around each test run (syscall included, amortized over
  // the repeat): sub-ns resolution where the kernel reports whole ns.
  const wm = (k) => Math.min(...wall[k]);
  console.log(`  cpu time, quietest rounds: empty bare ${wm('bare').toFixed(2)} ns, wrapped ${wm('wrapped-empty').toFixed(2)} ns`);
  builds.forEach((b, i) => {
    const m = wm('bare') + wm(i) - wm('wrapped-empty');
    console.log(`  ${b.name.padEnd(12)} cpu-time min-based ns/packet ${m.toFixed(2)}, vs empty ${(m / wm('bare')).toFixed(2)}`);
  });
  // Paired: per round, a build minus the first one, both measured in that
  // round within moments of each other; the median over rounds resists a
  // noisy spell better than minima of each term taken from different rounds.
  builds.forEach((b, i) => {
    if (i === 0) return;
    const d = spreadOf(wall[i].map((x, r) => x - wall[0][r]));
    console.log(`  ${b.name.padEnd(12)} minus ${builds[0].name}, paired per round (cpu time): median ${d.median.toFixed(2)} ns (middle half ${d.p25.toFixed(2)} to ${d.p75.toFixed(2)})`);
  });
  builds.forEach((b, i) => {
    const per = ns[i].map((x, r) => ns.bare[r] + x - ns['wrapped-empty'][r]);
    console.log(`  ${b.name.padEnd(12)} ns/packet ${f(spreadOf(per))}`);
    console.log(`  ${''.padEnd(12)} vs empty  ${f(spreadOf(per.map((x, r) => x / ns.bare[r])))}`);
  });
} finally {
  wrapper?.close();
  empty?.close();
  for (const x of insts) x.dp.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(`/tmp/swab${process.pid}`, { recursive: true, force: true });
}

#!/usr/bin/env node
// What a security group adds to the XDP paths' per-packet cost, for two or
// more builds of xvpc.o side by side in one run: decapsulation to a hosted
// endpoint without and with a 1-rule ingress group, and agent encapsulation
// from an endpoint without and with a 1-rule egress group (the group's flow
// tracked after the warm-up: each packet a conntrack hit), measured as the
// bench's headline is (bench/pktcost.ts: restoring wrapper, repeat = N,
// minus the wrapper with the empty program, plus the empty program's own
// cost), in rounds that interleave every build and term in a rotating order.
// Prints per build the median over rounds of ns per packet of each path and
// of the per-round ratio with a group / without (middle half, whole range).
//
//   node tools/sg-cost-ab.mjs [--rounds 15] [--repeat 200000] NAME=path/to/xvpc.o ...
//
// Without objects: the build in obj/bpf/xvpc.o. Run as root after `npm run build`.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BpfObject, bpfObjectPath } from '../dist/dataplane/bpf.js';
import { HostDataplane } from '../dist/dataplane/host.js';
import { EndpointType } from '../dist/abi/index.js';
import { geneve, innerUdpFrame, outerDst } from '../dist-bench/packets.js';
import { RestoreWrapper } from '../dist-bench/restore-prog.js';
import { spreadOf } from '../dist-bench/spread.js';
import { VNI, buildsFromArgs, client, loIfindex, me, peer, server, sw } from './ab-fixtures.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '15' }, repeat: { type: 'string', default: '200000' } } });
const rounds = Number(values.rounds);
const repeat = Number(values.repeat);
const builds = buildsFromArgs(positionals, bpfObjectPath('xvpc'));

const hosted = { ip: '10.0.0.5', mac: '0e:03:0a:00:00:05' };
const policed = { ip: '10.0.0.6', mac: '0e:03:0a:00:00:06' };
const sender = { ip: '10.0.0.8', mac: '0e:03:0a:00:00:08' };
const XDP_PASS = 2, XDP_REDIRECT = 4;
const lo = loIfindex();
const bare = geneve(peer, me, VNI, innerUdpFrame(client, hosted));

const root = `/sys/fs/bpf/xvpc/sgab${process.pid}`;
const dps = [];
let empty, wrapper;
try {
  empty = BpfObject.load(bpfObjectPath('pass'));
  wrapper = await RestoreWrapper.load(`/tmp/sgab${process.pid}`);
  for (const b of builds) {
    const dp = HostDataplane.open(`${root}/${b.name}`, { endpoints: 1024, networks: 64, vpcs: 64, substrate: 64, agent_meta: 64, ep_host_cache: 64 }, { objectPath: b.path });
    dps.push(dp);
    dp.setHostConfig({ ip: me.ip, mac: me.mac, ifindex: lo });
    dp.addInterface(lo);
    for (const h of [peer, sw]) dp.put('substrate', { ip: h.ip, mac: h.mac });
    dp.put('networks', { vni: VNI, netId: 1, cidr: '10.0.0.0/16', gatewayIp: '10.0.0.1', gatewayMac: '0a:03:0a:00:00:01', switches: [sw.ip] });
    const ep = (h, host, hostedIfindex) => dp.put('endpoints', { vni: VNI, ip: h.ip, type: EndpointType.SIMPLE, mac: h.mac, hostIp: host.ip, hostMac: host.mac, netId: 1, backends: [], hostedIfindex });
    ep(server, peer, -1);
    for (const h of [client, hosted, policed, sender]) ep(h, me, lo);
    const one = [{ protocol: 'udp', cidr: '10.0.0.0/16' }];
    dp.put('sg_groups', { id: 1, vni: VNI, name: 'in', ingress: one, egress: [] });
    dp.put('sg_groups', { id: 2, vni: VNI, name: 'out', ingress: [], egress: one });
    dp.put('sg_attach', { vni: VNI, ip: policed.ip, groups: [1] });
    dp.put('sg_attach', { vni: VNI, ip: sender.ip, groups: [2] });
  }
  const sendsAs = (dp, h) => () => dp.putAgentMeta(lo, { vni: VNI, ip: h.ip, mac: h.mac, netId: 1 });
  const encapOk = (inner) => (out) => out.length === inner.length + 66 && outerDst(out) === sw.ip;
  const paths = (dp) => [
    { path: 'decap', prog: dp.transitProgram, packet: bare, ok: (o) => o.length === 64 },
    { path: 'decap_sg1', prog: dp.transitProgram, packet: geneve(peer, me, VNI, innerUdpFrame(client, policed)), ok: (o) => o.length === 64 },
    { path: 'encap', setup: sendsAs(dp, client), prog: dp.agentProgram, packet: innerUdpFrame(client, server), ok: encapOk(innerUdpFrame(client, server)) },
    { path: 'encap_sg1', setup: sendsAs(dp, sender), prog: dp.agentProgram, packet: innerUdpFrame(sender, server), ok: encapOk(innerUdpFrame(sender, server)) },
  ];
  const terms = ['bare', 'wrapped-empty'];
  builds.forEach((b, i) => paths(dps[i]).forEach((p) => terms.push({ build: i, ...p })));
  for (const t of terms) { // warm-up (opens the tracked flows) and verdicts
    if (typeof t === 'string') continue;
    t.setup?.();
    const r = t.prog.testRun(t.packet, { ingressIfindex: lo });
    if (r.retval !== XDP_REDIRECT || !t.ok(r.data)) throw new Error(`${builds[t.build].name} ${t.path}: verdict ${r.retval}, ${r.data.length} bytes`);
  }
  const ns = new Map(terms.map((t) => [t, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < terms.length; k++) {
      const t = terms[(round + k) % terms.length];
      if (t === 'bare') {
        const r = empty.program('xdp_pass').testRun(bare, { repeat });
        if (r.retval !== XDP_PASS) throw new Error('bare empty: not PASS');
        ns.get(t).push(r.durationNs);
      } else if (t === 'wrapped-empty') {
        const r = wrapper.run(empty.program('xdp_pass'), bare, repeat, lo);
        if (r.retval !== XDP_PASS) throw new Error('wrapped empty: not PASS');
        ns.get(t).push(r.meanNs);
      } else {
        t.setup?.();
        const r = wrapper.run(t.prog, t.packet, repeat, lo);
        if (r.retval !== XDP_REDIRECT || !t.ok(r.data)) throw new Error(`${builds[t.build].name} ${t.path} (wrapped): verdict ${r.retval}`);
        ns.get(t).push(r.meanNs);
      }
    }
  }
  const b0 = ns.get('bare'), we = ns.get('wrapped-empty');
  const fig = (t) => ns.get(t).map((x, r) => b0[r] + x - we[r]);
  const f = (s, d = 1) => `${s.median.toFixed(d)} (${s.p25.toFixed(d)}-${s.p75.toFixed(d)}, all ${s.min.toFixed(d)}-${s.max.toFixed(d)})`;
  console.log(`XDP, restoring wrapper, repeat ${repeat} x ${rounds} rounds; empty bare ${f(spreadOf(b0))} ns, wrapped ${f(spreadOf(we))} ns`);
  console.log('ns per packet: median (middle half, all); ratios per round');
  builds.forEach((b, i) => {
    const mine = terms.filter((t) => typeof t !== 'string' && t.build === i);
    const by = Object.fromEntries(mine.map((t) => [t.path, fig(t)]));
    const ratio = (a, c) => spreadOf(by[a].map((x, r) => x / by[c][r]));
    const mins = Object.fromEntries(Object.entries(by).map(([k, v]) => [k, Math.min(...v)]));
    console.log(`  ${b.name}`);
    for (const [p, v] of Object.entries(by)) console.log(`    ${p.padEnd(10)} ${f(spreadOf(v))} ns, min ${mins[p]}`);
    console.log(`    decap_sg1/decap ${f(ratio('decap_sg1', 'decap'), 3)}   min-based ${(mins.decap_sg1 / mins.decap).toFixed(3)}`);
    console.log(`    encap_sg1/encap ${f(ratio('encap_sg1', 'encap'), 3)}   min-based ${(mins.encap_sg1 / mins.encap).toFixed(3)}`);
  });
} finally {
  wrapper?.close();
  empty?.close();
  for (const dp of dps) dp.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(`/tmp/sgab${process.pid}`, { recursive: true, force: true });
}

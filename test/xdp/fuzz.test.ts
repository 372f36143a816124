// Packet fuzz regression: a fixed seed, 100,000 mutated frames per program
// (transit and agent) through BPF_PROG_TEST_RUN, on the build under test (the
// `tc` project reruns this file on the TC build). Checked for every frame:
// no ABORTED, a dropped frame leaves as it came, a forwarded one was well
// formed by the rules of native/bpf/README.md (checked here independently of
// the C); and per program the counters moved exactly once per frame, by
// verdict.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDataplane } from '../../src/dataplane/host.js';
import { EndpointType } from '../../src/abi/index.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import {
  ARP_REQUEST, BROADCAST_MAC, ETH_LEN, ETH_P_ARP, ETH_P_IP, GENEVE_PORT, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP,
  arp, eth, fixIpv4Checksum, geneveFrame, icmpEcho, inetChecksum, ipNum, ipv4, rtsOption, tcp, udp,
} from '../lib/packets.js';
import { HOOK, LO, THIS_HOST, XDP, beThisHost, hostN, openDataplane, retvalOf, testRunTakes } from './harness.js';

const FRAMES = 100_000;
const SEED = 0x5eed_f022;
const VNI = 0x0a1b2c;
const SENDER_HOST = hostN(21);
const SENDER = { ip: '10.1.0.7', mac: '02:00:0a:01:00:07' };
const REMOTE = { ip: '10.1.0.5', mac: '02:00:0a:01:00:05', host: hostN(23) };

// ---- seeds: well-formed frames of each kind the programs take ----

const innerIp = (proto: number, l4: Buffer) =>
  eth({ dst: REMOTE.mac, src: SENDER.mac, type: ETH_P_IP }, ipv4({ src: SENDER.ip, dst: REMOTE.ip, proto, id: 9 }, l4));
const innerArp = () => eth({ dst: BROADCAST_MAC, src: SENDER.mac, type: ETH_P_ARP },
  arp({ op: ARP_REQUEST, sha: SENDER.mac, spa: SENDER.ip, tpa: REMOTE.ip }));
const ENDPOINT_FRAMES = [
  innerIp(IPPROTO_ICMP, icmpEcho()),
  innerIp(IPPROTO_TCP, tcp({ sport: 40000, dport: 80 }, Buffer.from('GET / HTTP/1.1\r\n'))),
  innerIp(IPPROTO_UDP, udp({ sport: 40001, dport: 53 }, Buffer.alloc(24, 7))),
  innerArp(),
];
const OUTER = { srcMac: SENDER_HOST.mac, dstMac: THIS_HOST.mac, srcIp: SENDER_HOST.ip, dstIp: THIS_HOST.ip, ttl: 30, sport: 50001, id: 5 };
const RTS = rtsOption(SENDER_HOST.ip, SENDER_HOST.mac);
const TRANSIT_FRAMES = ENDPOINT_FRAMES.map((inner) => geneveFrame(OUTER, { vni: VNI, options: [RTS] }, inner));

// ---- mutation ----

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x45, 0x40, 0x11, 0x08, 0x06];

function mutate(seed: Buffer, r: () => number): Buffer {
  const pick = (n: number) => Math.floor(r() * n);
  let b = Buffer.from(seed);
  const edits = 1 + pick(4);
  for (let e = 0; e < edits; e++) {
    // Mostly in the headers, where the parsing is.
    const at = () => (r() < 0.85 ? pick(Math.min(b.length, 110)) : pick(b.length));
    switch (pick(6)) {
      case 0: { const i = at(); b[i] ^= 1 << pick(8); break; }
      case 1: { b[at()] = pick(256); break; }
      case 2: { b[at()] = INTERESTING[pick(INTERESTING.length)]; break; }
      case 3: b = Buffer.from(b.subarray(0, ETH_LEN + pick(Math.max(1, b.length - ETH_LEN)))); break;
      case 4: b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + pick(64) }, () => pick(256)))]); break;
      default: { const i = at(); if (i + 1 < b.length) b.writeUInt16BE(pick(65536), i); break; }
    }
  }
  // Half the time make the outer IPv4 header self-consistent again, so
  // mutations get past the checksum and lengths to the deeper parsing.
  if (r() < 0.5 && b.length >= ETH_LEN + 20 && b.readUInt16BE(12) === ETH_P_IP) {
    if (r() < 0.5) b.writeUInt16BE(b.length - ETH_LEN, ETH_LEN + 2);
    if (r() < 0.5 && b.length >= ETH_LEN + 28) b.writeUInt16BE(b.length - ETH_LEN - 20, ETH_LEN + 24);
    const ihl = (b[ETH_LEN] & 0x0f) * 4;
    if (ihl >= 20 && ETH_LEN + ihl <= b.length) fixIpv4Checksum(b);
  }
  return b;
}

// ---- what may be forwarded (native/bpf/README.md), written independently ----

/** Why a frame the transit program forwarded is malformed, or '' if it is well formed. */
function transitDefect(b: Buffer): string {
  if (b.length < ETH_LEN + 20 || b.readUInt16BE(12) !== ETH_P_IP) return 'not IPv4';
  const ip = ETH_LEN;
  if (b[ip] >> 4 !== 4 || (b[ip] & 0x0f) !== 5) return 'outer version/IHL';
  if (b.readUInt16BE(ip + 6) & 0x3fff) return 'outer fragment';
  const tot = b.readUInt16BE(ip + 2);
  if (tot !== b.length - ETH_LEN) return 'outer tot_len';
  if (inetChecksum(b.subarray(ip, ip + 20)) !== 0) return 'outer checksum';
  if (b[ip + 9] !== IPPROTO_UDP || b.readUInt32BE(ip + 16) !== ipNum(THIS_HOST.ip)) return 'not UDP to us';
  const u = ip + 20;
  if (b.length < u + 8 || b.readUInt16BE(u + 2) !== GENEVE_PORT) return 'not Geneve';
  if (b.readUInt16BE(u + 4) !== tot - 20) return 'UDP length';
  const g = u + 8;
  if (b.length < g + 8) return 'Geneve cut';
  if (b[g] >> 6 !== 0) return 'Geneve version';
  if (b[g + 1] & 0x80) return 'Geneve O bit';
  if (b.readUInt16BE(g + 2) !== 0x6558) return 'Geneve protocol';
  const optEnd = g + 8 + (b[g] & 0x3f) * 4;
  if (optEnd > b.length) return 'Geneve options cut';
  let n = 0;
  for (let o = g + 8; o < optEnd; n++) {
    if (o + 4 > optEnd) return 'option header cut';
    const len = 4 + (b[o + 3] & 0x1f) * 4;
    if (o + len > optEnd) return 'option longer than opt_len';
    o += len;
  }
  if (n > 8) return 'more than 8 options';
  const ie = optEnd;
  if (b.length < ie + ETH_LEN) return 'inner Ethernet cut';
  const type = b.readUInt16BE(ie + 12);
  // A forward needs outer TTL > 1 (the overlay's loop guard); an ARP request answered in place is not a forward.
  const answeredArp = type === ETH_P_ARP && b.length >= ie + ETH_LEN + 8 && b.readUInt16BE(ie + ETH_LEN + 6) === ARP_REQUEST;
  if (!answeredArp && b[ip + 8] <= 1) return 'outer TTL';
  if (type === ETH_P_IP) {
    if (b.length < ie + ETH_LEN + 20) return 'inner IPv4 cut';
    const v = b[ie + ETH_LEN];
    if (v >> 4 !== 4 || (v & 0x0f) < 5) return 'inner version/IHL';
    return '';
  }
  if (type === ETH_P_ARP) {
    const a = ie + ETH_LEN;
    if (b.length < a + 28) return 'inner ARP cut';
    if (b.readUInt16BE(a) !== 1 || b.readUInt16BE(a + 2) !== ETH_P_IP || b[a + 4] !== 6 || b[a + 5] !== 4) return 'ARP not Ethernet/IPv4';
    const op = b.readUInt16BE(a + 6);
    return op === 1 || op === 2 ? '' : 'ARP op';
  }
  return 'inner type';
}

/** Why a frame the agent forwarded (encapsulated or answered) is malformed, or ''. */
function agentDefect(b: Buffer): string {
  if (b.length < ETH_LEN) return 'Ethernet cut';
  const type = b.readUInt16BE(12);
  if (type === ETH_P_IP) {
    if (b.length < ETH_LEN + 20) return 'IPv4 cut';
    const v = b[ETH_LEN];
    if (v >> 4 !== 4 || (v & 0x0f) < 5) return 'version/IHL';
    if (ETH_LEN + (v & 0x0f) * 4 > b.length) return 'IPv4 header cut';
    if (b.readUInt32BE(ETH_LEN + 12) !== ipNum(SENDER.ip)) return 'spoofed source';
    return '';
  }
  if (type === ETH_P_ARP) {
    const a = ETH_LEN;
    if (b.length < a + 28) return 'ARP cut';
    if (b.readUInt16BE(a) !== 1 || b.readUInt16BE(a + 2) !== ETH_P_IP || b[a + 4] !== 6 || b[a + 5] !== 4) return 'ARP not Ethernet/IPv4';
    if (b.readUInt16BE(a + 6) !== ARP_REQUEST) return 'ARP op';
    const spa = b.readUInt32BE(a + 14);
    if (spa !== ipNum(SENDER.ip) && spa !== 0) return 'spoofed ARP sender';
    return '';
  }
  return 'not IPv4 or ARP';
}

// ---- the runs ----

let env: ReturnType<typeof openDataplane>;
let dp: HostDataplane;

beforeAll(() => {
  env = openDataplane('fuzz');
  dp = env.dp;
  beThisHost(dp);
  dp.putAgentMeta(LO, { vni: VNI, ip: SENDER.ip, mac: SENDER.mac, netId: 1 });
  dp.put('networks', { vni: VNI, netId: 1, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', gatewayMac: '02:00:0a:01:00:01', switches: [hostN(11).ip] });
  dp.put('vpcs', { vni: VNI, routers: [hostN(12).ip] });
  dp.put('substrate', { ip: hostN(11).ip, mac: hostN(11).mac });
  dp.put('substrate', { ip: hostN(12).ip, mac: hostN(12).mac });
  dp.put('endpoints', {
    vni: VNI, ip: REMOTE.ip, type: EndpointType.SIMPLE, mac: REMOTE.mac, hostIp: REMOTE.host.ip,
    hostMac: REMOTE.host.mac, netId: 1, backends: [], hostedIfindex: -1,
  });
});

afterAll(() => env?.close());

function fuzz(prog: 'transit' | 'agent', seeds: Buffer[], seed: number, defect: (b: Buffer) => string) {
  const program = prog === 'transit' ? dp.transitProgram : dp.agentProgram;
  const r = seededRandom(seed);
  const byRetval = new Map<number, number>();
  const problems: string[] = [];
  const before = dp.stats();
  let frames = 0;
  while (frames < FRAMES) {
    const input = mutate(seeds[Math.floor(r() * seeds.length)], r);
    if (!testRunTakes(input)) continue;
    const { retval, data } = program.testRun(input, { ingressIfindex: LO });
    frames++;
    byRetval.set(retval, (byRetval.get(retval) ?? 0) + 1);
    if (problems.length >= 5) continue;
    const label = `frame ${frames} (${input.toString('hex')})`;
    if (retval === retvalOf(XDP.DROP) && !data.equals(input)) problems.push(`${label}: dropped but rewritten`);
    if (HOOK === 'xdp' && retval === XDP.ABORTED) problems.push(`${label}: ABORTED`);
    const forwarded = retval === retvalOf(XDP.TX) || retval === retvalOf(XDP.REDIRECT);
    if (forwarded) {
      const why = defect(input);
      if (why) problems.push(`${label}: forwarded though malformed (${why})`);
    }
  }
  const after = dp.stats();
  const moved = (name: keyof typeof after) => after[name] - before[name];
  const count = (verdict: number) => byRetval.get(retvalOf(verdict)) ?? 0;
  return { problems, byRetval, moved, count, frames };
}

describe(`fuzz (${HOOK} build, seed ${SEED.toString(16)}, ${FRAMES} frames per program)`, () => {
  for (const [prog, seeds, seed, defect] of [
    ['transit', TRANSIT_FRAMES, SEED, transitDefect],
    ['agent', ENDPOINT_FRAMES, SEED + 1, agentDefect],
  ] as const) {
    it(`${prog}: nothing malformed forwarded, every frame counted once`, () => {
      const t0 = Date.now();
      const f = fuzz(prog, seeds as Buffer[], seed, defect);
      expect(f.problems).toEqual([]);
      const rx = f.moved(`${prog}_rx`);
      const drop = f.moved(`${prog}_drop`);
      const pass = f.moved(`${prog}_pass`);
      const fwd = f.moved(`${prog}_tx`) + f.moved(`${prog}_redirect`);
      expect(rx).toBe(f.frames);
      expect(drop + pass + fwd).toBe(f.frames);
      expect(drop).toBe(f.count(XDP.DROP));
      expect(pass).toBe(f.count(XDP.PASS));
      expect(fwd).toBe(HOOK === 'xdp' ? f.count(XDP.TX) + f.count(XDP.REDIRECT) : f.count(XDP.TX));
      // The mutations reach every verdict: the run means something.
      expect(drop).toBeGreaterThan(f.frames / 10);
      expect(fwd).toBeGreaterThan(100);
      console.log(`${HOOK} ${prog}: ${f.frames} frames in ${Date.now() - t0} ms: drop ${drop}, pass ${pass}, forwarded ${fwd}`);
    }, 600_000);
  }
});

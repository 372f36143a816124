// Security groups in the data path (native/bpf/sg.h, policy.h, conntrack.h):
// egress judged by the agent before encapsulation, ingress by transit before
// delivery; stateful (replies, ICMP errors about tracked flows, later IPv4
// fragments of datagrams whose first fragment passed), default deny with a
// group, allow-all without. Every case checks the verdict and exactly which
// counters moved. Runs on both builds (vitest.config.ts).
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostDataplane } from '../../src/dataplane/host.js';
import { CtState, EndpointType, SG_FLOW_CACHE_VALUE, SG_FRAG_KEY, SG_FRAG_VALUE, SgDir, u32Key, type SecurityRule } from '../../src/abi/index.js';
import { numPossibleCpus } from '../../src/dataplane/bpf.js';
import {
  ETH_P_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, eth, geneveFrame, icmpEcho, inetChecksum, ipNum, ipv4, rtsOption, tcp, udp,
} from '../lib/packets.js';
import { uniquePrefix } from '../lib/names.js';
import { HOOK, LO, THIS_HOST, XDP, hostN, openDataplane, runAgent, runTransit } from './harness.js';

const VNI = 0x5a0001;
const GW_MAC = '02:00:0a:00:00:01';
const REMOTE_HOST = hostN(21);
const SWITCH = hostN(11);
const NET = { vni: VNI, netId: 1, cidr: '10.0.0.0/8', gatewayIp: '10.0.0.1', gatewayMac: GW_MAC, switches: [SWITCH.ip] };
/** Each describe polices its own endpoint (one agent veth: LO), so conntrack entries never mix. */
const mac = (n: number) => `02:00:0a:01:00:${n.toString(16).padStart(2, '0')}`;

const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;

let env: ReturnType<typeof openDataplane>;
let dp: HostDataplane;

function hostEndpoint(ip: string, n: number): void {
  dp.put('endpoints', { vni: VNI, ip, type: EndpointType.SIMPLE, mac: mac(n), hostIp: THIS_HOST.ip, hostMac: THIS_HOST.mac, netId: 1, backends: [], hostedIfindex: LO });
  dp.putAgentMeta(LO, { vni: VNI, ip, mac: mac(n), netId: 1 });
}

beforeAll(() => {
  env = openDataplane('sg');
  dp = env.dp;
  dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
  dp.addInterface(LO);
  for (const h of [REMOTE_HOST, SWITCH]) dp.put('substrate', { ip: h.ip, mac: h.mac });
  dp.put('vpcs', { vni: VNI, routers: [], directPath: false });
  dp.put('networks', NET);
});
afterAll(() => env?.close());

type L4 = { proto: number; body: Buffer };
const tcpSeg = (sport: number, dport: number, flags: number): L4 => ({ proto: IPPROTO_TCP, body: tcp({ sport, dport, flags }) });
const udpDgram = (sport: number, dport: number): L4 => ({ proto: IPPROTO_UDP, body: udp({ sport, dport }, Buffer.from('payload')) });
const echo = (type: number, id: number): L4 => ({ proto: IPPROTO_ICMP, body: icmpEcho({ type, id }) });
/** An ICMP error (type/code) quoting the IPv4 packet `quoted` (its header + 8 bytes, or all of it). */
function icmpError(type: number, code: number, quoted: Buffer, whole = false): L4 {
  const m = Buffer.concat([Buffer.alloc(8), whole ? quoted : quoted.subarray(0, 28)]);
  m[0] = type;
  m[1] = code;
  m.writeUInt16BE(inetChecksum(m), 2);
  return { proto: IPPROTO_ICMP, body: m };
}
const ipPkt = (src: string, dst: string, l4: L4) => ipv4({ src, dst, proto: l4.proto, id: 1 }, l4.body);

/** The endpoint (me) sends an IPv4 packet (its own): through the agent. */
const sendPkt = (me: { ip: string; n: number }, pkt: Buffer) =>
  runAgent(dp, eth({ dst: GW_MAC, src: mac(me.n), type: ETH_P_IP }, pkt), LO);
/** Someone on another host sends the endpoint an IPv4 packet: Geneve into transit. */
const receivePkt = (me: { ip: string; n: number }, pkt: Buffer) => runTransit(dp, geneveFrame(
  { srcMac: REMOTE_HOST.mac, dstMac: THIS_HOST.mac, srcIp: REMOTE_HOST.ip, dstIp: THIS_HOST.ip, ttl: 60, sport: 50000, id: 9 },
  { vni: VNI, options: [rtsOption(REMOTE_HOST.ip, REMOTE_HOST.mac)] },
  eth({ dst: mac(me.n), src: '02:00:0a:09:09:09', type: ETH_P_IP }, pkt)));
const send = (me: { ip: string; n: number }, dst: string, l4: L4) => sendPkt(me, ipPkt(me.ip, dst, l4));
const receive = (me: { ip: string; n: number }, src: string, l4: L4) => receivePkt(me, ipPkt(src, me.ip, l4));

/**
 * A fragmented IPv4 datagram (IP id `id`) whose L4 message is `l4`: its first
 * fragment (MF, offset 0) carries the L4 message (padded to a multiple of 8
 * bytes, at least 24), a later one the 16 bytes that follow.
 */
function fragments(src: string, dst: string, id: number, l4: L4): { first: Buffer; later: Buffer } {
  const len = Math.max(24, Math.ceil(l4.body.length / 8) * 8);
  const body = Buffer.concat([l4.body, Buffer.alloc(len - l4.body.length, 0x61)]);
  if (l4.proto === IPPROTO_UDP) body.writeUInt16BE(len + 16, 4); // the whole datagram's length
  return {
    first: ipv4({ src, dst, proto: l4.proto, id, mf: true }, body),
    later: ipv4({ src, dst, proto: l4.proto, id, fragOffset: len / 8 }, Buffer.alloc(16, 0x62)),
  };
}

const SENT = { agent_rx: 1, agent_redirect: 1, encap: 1 };
const DELIVERED = { transit_rx: 1, transit_redirect: 1, decap: 1 };
const sentNew = { ...SENT, sg_ct_new: 1 };
const deliveredNew = { ...DELIVERED, sg_ct_new: 1 };
const agentDrop = (reason: string) => ({ agent_rx: 1, agent_drop: 1, [reason]: 1 });
const transitDrop = (reason: string) => ({ transit_rx: 1, transit_drop: 1, [reason]: 1 });

function group(id: number, name: string, ingress: SecurityRule[], egress: SecurityRule[]): void {
  dp.put('sg_groups', { id, vni: VNI, name, ingress, egress });
}
const attach = (ip: string, groups: number[]) => dp.put('sg_attach', { vni: VNI, ip, groups });
const entry = (local: string, remote: string) => dp.conntrackEntries().find((e) => e.localIp === local && e.remoteIp === remote);

describe('no group: everything passes, nothing is tracked', () => {
  const me = { ip: '10.1.0.2', n: 2 };
  it('both ways', () => {
    hostEndpoint(me.ip, me.n);
    expect(send(me, '10.2.0.9', tcpSeg(1000, 22, ACK)).moved).toEqual(SENT);
    expect(receive(me, '10.3.0.9', udpDgram(9, 9)).moved).toEqual(DELIVERED);
    expect(entry(me.ip, '10.2.0.9')).toBeUndefined();
  });

  it('fragments pass either way, a later one with no first seen too; nothing is recorded', () => {
    const out = fragments(me.ip, '10.2.0.9', 0x100, udpDgram(1000, 53));
    const into = fragments('10.3.0.9', me.ip, 0x101, udpDgram(9, 9));
    expect(sendPkt(me, out.first).moved).toEqual(SENT);
    expect(sendPkt(me, out.later).moved).toEqual(SENT);
    expect(receivePkt(me, into.later).moved).toEqual(DELIVERED);
    expect(receivePkt(me, into.first).moved).toEqual(DELIVERED);
    expect(dp.map('sg_frags').keys()).toEqual([]);
  });
});

describe('a web tier: tcp 80 from 10.2.0.0/16 only, egress udp 53 only', () => {
  const me = { ip: '10.1.0.3', n: 3 };
  beforeAll(() => {
    hostEndpoint(me.ip, me.n);
    group(1, 'web', [{ protocol: 'tcp', cidr: '10.2.0.0/16', ports: '80' }], [{ protocol: 'udp', cidr: '0.0.0.0/0', ports: '53' }]);
    attach(me.ip, [1]);
  });

  it('allows a SYN to 80 from the network, and its reply out (stateful), then tracks it established', () => {
    let r = receive(me, '10.2.0.9', tcpSeg(40000, 80, SYN));
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(r.moved).toEqual(deliveredNew);
    expect(entry(me.ip, '10.2.0.9')).toMatchObject({ state: CtState.NEW, origin: SgDir.INGRESS, localPort: 80, remotePort: 40000, proto: 6 });
    r = send(me, '10.2.0.9', tcpSeg(80, 40000, SYN | ACK));
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(r.moved).toEqual(SENT);
    expect(entry(me.ip, '10.2.0.9')?.state).toBe(CtState.ESTABLISHED);
    expect(receive(me, '10.2.0.9', tcpSeg(40000, 80, ACK)).moved).toEqual(DELIVERED);
  });

  it('denies another network, another port, and a SYN out', () => {
    expect(receive(me, '10.3.0.9', tcpSeg(40000, 80, SYN))).toMatchObject({ verdict: XDP.DROP, moved: transitDrop('drop_sg_ingress') });
    expect(receive(me, '10.2.0.9', tcpSeg(40001, 81, SYN)).moved).toEqual(transitDrop('drop_sg_ingress'));
    expect(send(me, '10.2.0.9', tcpSeg(40002, 80, SYN))).toMatchObject({ verdict: XDP.DROP, moved: agentDrop('drop_sg_egress') });
  });

  it('denies an unsolicited ACK either way', () => {
    expect(receive(me, '10.3.0.9', tcpSeg(5555, 22, ACK)).moved).toEqual(transitDrop('drop_sg_unsolicited'));
    expect(send(me, '10.3.0.9', tcpSeg(22, 5555, ACK)).moved).toEqual(agentDrop('drop_sg_unsolicited'));
  });

  it('egress udp 53 passes and its answer comes back; udp 54 does not leave; an unasked datagram does not enter', () => {
    expect(send(me, '10.9.0.53', udpDgram(33000, 53)).moved).toEqual(sentNew);
    expect(receive(me, '10.9.0.53', udpDgram(53, 33000)).moved).toEqual(DELIVERED);
    expect(send(me, '10.9.0.53', udpDgram(33000, 54)).moved).toEqual(agentDrop('drop_sg_egress'));
    expect(receive(me, '10.9.0.53', udpDgram(53, 33001)).moved).toEqual(transitDrop('drop_sg_ingress'));
  });

  it('ICMP errors about a tracked flow pass both ways (port unreachable, fragmentation needed); others do not', () => {
    const out = ipPkt(me.ip, "10.9.0.53", udpDgram(33000, 53));
    expect(receive(me, '10.9.0.53', icmpError(3, 3, out)).moved).toEqual({ ...DELIVERED, sg_icmp_related: 1 });
    const tcpIn = ipPkt('10.2.0.9', me.ip, tcpSeg(40000, 80, ACK));
    const tcpOut = ipPkt(me.ip, '10.2.0.9', tcpSeg(80, 40000, ACK));
    expect(receive(me, '10.2.0.1', icmpError(3, 4, tcpOut)).moved).toEqual({ ...DELIVERED, sg_icmp_related: 1 });
    expect(send(me, '10.2.0.9', icmpError(3, 3, tcpIn)).moved).toEqual({ ...SENT, sg_icmp_related: 1 });
    const untracked = ipPkt(me.ip, '10.9.0.7', udpDgram(1234, 4321));
    expect(receive(me, '10.9.0.7', icmpError(3, 3, untracked)).moved).toEqual(transitDrop('drop_sg_icmp_error'));
    expect(send(me, '10.9.0.7', echo(8, 77)).moved).toEqual(agentDrop('drop_sg_egress'));
  });
});

describe('port ranges, longest-prefix CIDRs, ICMP, several groups', () => {
  const me = { ip: '10.1.0.4', n: 4 };
  beforeAll(() => {
    hostEndpoint(me.ip, me.n);
    group(2, 'ranges', [
      { protocol: 'tcp', cidr: '10.0.0.0/8', ports: '8000-8080' },
      { protocol: 'udp', cidr: '10.2.3.0/24', ports: '5000' },
      { protocol: 'icmp', cidr: '10.2.3.4/32' },
    ], []);
    group(3, 'any-from-one', [{ protocol: 'any', cidr: '10.7.7.7/32' }], [{ protocol: 'icmp' }]);
    attach(me.ip, [2, 3]);
  });

  it('a range: both ends in, one past each end out', () => {
    let sport = 41000;
    for (const [port, ok] of [[8000, true], [8080, true], [8043, true], [7999, false], [8081, false]] as const) {
      const r = receive(me, '10.9.9.9', tcpSeg(sport++, port, SYN));
      expect(r.moved, `port ${port}`).toEqual(ok ? deliveredNew : transitDrop('drop_sg_ingress'));
    }
  });

  it('a longer prefix keeps the shorter prefixes\' rules (10.2.3.5 is in /24 and /8); another /24 gets only /8\'s', () => {
    expect(receive(me, '10.2.3.5', tcpSeg(42000, 8040, SYN)).moved).toEqual(deliveredNew);
    expect(receive(me, '10.2.3.5', udpDgram(42001, 5000)).moved).toEqual(deliveredNew);
    expect(receive(me, '10.2.4.5', udpDgram(42002, 5000)).moved).toEqual(transitDrop('drop_sg_ingress'));
    expect(receive(me, '10.2.4.5', tcpSeg(42003, 8040, SYN)).moved).toEqual(deliveredNew);
  });

  it('icmp from one /32; the echo reply goes out as a tracked reply; any protocol from the other group\'s /32', () => {
    expect(receive(me, '10.2.3.4', echo(8, 99)).moved).toEqual(deliveredNew);
    expect(send(me, '10.2.3.4', echo(0, 99)).moved).toEqual(SENT);
    expect(receive(me, '10.2.3.5', echo(8, 98)).moved).toEqual(transitDrop('drop_sg_ingress'));
    expect(receive(me, '10.7.7.7', { proto: 47, body: Buffer.alloc(8) }).moved).toEqual(deliveredNew); // GRE
    expect(receive(me, '10.7.7.7', udpDgram(1, 2)).moved).toEqual(deliveredNew);
    expect(receive(me, '10.7.7.8', { proto: 47, body: Buffer.alloc(8) }).moved).toEqual(transitDrop('drop_sg_ingress'));
    // Egress: only icmp (group 3); group 2 has no egress rule.
    expect(send(me, '10.5.5.5', echo(8, 1)).moved).toEqual(sentNew);
    expect(send(me, '10.5.5.5', udpDgram(1, 2)).moved).toEqual(agentDrop('drop_sg_egress'));
  });

  it('fragments from a peer `any` allows: a later one passes once its first did (tracked); one whose first was never seen is dropped', () => {
    const d = fragments('10.7.7.7', me.ip, 0x200, udpDgram(3000, 3001));
    expect(receivePkt(me, d.later).moved).toEqual(transitDrop('drop_sg_fragment')); // no first seen yet
    expect(receivePkt(me, d.first).moved).toEqual(deliveredNew);
    expect(receivePkt(me, d.later).moved).toEqual(DELIVERED);
    expect(dp.conntrackEntries().filter((e) => e.localIp === me.ip && e.remoteIp === '10.7.7.7' && e.localPort === 3001))
      .toMatchObject([{ remotePort: 3000, proto: IPPROTO_UDP, origin: SgDir.INGRESS }]);
  });
});

// An ICMP error about no live tracked flow is judged by the rules as what it
// is: ICMP between the policed endpoint and the error's sender (ingress) or
// addressee (egress), never as a packet of the addresses it quotes.
describe('ICMP errors about no tracked flow: ICMP between the endpoint and its real peer', () => {
  const me = { ip: '10.1.0.9', n: 9 };
  /** A foreign flow, payload and all. */
  const foreign = ipPkt('1.2.3.4', '5.6.7.8', udpDgram(1111, 2222));
  beforeAll(() => {
    hostEndpoint(me.ip, me.n);
    group(6, 'tcp80-icmp-from-one-net', [{ protocol: 'tcp', ports: '80' }, { protocol: 'icmp', cidr: '10.7.2.0/24' }], []);
    attach(me.ip, [6]);
  });

  it('an error quoting a flow of neither endpoint is dropped both ways when no ICMP rule allows the peer', () => {
    expect(receive(me, '10.9.0.7', icmpError(3, 3, foreign, true)))
      .toMatchObject({ verdict: XDP.DROP, moved: transitDrop('drop_sg_icmp_error') });
    expect(send(me, '10.9.0.7', icmpError(3, 3, foreign, true)))
      .toMatchObject({ verdict: XDP.DROP, moved: agentDrop('drop_sg_icmp_error') });
    expect(send(me, '10.7.2.5', icmpError(3, 3, foreign, true)).moved).toEqual(agentDrop('drop_sg_icmp_error')); // egress allows nothing
  });

  it('the peer is the packet\'s, not the quote\'s: from outside the ICMP rule\'s CIDR, quoting an address inside it, dropped', () => {
    const fromInside = ipPkt('10.7.2.99', me.ip, udpDgram(5353, 5353));
    const toInside = ipPkt(me.ip, '10.7.2.99', udpDgram(5353, 5353));
    expect(receive(me, '10.9.0.8', icmpError(3, 3, fromInside)).moved).toEqual(transitDrop('drop_sg_icmp_error'));
    expect(receive(me, '10.9.0.8', icmpError(3, 3, toInside)).moved).toEqual(transitDrop('drop_sg_icmp_error'));
    expect(receive(me, '10.9.0.8', icmpError(11, 0, ipPkt('10.7.2.99', '10.7.2.98', udpDgram(1, 2)))).moved)
      .toEqual(transitDrop('drop_sg_icmp_error'));
  });

  it('from a peer inside the CIDR an error passes (ICMP allowed as such), whatever it quotes; it opens nothing', () => {
    expect(receive(me, '10.7.2.5', icmpError(3, 3, foreign, true))).toMatchObject({ verdict: XDP.REDIRECT, moved: DELIVERED });
    expect(receive(me, '10.7.2.5', icmpError(3, 3, ipPkt(me.ip, '10.9.0.7', udpDgram(1234, 4321)))).moved).toEqual(DELIVERED);
    expect(dp.conntrackEntries().filter((e) => e.localIp === me.ip || e.localIp === '0.0.0.0')).toEqual([]);
  });

  it('an error about a tracked flow passes both ways, from or to any peer', () => {
    expect(receive(me, '10.9.0.9', tcpSeg(40000, 80, SYN)).moved).toEqual(deliveredNew);
    const tcpIn = ipPkt('10.9.0.9', me.ip, tcpSeg(40000, 80, SYN));
    const tcpOut = ipPkt(me.ip, '10.9.0.9', tcpSeg(80, 40000, SYN | ACK));
    expect(send(me, '10.9.0.9', icmpError(3, 3, tcpIn)).moved).toEqual({ ...SENT, sg_icmp_related: 1 });
    expect(receive(me, '10.9.0.1', icmpError(3, 4, tcpOut)).moved).toEqual({ ...DELIVERED, sg_icmp_related: 1 });
    // The same quote with other ports is no tracked flow: judged by the rules (10.9.0.1 is outside 10.7.2.0/24).
    const other = ipPkt(me.ip, '10.9.0.9', tcpSeg(80, 40001, SYN | ACK));
    expect(receive(me, '10.9.0.1', icmpError(3, 4, other)).moved).toEqual(transitDrop('drop_sg_icmp_error'));
  });
});

// A scaled endpoint's backend hosted here is policed as itself; an error about
// its flow quotes the packet as it left, from the scaled endpoint's address.
describe('ICMP errors to a scaled endpoint about its local backend\'s flow', () => {
  const backend = { ip: '10.1.0.12', n: 12 };
  const VIP = { ip: '10.1.0.100', mac: '02:00:0a:01:00:64' };
  beforeAll(() => {
    hostEndpoint(backend.ip, backend.n);
    dp.put('endpoints', { vni: VNI, ip: VIP.ip, type: EndpointType.SCALED, mac: VIP.mac, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', netId: 1, backends: [backend.ip], hostedIfindex: -1 });
    group(10, 'backend', [{ protocol: 'tcp', ports: '80' }], []);
    attach(backend.ip, [10]);
  });
  const toVip = (src: string, l4: L4) => receivePkt({ ip: VIP.ip, n: 0x64 }, ipPkt(src, VIP.ip, l4));
  const SCALED_IN = { ...DELIVERED, scaled_dnat: 1 };

  it('an error quoting the scaled endpoint\'s side of a tracked flow is related; one of no flow of its own is judged by the rules', () => {
    expect(toVip('10.9.0.20', tcpSeg(42000, 80, SYN)).moved).toEqual({ ...SCALED_IN, sg_ct_new: 1 });
    expect(entry(backend.ip, '10.9.0.20')).toMatchObject({ localPort: 80, remotePort: 42000 });
    const answer = ipPkt(VIP.ip, '10.9.0.20', tcpSeg(80, 42000, SYN | ACK)); // as it left, SNATed
    expect(toVip('10.9.0.1', icmpError(3, 4, answer)).moved).toEqual({ ...SCALED_IN, sg_icmp_related: 1 });
    const foreign = ipPkt('10.9.0.30', '10.9.0.20', tcpSeg(80, 42000, SYN | ACK));
    expect(toVip('10.9.0.1', icmpError(3, 4, foreign)).moved).toEqual({ ...transitDrop('drop_sg_icmp_error'), scaled_dnat: 1 });
  });
});

// IPv4 fragments: a first fragment that passes records its datagram (sg_frags),
// and a later one (no L4 header) is judged as that flow with its ports.
describe('fragments of a policed endpoint: later ones follow their first', () => {
  const me = { ip: '10.1.0.10', n: 10 };
  const peer = { ip: '10.1.0.11', n: 11 };
  /** The record of a datagram: its first fragment's ports as carried, or undefined. */
  function recorded(src: string, dst: string, id: number, proto: number): { sport: number; dport: number } | undefined {
    const key = Buffer.alloc(SG_FRAG_KEY.size);
    key.writeUInt32LE(VNI, SG_FRAG_KEY.off.vni);
    key.writeUInt32BE(ipNum(src), SG_FRAG_KEY.off.saddr);
    key.writeUInt32BE(ipNum(dst), SG_FRAG_KEY.off.daddr);
    key.writeUInt16BE(id, SG_FRAG_KEY.off.id);
    key[SG_FRAG_KEY.off.proto] = proto;
    const v = dp.map('sg_frags').lookup(key);
    return v ? { sport: v.readUInt16BE(SG_FRAG_VALUE.off.sport), dport: v.readUInt16BE(SG_FRAG_VALUE.off.dport) } : undefined;
  }
  /** The agent's veth (LO) is one endpoint's at a time: `who` sends. */
  const out = (who: { ip: string; n: number }, pkt: Buffer) => {
    dp.putAgentMeta(LO, { vni: VNI, ip: who.ip, mac: mac(who.n), netId: 1 });
    return sendPkt(who, pkt);
  };
  beforeAll(() => {
    hostEndpoint(peer.ip, peer.n);
    hostEndpoint(me.ip, me.n);
    group(7, 'frag-me', [{ protocol: 'udp', cidr: '10.0.0.0/8', ports: '7000' }, { protocol: 'tcp', ports: '80' }],
      [{ protocol: 'udp', ports: '53' }, { protocol: 'icmp' }]);
    group(8, 'frag-peer', [], [{ protocol: 'udp', ports: '7000' }]);
    attach(me.ip, [7]);
    attach(peer.ip, [8]);
  });

  it('ingress at transit: an allowed first fragment passes and records; its later fragment passes', () => {
    const d = fragments('10.2.5.5', me.ip, 0x301, udpDgram(40000, 7000));
    expect(receivePkt(me, d.first)).toMatchObject({ verdict: XDP.REDIRECT, moved: deliveredNew });
    expect(recorded('10.2.5.5', me.ip, 0x301, IPPROTO_UDP)).toEqual({ sport: 40000, dport: 7000 });
    expect(receivePkt(me, d.later)).toMatchObject({ verdict: XDP.REDIRECT, moved: DELIVERED });
    expect(receivePkt(me, d.later).moved).toEqual(DELIVERED); // a record serves every later fragment
  });

  it('egress at the agent: an allowed first fragment passes and records; its later fragment passes (UDP, ICMP echo)', () => {
    const d = fragments(me.ip, '10.9.0.53', 0x302, udpDgram(33000, 53));
    expect(out(me, d.first).moved).toEqual(sentNew);
    expect(recorded(me.ip, '10.9.0.53', 0x302, IPPROTO_UDP)).toEqual({ sport: 33000, dport: 53 });
    expect(out(me, d.later)).toMatchObject({ verdict: XDP.REDIRECT, moved: SENT });
    const e = fragments(me.ip, '10.9.0.54', 0x303, echo(8, 0x4242));
    expect(out(me, e.first).moved).toEqual(sentNew);
    expect(recorded(me.ip, '10.9.0.54', 0x303, IPPROTO_ICMP)).toEqual({ sport: 0x4242, dport: 0 });
    expect(out(me, e.later).moved).toEqual(SENT);
    // The echo reply, fragmented, comes back as the tracked flow's.
    const r = fragments('10.9.0.54', me.ip, 0x304, echo(0, 0x4242));
    expect(receivePkt(me, r.first).moved).toEqual(DELIVERED);
    expect(receivePkt(me, r.later).moved).toEqual(DELIVERED);
  });

  it('a later fragment whose first was never seen is dropped either way', () => {
    expect(receivePkt(me, fragments('10.2.5.5', me.ip, 0x305, udpDgram(40000, 7000)).later))
      .toMatchObject({ verdict: XDP.DROP, moved: transitDrop('drop_sg_fragment') });
    expect(out(me, fragments(me.ip, '10.9.0.53', 0x306, udpDgram(33000, 53)).later))
      .toMatchObject({ verdict: XDP.DROP, moved: agentDrop('drop_sg_fragment') });
  });

  it('a later fragment of a datagram whose first fragment was denied is dropped', () => {
    const d = fragments('10.2.5.5', me.ip, 0x307, udpDgram(40000, 7001));
    expect(receivePkt(me, d.first).moved).toEqual(transitDrop('drop_sg_ingress'));
    expect(receivePkt(me, d.later).moved).toEqual(transitDrop('drop_sg_fragment'));
    const up = fragments(me.ip, '10.9.0.53', 0x308, udpDgram(33000, 54));
    expect(out(me, up.first).moved).toEqual(agentDrop('drop_sg_egress'));
    expect(out(me, up.later).moved).toEqual(agentDrop('drop_sg_fragment'));
    // A datagram that reuses the IP id of one that passed: its denied first fragment forgets the old record.
    const ok = fragments('10.2.5.6', me.ip, 0x309, udpDgram(40002, 7000));
    expect(receivePkt(me, ok.first).moved).toEqual(deliveredNew);
    const reuse = fragments('10.2.5.6', me.ip, 0x309, udpDgram(40002, 7002));
    expect(receivePkt(me, reuse.first).moved).toEqual(transitDrop('drop_sg_ingress'));
    expect(recorded('10.2.5.6', me.ip, 0x309, IPPROTO_UDP)).toBeUndefined();
    expect(receivePkt(me, reuse.later).moved).toEqual(transitDrop('drop_sg_fragment'));
  });

  it('an untracked flow\'s later fragment is judged by the rules with its first\'s ports, TCP flags 0', () => {
    const d = fragments('10.2.5.7', me.ip, 0x30a, tcpSeg(41000, 80, SYN));
    expect(receivePkt(me, d.first).moved).toEqual(deliveredNew);
    expect(receivePkt(me, d.later).moved).toEqual(DELIVERED); // tracked (NEW)
    // The same record, the entry gone: a later fragment is a TCP segment without SYN, not tracked.
    dp.map('conntrack').delete(dp.map('conntrack').keys().find((k) => k.readUInt32BE(8) === ipNum('10.2.5.7'))!);
    dp.voidFlowCacheCopies(); // no CPU's copy of the entry outlives it
    group(7, 'frag-me', [{ protocol: 'udp', cidr: '10.0.0.0/8', ports: '7000' }], [{ protocol: 'udp', ports: '53' }, { protocol: 'icmp' }]);
    try {
      expect(receivePkt(me, d.later).moved).toEqual(transitDrop('drop_sg_unsolicited'));
    } finally {
      group(7, 'frag-me', [{ protocol: 'udp', cidr: '10.0.0.0/8', ports: '7000' }, { protocol: 'tcp', ports: '80' }],
        [{ protocol: 'udp', ports: '53' }, { protocol: 'icmp' }]);
    }
  });

  it('a TCP fragment at offset 1 (could overwrite the first\'s header: RFC 1858) is dropped', () => {
    const d = fragments('10.2.5.8', me.ip, 0x30b, tcpSeg(41001, 80, SYN));
    expect(receivePkt(me, d.first).moved).toEqual(deliveredNew);
    const overlap = ipv4({ src: '10.2.5.8', dst: me.ip, proto: IPPROTO_TCP, id: 0x30b, fragOffset: 1, mf: true }, Buffer.alloc(16));
    expect(receivePkt(me, overlap).moved).toEqual(transitDrop('drop_sg_fragment'));
  });

  it('an ICMP error\'s later fragments are not tracked: dropped (its first forgets an echo\'s record of the same IP id)', () => {
    expect(receive(me, '10.7.2.5', udpDgram(7777, 7000)).moved).toEqual(deliveredNew); // a tracked flow for the error to be about
    expect(out(me, ipPkt(me.ip, '10.9.0.1', echo(8, 0x77))).moved).toEqual(sentNew);
    const reply = fragments('10.9.0.1', me.ip, 0x30c, echo(0, 0x77));
    expect(receivePkt(me, reply.first).moved).toEqual(DELIVERED);
    expect(recorded('10.9.0.1', me.ip, 0x30c, IPPROTO_ICMP)).toEqual({ sport: 0x77, dport: 0 });
    const d = fragments('10.9.0.1', me.ip, 0x30c, icmpError(3, 4, ipPkt(me.ip, '10.7.2.5', udpDgram(7000, 7777))));
    expect(receivePkt(me, d.first).moved).toEqual({ ...DELIVERED, sg_icmp_related: 1 });
    expect(recorded('10.9.0.1', me.ip, 0x30c, IPPROTO_ICMP)).toBeUndefined();
    expect(receivePkt(me, d.later).moved).toEqual(transitDrop('drop_sg_fragment'));
  });

  it('one datagram judged twice on this host (the sender\'s egress, the receiver\'s ingress) reads the ports right both times', () => {
    const d = fragments(peer.ip, me.ip, 0x30d, udpDgram(45000, 7000));
    expect(out(peer, d.first).moved).toEqual(sentNew);
    expect(receivePkt(me, d.first).moved).toEqual(deliveredNew);
    expect(recorded(peer.ip, me.ip, 0x30d, IPPROTO_UDP)).toEqual({ sport: 45000, dport: 7000 });
    expect(out(peer, d.later).moved).toEqual(SENT);
    expect(receivePkt(me, d.later).moved).toEqual(DELIVERED);
    expect(entry(peer.ip, me.ip)).toMatchObject({ localPort: 45000, remotePort: 7000, origin: SgDir.EGRESS });
    expect(entry(me.ip, peer.ip)).toMatchObject({ localPort: 7000, remotePort: 45000, origin: SgDir.INGRESS });
  });

  it('sg_frags is pinned like the other sg maps: a restart keeps it, an older pin root without it gets one', () => {
    const root = `/sys/fs/bpf/xvpc/${uniquePrefix('u')}-sgfr`;
    const SMALL = { endpoints: 16, networks: 16, vpcs: 16, substrate: 16, agent_meta: 16, ep_host_cache: 16, scaled_flows: 16, conntrack: 256 };
    const key = Buffer.alloc(SG_FRAG_KEY.size, 1);
    key[SG_FRAG_KEY.off._pad] = 0;
    try {
      let h = HostDataplane.open(root, SMALL, { hook: HOOK });
      h.map('sg_frags').update(key, Buffer.from([0, 53, 0, 54]));
      h.close();
      h = HostDataplane.open(root, SMALL, { hook: HOOK });
      expect(h.map('sg_frags').lookup(key)).toEqual(Buffer.from([0, 53, 0, 54]));
      h.close();
      rmSync(`${root}/sg_frags`); // as a pin root of a build before sg_frags
      h = HostDataplane.open(root, SMALL, { hook: HOOK });
      expect(existsSync(`${root}/sg_frags`)).toBe(true);
      expect(h.map('sg_frags').keys()).toEqual([]);
      h.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('changes and time', () => {
  const me = { ip: '10.1.0.5', n: 5 };
  beforeAll(() => {
    hostEndpoint(me.ip, me.n);
    group(4, 'changing', [{ protocol: 'tcp', ports: '22' }], []);
    attach(me.ip, [4]);
  });

  it('an update applies to new connections at once; a tracked one goes on', () => {
    expect(receive(me, '10.2.0.1', tcpSeg(43000, 22, SYN)).moved).toEqual(deliveredNew);
    group(4, 'changing', [{ protocol: 'tcp', ports: '23' }], []);
    expect(receive(me, '10.2.0.1', tcpSeg(43001, 22, SYN)).moved).toEqual(transitDrop('drop_sg_ingress'));
    expect(receive(me, '10.2.0.1', tcpSeg(43002, 23, SYN)).moved).toEqual(deliveredNew);
    expect(receive(me, '10.2.0.1', tcpSeg(43000, 22, ACK)).moved).toEqual(DELIVERED); // tracked
    expect(send(me, '10.2.0.1', tcpSeg(22, 43000, ACK)).moved).toEqual(SENT);
  });

  it('TCP closes: FIN from both sides, then a new SYN on the same ports is judged anew', () => {
    expect(receive(me, '10.2.0.2', tcpSeg(44000, 23, SYN)).moved).toEqual(deliveredNew);
    send(me, '10.2.0.2', tcpSeg(23, 44000, SYN | ACK));
    receive(me, '10.2.0.2', tcpSeg(44000, 23, FIN | ACK));
    expect(entry(me.ip, '10.2.0.2')).toMatchObject({ state: CtState.CLOSING, fins: 2 });
    send(me, '10.2.0.2', tcpSeg(23, 44000, FIN | ACK));
    expect(entry(me.ip, '10.2.0.2')).toMatchObject({ state: CtState.CLOSED, fins: 3 });
    group(4, 'changing', [{ protocol: 'tcp', ports: '24' }], []);
    expect(receive(me, '10.2.0.2', tcpSeg(44000, 23, SYN)).moved).toEqual(transitDrop('drop_sg_ingress'));
    group(4, 'changing', [{ protocol: 'tcp', ports: '23' }], []);
    expect(receive(me, '10.2.0.2', tcpSeg(44000, 23, SYN)).moved).toEqual(deliveredNew);
    expect(receive(me, '10.2.0.2', tcpSeg(44000, 23, RST)).moved).toEqual(DELIVERED);
    expect(entry(me.ip, '10.2.0.2')?.state).toBe(CtState.CLOSED);
  });

  it('timeouts: an expired flow is judged anew (short configured timeouts)', async () => {
    dp.setConntrackTimeouts({ udp: 50, tcpNew: 50 });
    try {
      group(4, 'changing', [{ protocol: 'tcp', ports: '23' }], [{ protocol: 'udp', ports: '53' }]);
      expect(send(me, '10.2.0.3', udpDgram(45000, 53)).moved).toEqual(sentNew);
      expect(receive(me, '10.2.0.3', udpDgram(53, 45000)).moved).toEqual(DELIVERED);
      expect(receive(me, '10.2.0.4', tcpSeg(45001, 23, SYN)).moved).toEqual(deliveredNew);
      await new Promise((r) => setTimeout(r, 120));
      expect(receive(me, '10.2.0.3', udpDgram(53, 45000)).moved).toEqual({ ...transitDrop('drop_sg_ingress'), sg_ct_expired: 1 });
      // The half-open connection timed out: its late reply is not a reply any more.
      expect(send(me, '10.2.0.4', tcpSeg(23, 45001, SYN | ACK)).moved).toEqual({ ...agentDrop('drop_sg_unsolicited'), sg_ct_expired: 1 });
      // A new query opens it again, replacing the stale entry (still there, expired: no new insert).
      expect(send(me, '10.2.0.3', udpDgram(45000, 53)).moved).toEqual({ ...sentNew, sg_ct_expired: 1 });
    } finally {
      dp.setConntrackTimeouts({});
    }
  });

  it('new timeouts reach a tracked flow at its next packet: a longer one keeps it alive', async () => {
    dp.setConntrackTimeouts({ udp: 50 });
    try {
      group(4, 'changing', [{ protocol: 'tcp', ports: '23' }], [{ protocol: 'udp', ports: '53' }]);
      expect(send(me, '10.2.0.6', udpDgram(46000, 53)).moved).toEqual(sentNew);
      expect(receive(me, '10.2.0.6', udpDgram(53, 46000)).moved).toEqual(DELIVERED); // established, 50 ms
      // Within its 50 ms nothing is written, but new timeouts take the full check once:
      // the deadline moves to 60 s from now.
      dp.setConntrackTimeouts({ udp: 60_000 });
      expect(receive(me, '10.2.0.6', udpDgram(53, 46000)).moved).toEqual(DELIVERED);
      await new Promise((r) => setTimeout(r, 120));
      expect(receive(me, '10.2.0.6', udpDgram(53, 46000)).moved).toEqual(DELIVERED);
      expect(entry(me.ip, '10.2.0.6')?.state).toBe(CtState.ESTABLISHED);
    } finally {
      dp.setConntrackTimeouts({});
    }
  });

  it('detaching the last group restores allow-all', () => {
    dp.delete('sg_attach', { vni: VNI, ip: me.ip });
    expect(receive(me, '10.9.9.9', tcpSeg(1, 9999, SYN)).moved).toEqual(DELIVERED);
    expect(send(me, '10.9.9.9', udpDgram(1, 9999)).moved).toEqual(SENT);
  });

  it('deleting a group removes its compiled entries', () => {
    dp.delete('sg_groups', { id: 4 });
    expect(dp.map('sg_ports').keys().filter((k) => k.readUInt32LE(4) >>> 1 === 4)).toEqual([]);
    expect(dp.map('sg_cidrs').keys().filter((k) => k.readUInt32LE(4) >>> 1 === 4)).toEqual([]);
  });
});

// The steady state's per-CPU flow cache (conntrack.h sg_judge): a copy of an
// entry is trusted only under the ct_epoch it was taken under, and every insert
// (where the LRU evicts) and every change of state moves that epoch.
describe('the flow cache: a copy of an entry, trusted under the current epoch only', () => {
  const me = { ip: '10.1.0.8', n: 8 };
  /** native/bpf/Makefile builds the cache for x86-64 only (its memory order): elsewhere no copy is taken or trusted. */
  const CACHED = process.arch === 'x64';
  const epoch = () => dp.map('ct_epoch').lookup(u32Key(0))!.readBigUInt64LE(0);
  /** The table's raw entry of `me`'s flow with `remote`, key and value. */
  function rawEntry(remote: string): { key: Buffer; value: Buffer } {
    const ct = dp.map('conntrack');
    const key = ct.keys().find((k) => k.readUInt32BE(4) === ipNum(me.ip) && k.readUInt32BE(8) === ipNum(remote));
    if (!key) throw new Error(`no conntrack entry for ${me.ip} <-> ${remote}`);
    return { key, value: ct.lookup(key)! };
  }
  /** Every slot of every CPU's cache holding this copy: whichever CPU runs the next packet, its slot has it. */
  function copyEverywhere(key: Buffer, ct: Buffer, at: bigint): void {
    const one = Buffer.alloc(SG_FLOW_CACHE_VALUE.size);
    key.copy(one, SG_FLOW_CACHE_VALUE.off.key);
    one.writeBigUInt64LE(at, SG_FLOW_CACHE_VALUE.off.epoch);
    ct.copy(one, SG_FLOW_CACHE_VALUE.off.ct);
    const all = Buffer.concat(Array.from({ length: numPossibleCpus() }, () => one));
    const cache = dp.map('sg_flow_cache');
    for (let slot = 0; slot < cache.info().maxEntries; slot++) cache.update(u32Key(slot), all);
  }
  /** Slots (of any CPU) holding a copy of this key. */
  function copiesOf(key: Buffer): Buffer[] {
    const cache = dp.map('sg_flow_cache');
    const found: Buffer[] = [];
    for (let slot = 0; slot < cache.info().maxEntries; slot++) {
      const v = cache.lookup(u32Key(slot))!;
      for (let off = 0; off < v.length; off += SG_FLOW_CACHE_VALUE.size) {
        const one = v.subarray(off, off + SG_FLOW_CACHE_VALUE.size);
        if (one.subarray(0, key.length).equals(key)) found.push(one);
      }
    }
    return found;
  }

  beforeAll(() => {
    hostEndpoint(me.ip, me.n);
    group(5, 'cached', [{ protocol: 'tcp', ports: '23' }], [{ protocol: 'udp', ports: '53' }]);
    attach(me.ip, [5]);
  });

  it('a steady-state packet leaves a copy of its entry under the current epoch; it moves no epoch', () => {
    expect(send(me, '10.2.1.1', udpDgram(47000, 53)).moved).toEqual(sentNew);
    expect(receive(me, '10.2.1.1', udpDgram(53, 47000)).moved).toEqual(DELIVERED); // the first answer: a change of state
    const at = epoch();
    expect(receive(me, '10.2.1.1', udpDgram(53, 47000)).moved).toEqual(DELIVERED);
    expect(send(me, '10.2.1.1', udpDgram(47000, 53)).moved).toEqual(SENT);
    expect(epoch()).toBe(at);
    const { key, value } = rawEntry('10.2.1.1');
    const copies = copiesOf(key);
    if (!CACHED) {
      expect(copies).toEqual([]);
      return;
    }
    expect(copies.length).toBeGreaterThanOrEqual(1);
    for (const c of copies) {
      expect(c.readBigUInt64LE(SG_FLOW_CACHE_VALUE.off.epoch)).toBe(at);
      expect(c.subarray(SG_FLOW_CACHE_VALUE.off.ct).equals(value)).toBe(true);
    }
  });

  it('a copy under the current epoch passes its flow without the table; one under an older epoch, or after the loader voids copies, does not', () => {
    // A copy of 10.2.1.1's entry put under 10.2.1.2's key: a flow the table never saw, inbound, denied by the rules.
    const { key, value } = rawEntry('10.2.1.1');
    const forged = Buffer.from(key);
    forged.writeUInt32BE(ipNum('10.2.1.2'), 8);
    copyEverywhere(forged, value, epoch() - 1n);
    expect(receive(me, '10.2.1.2', udpDgram(53, 47000)).moved).toEqual(transitDrop('drop_sg_ingress'));
    copyEverywhere(forged, value, epoch());
    expect(receive(me, '10.2.1.2', udpDgram(53, 47000)).moved).toEqual(CACHED ? DELIVERED : transitDrop('drop_sg_ingress'));
    // The loader voids every copy (after replacing another build's programs): the forged one no longer passes.
    const at = epoch();
    dp.voidFlowCacheCopies();
    expect(epoch()).toBe(at + (1n << 32n));
    expect(receive(me, '10.2.1.2', udpDgram(53, 47000)).moved).toEqual(transitDrop('drop_sg_ingress'));
    copyEverywhere(Buffer.alloc(key.length), Buffer.alloc(value.length), 0n); // nothing forged stays
    expect(receive(me, '10.2.1.2', udpDgram(53, 47000)).moved).toEqual(transitDrop('drop_sg_ingress'));
  });

  it('every insert moves the epoch (an insert is where the LRU evicts)', () => {
    const at = epoch();
    expect(send(me, '10.2.1.3', udpDgram(47001, 53)).moved).toEqual(sentNew);
    expect(send(me, '10.2.1.4', udpDgram(47002, 53)).moved).toEqual(sentNew);
    expect(epoch()).toBe(at + 2n);
  });

  it('a change of state moves the epoch: a copy taken before an RST does not outlive the closed entry', async () => {
    dp.setConntrackTimeouts({ tcpClosed: 50 });
    try {
      expect(receive(me, '10.2.1.5', tcpSeg(48000, 23, SYN)).moved).toEqual(deliveredNew);
      expect(send(me, '10.2.1.5', tcpSeg(23, 48000, SYN | ACK)).moved).toEqual(SENT);
      expect(receive(me, '10.2.1.5', tcpSeg(48000, 23, ACK)).moved).toEqual(DELIVERED);
      const { key, value } = rawEntry('10.2.1.5');
      expect(value.readUInt8(8)).toBe(CtState.ESTABLISHED);
      copyEverywhere(key, value, epoch()); // as the steady state would have left it on every CPU
      expect(send(me, '10.2.1.5', tcpSeg(23, 48000, ACK)).moved).toEqual(SENT);
      const before = epoch();
      expect(receive(me, '10.2.1.5', tcpSeg(48000, 23, RST)).moved).toEqual(DELIVERED);
      expect(epoch()).toBe(before + 1n);
      expect(entry(me.ip, '10.2.1.5')?.state).toBe(CtState.CLOSED);
      await new Promise((r) => setTimeout(r, 120));
      // The entry timed out closed; the ESTABLISHED copy (6 h) is void: the ACK out is judged by the rules.
      expect(send(me, '10.2.1.5', tcpSeg(23, 48000, ACK)).moved).toEqual({ ...agentDrop('drop_sg_unsolicited'), sg_ct_expired: 1 });
    } finally {
      dp.setConntrackTimeouts({});
    }
  });
});

describe('eviction: a small conntrack', () => {
  const CAP = 256;
  let small: HostDataplane;
  let pinRoot: string;
  beforeAll(() => {
    pinRoot = `/sys/fs/bpf/xvpc/${uniquePrefix('u')}-sgev`;
    small = HostDataplane.open(pinRoot, { endpoints: 64, networks: 16, vpcs: 16, substrate: 16, agent_meta: 16, ep_host_cache: 16, conntrack: CAP }, { hook: HOOK });
    small.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
    small.addInterface(LO);
    small.put('substrate', { ip: SWITCH.ip, mac: SWITCH.mac });
    small.put('substrate', { ip: REMOTE_HOST.ip, mac: REMOTE_HOST.mac });
    small.put('networks', NET);
    small.put('endpoints', { vni: VNI, ip: '10.1.0.6', type: EndpointType.SIMPLE, mac: mac(6), hostIp: THIS_HOST.ip, hostMac: THIS_HOST.mac, netId: 1, backends: [], hostedIfindex: LO });
    small.putAgentMeta(LO, { vni: VNI, ip: '10.1.0.6', mac: mac(6), netId: 1 });
    small.put('sg_groups', { id: 9, vni: VNI, name: 'out', ingress: [], egress: [{ protocol: 'udp' }] });
    small.put('sg_attach', { vni: VNI, ip: '10.1.0.6', groups: [9] });
  });
  afterAll(() => { small?.close(); if (pinRoot) rmSync(pinRoot, { recursive: true, force: true }); });

  it('inserts past the capacity count as evictions; an evicted flow\'s reply is judged as new (denied)', () => {
    const before = small.stats();
    const epochOf = () => small.map('ct_epoch').lookup(u32Key(0))!.readBigUInt64LE(0);
    const epochBefore = epochOf();
    const N = CAP + 40;
    for (let i = 0; i < N; i++) {
      const pkt = eth({ dst: GW_MAC, src: mac(6), type: ETH_P_IP }, ipPkt('10.1.0.6', '10.9.0.1', udpDgram(20000 + i, 53)));
      expect(small.agentProgram.testRun(pkt, { ingressIfindex: LO }).retval).not.toBe(HOOK === 'xdp' ? XDP.DROP : 2);
    }
    const after = small.stats();
    expect(after.sg_ct_new - before.sg_ct_new).toBe(N);
    expect(after.sg_ct_evict - before.sg_ct_evict).toBe(N - CAP);
    expect(epochOf() - epochBefore).toBe(BigInt(N)); // every copy in a flow cache was voided by each insert
    const live = new Set(small.conntrackEntries().map((e) => e.localPort));
    expect(live.size).toBeLessThanOrEqual(CAP);
    const gone = Array.from({ length: N }, (_, i) => 20000 + i).find((p) => !live.has(p));
    expect(gone).toBeDefined();
    const reply = geneveFrame(
      { srcMac: REMOTE_HOST.mac, dstMac: THIS_HOST.mac, srcIp: REMOTE_HOST.ip, dstIp: THIS_HOST.ip, ttl: 60, sport: 50000, id: 9 },
      { vni: VNI, options: [rtsOption(REMOTE_HOST.ip, REMOTE_HOST.mac)] },
      eth({ dst: mac(6), src: '02:00:0a:09:09:09', type: ETH_P_IP }, ipPkt('10.9.0.1', '10.1.0.6', udpDgram(53, gone!))));
    const b = small.stats();
    small.transitProgram.testRun(reply, { ingressIfindex: LO });
    expect(small.stats().drop_sg_ingress - b.drop_sg_ingress).toBe(1);
  });
});

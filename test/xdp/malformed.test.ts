// Malformed input: dropped and counted by reason, never forwarded (and never
// half-rewritten: the output of a drop is still the input); traffic that is not
// Geneve to this host passes untouched. Rules: native/bpf/README.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDataplane } from '../../src/dataplane/host.js';
import type { StatName } from '../../src/abi/index.js';
import { EndpointType } from '../../src/abi/index.js';
import {
  ARP_REQUEST, BROADCAST_MAC, ETH_LEN, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, GENEVE_LEN, IPPROTO_ICMP, IPPROTO_TCP,
  IPPROTO_UDP, IPV4_LEN, OPT_CLASS_XVPC, OPT_CRITICAL, OPT_RTS, OPT_SCALED, UDP_LEN, arp, eth, fixIpv4Checksum,
  geneveFrame, icmpEcho, ipv4, rtsOption, tcp, udp, type GeneveOption, type GeneveOpts,
} from '../lib/packets.js';
import {
  HOOK, LO, THIS_HOST, XDP, hex, hostN, openDataplane, runAgent, runTransit, testRunTakes, type Outcome, beThisHost,
} from './harness.js';

const VNI = 0x0a1b2c;
const SENDER_HOST = hostN(21);
const SENDER = { ip: '10.1.0.7', mac: '02:00:0a:01:00:07' };
const EP_REMOTE = { ip: '10.1.0.5', mac: '02:00:0a:01:00:05', host: hostN(23) };
const GW_MAC = '02:00:0a:01:00:01';
const RTS = rtsOption(SENDER_HOST.ip, SENDER_HOST.mac);

let env: ReturnType<typeof openDataplane>;
let dp: HostDataplane;

beforeAll(() => {
  env = openDataplane('malformed');
  dp = env.dp;
  beThisHost(dp);
  dp.putAgentMeta(LO, { vni: VNI, ip: SENDER.ip, mac: SENDER.mac, netId: 1 });
  dp.put('networks', { vni: VNI, netId: 1, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', gatewayMac: GW_MAC, switches: [hostN(11).ip] });
  dp.put('substrate', { ip: hostN(11).ip, mac: hostN(11).mac });
  dp.put('endpoints', {
    vni: VNI, ip: EP_REMOTE.ip, type: EndpointType.SIMPLE, mac: EP_REMOTE.mac, hostIp: EP_REMOTE.host.ip,
    hostMac: EP_REMOTE.host.mac, netId: 1, backends: [], hostedIfindex: -1,
  });
});

afterAll(() => env?.close());

// ---- packets ---------------------------------------------------------------------

const innerIcmp = (o: { version?: number; ihl?: number; options?: Buffer } = {}) =>
  eth({ dst: EP_REMOTE.mac, src: SENDER.mac, type: ETH_P_IP },
    ipv4({ src: SENDER.ip, dst: EP_REMOTE.ip, proto: IPPROTO_ICMP, id: 9, ...o }, icmpEcho()));

const innerArp = (o: { op?: number; htype?: number } = {}) =>
  eth({ dst: BROADCAST_MAC, src: SENDER.mac, type: ETH_P_ARP },
    arp({ op: o.op ?? ARP_REQUEST, htype: o.htype, sha: SENDER.mac, spa: SENDER.ip, tpa: EP_REMOTE.ip }));

const OUTER = { srcMac: SENDER_HOST.mac, dstMac: THIS_HOST.mac, srcIp: SENDER_HOST.ip, dstIp: THIS_HOST.ip, ttl: 30, sport: 50001, id: 5 };

/** A Geneve packet to this host; `g` overrides Geneve fields. */
const toUs = (g: Partial<GeneveOpts> = {}, inner = innerIcmp()) => geneveFrame(OUTER, { vni: VNI, options: [RTS], ...g }, inner);

/** The switch forward of a well-formed toUs(g, inner): what accepted packets must become. */
const forwarded = (g: Partial<GeneveOpts> = {}, inner = innerIcmp()) => geneveFrame(
  { ...OUTER, srcMac: THIS_HOST.mac, dstMac: EP_REMOTE.host.mac, dstIp: EP_REMOTE.host.ip, ttl: 29 },
  { vni: VNI, options: [RTS], ...g }, inner);

/** The outer IPv4 header rebuilt with other fields (the rest of the packet as it was). */
function withOuterIp(pkt: Buffer, o: Partial<Parameters<typeof ipv4>[0]>): Buffer {
  const payload = pkt.subarray(ETH_LEN + IPV4_LEN);
  const base = { src: OUTER.srcIp, dst: OUTER.dstIp, proto: IPPROTO_UDP, ttl: OUTER.ttl, id: OUTER.id };
  return Buffer.concat([pkt.subarray(0, ETH_LEN), ipv4({ ...base, ...o }, payload)]);
}

/** A first L bytes of `pkt`, with the outer IPv4 and UDP lengths (and checksum) made to match when present. */
function cut(pkt: Buffer, len: number, fixLengths: boolean): Buffer {
  const b = Buffer.from(pkt.subarray(0, len));
  if (fixLengths && len >= ETH_LEN + IPV4_LEN) {
    b.writeUInt16BE(len - ETH_LEN, ETH_LEN + 2);
    fixIpv4Checksum(b);
  }
  if (fixLengths && len >= ETH_LEN + IPV4_LEN + UDP_LEN) b.writeUInt16BE(len - ETH_LEN - IPV4_LEN, ETH_LEN + IPV4_LEN + 4);
  return b;
}

function expectDrop(r: Outcome, input: Buffer, counter: StatName, prog: 'transit' | 'agent' = 'transit', label = ''): void {
  expect(r.verdict, label).toBe(XDP.DROP);
  expect(hex(r.out), label).toBe(hex(input));
  expect(r.moved, label).toEqual({ [`${prog}_rx`]: 1, [`${prog}_drop`]: 1, [counter]: 1 });
}

function expectPassUntouched(r: Outcome, input: Buffer, label = ''): void {
  expect(r.verdict, label).toBe(XDP.PASS);
  expect(hex(r.out), label).toBe(hex(input));
  expect(r.moved, label).toEqual({ transit_rx: 1, transit_pass: 1 });
}

function expectForwarded(r: Outcome, expected: Buffer, label = ''): void {
  expect(r.verdict, label).toBe(XDP.TX);
  expect(hex(r.out), label).toBe(hex(expected));
  expect(r.moved, label).toEqual({ transit_rx: 1, transit_tx: 1, switch_fwd: 1 });
}

// Offsets in the reference packet: outer Ethernet 14, IPv4 20, UDP 8, Geneve 8, RTS option 16,
// inner Ethernet 14, inner IPv4 20, ICMP.
const UDP_END = ETH_LEN + IPV4_LEN + UDP_LEN;        // 42
const GENEVE_END = UDP_END + GENEVE_LEN;             // 50
const OPTS_END = GENEVE_END + 16;                    // 66
const INNER_ETH_END = OPTS_END + ETH_LEN;            // 80
const INNER_IP_END = INNER_ETH_END + IPV4_LEN;       // 100

describe('the reference packet', () => {
  it('is accepted and switched, so every drop below is due to its one defect', () => {
    expectForwarded(runTransit(dp, toUs()), forwarded());
  });
});

describe('truncation at every offset (outer lengths made consistent with the cut)', () => {
  it('from the end of outer Ethernet to the end of the inner IPv4 header', () => {
    const full = toUs();
    expect(full.length).toBeGreaterThan(INNER_IP_END);
    const seen: Record<string, number> = {};
    for (let len = ETH_LEN; len <= INNER_IP_END; len++) {
      const pkt = cut(full, len, true);
      const label = `cut at ${len}`;
      if (!testRunTakes(pkt)) {
        expect(() => runTransit(dp, pkt), label).toThrow(/Invalid argument/);
        seen.refused = (seen.refused ?? 0) + 1;
        continue;
      }
      const r = runTransit(dp, pkt);
      if (len < UDP_END) {
        // Not even the UDP ports: cannot be told from other traffic, so it passes.
        expectPassUntouched(r, pkt, label);
        seen.pass = (seen.pass ?? 0) + 1;
      } else if (len < INNER_IP_END) {
        expectDrop(r, pkt, 'drop_truncated', 'transit', label);
        const where = len < GENEVE_END ? 'geneve' : len < OPTS_END ? 'options' : len < INNER_ETH_END ? 'inner eth' : 'inner ip';
        seen[where] = (seen[where] ?? 0) + 1;
      } else {
        // The inner IPv4 header is whole: forwarded (the switch does not read past it).
        const expected = cut(forwarded(), len, true);
        expect(r.verdict, label).toBe(XDP.TX);
        expect(hex(r.out), label).toBe(hex(fixIpv4Checksum(expected)));
        seen.forwarded = 1;
      }
    }
    const refused = HOOK === 'tc' ? 34 - ETH_LEN : 0; // see testRunTakes
    expect(seen).toEqual({
      pass: UDP_END - ETH_LEN - refused, geneve: 8, options: 16, 'inner eth': 14, 'inner ip': 20, forwarded: 1,
      ...(refused ? { refused } : {}),
    });
  });

  it('a frame shorter than its IPv4 total length (lengths not fixed): drop_bad_ip from the UDP header on', () => {
    const full = toUs();
    for (let len = UDP_END; len < full.length; len++) {
      const pkt = cut(full, len, false);
      expectDrop(runTransit(dp, pkt), pkt, 'drop_bad_ip', 'transit', `cut at ${len}`);
    }
  });

  it('an inner ARP cut anywhere: drop_truncated', () => {
    const full = toUs({}, innerArp());
    for (let len = INNER_ETH_END; len < full.length; len++) {
      const pkt = cut(full, len, true);
      expectDrop(runTransit(dp, pkt), pkt, 'drop_truncated', 'transit', `cut at ${len}`);
    }
  });

  it('an inner IPv4 header whose options are cut off: drop_truncated', () => {
    const inner = eth({ dst: EP_REMOTE.mac, src: SENDER.mac, type: ETH_P_IP },
      ipv4({ src: SENDER.ip, dst: EP_REMOTE.ip, proto: IPPROTO_ICMP, options: Buffer.from([1, 1, 1, 0]) }));
    const pkt = toUs({}, inner.subarray(0, ETH_LEN + IPV4_LEN));
    expectDrop(runTransit(dp, pkt), pkt, 'drop_truncated');
  });
});

describe('the Geneve header', () => {
  it('version 1, 2, 3: drop_geneve_version', () => {
    for (const version of [1, 2, 3]) {
      const pkt = toUs({ version });
      expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_version', 'transit', `version ${version}`);
    }
  });

  it('a protocol other than 0x6558: drop_geneve_proto', () => {
    for (const protocol of [ETH_P_IP, ETH_P_IPV6, 0]) {
      const pkt = toUs({ protocol });
      expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_proto', 'transit', `protocol 0x${protocol.toString(16)}`);
    }
  });

  it('the O bit (a control packet): drop_unsupported', () => {
    const pkt = toUs({ oam: true });
    expectDrop(runTransit(dp, pkt), pkt, 'drop_unsupported');
  });

  it('the C bit with no critical option is accepted', () => {
    expectForwarded(runTransit(dp, toUs({ critical: true })), forwarded({ critical: true }));
  });
});

describe('Geneve options', () => {
  const unknown = (type: number, words = 1): GeneveOption => ({ cls: 0x0102, type, data: Buffer.alloc(words * 4, 0xab) });

  it('an option longer than what is left of opt_len: drop_geneve_opt', () => {
    const cases: GeneveOption[][] = [
      [{ ...RTS, lenWords: 5 }],                     // says 20 bytes, opt_len holds 16
      [unknown(0x01, 2), { ...unknown(0x02, 1), lenWords: 2 }], // the second overruns
    ];
    for (const options of cases) {
      const pkt = toUs({ options });
      expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_opt');
    }
    // opt_len too short for the options that follow: the RTS option overruns it.
    const pkt = toUs({ optLenWords: 2 });
    expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_opt');
  });

  it('opt_len beyond the end of the packet: drop_truncated', () => {
    for (const optLenWords of [63, 20]) {
      const pkt = toUs({ optLenWords });
      expect(pkt.length).toBeLessThan(GENEVE_END + optLenWords * 4);
      expectDrop(runTransit(dp, pkt), pkt, 'drop_truncated', 'transit', `opt_len ${optLenWords}`);
    }
  });

  it('an unknown critical option (any class, also ours): drop_geneve_opt', () => {
    for (const opt of [unknown(OPT_CRITICAL | 0x01), { cls: OPT_CLASS_XVPC, type: OPT_CRITICAL | OPT_RTS, data: RTS.data }]) {
      const pkt = toUs({ options: [RTS, opt] });
      expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_opt');
    }
  });

  it('an RTS option that is not 3 words: drop_geneve_opt', () => {
    for (const words of [0, 2, 4]) {
      const pkt = toUs({ options: [{ cls: OPT_CLASS_XVPC, type: OPT_RTS, data: Buffer.alloc(words * 4) }] });
      expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_opt', 'transit', `${words} words`);
    }
  });

  it('more than 8 options: drop_geneve_opt; 8 (unknown, non-critical, scaled) are accepted untouched', () => {
    const eight = [RTS, unknown(0x01), unknown(0x02, 0), { cls: OPT_CLASS_XVPC, type: OPT_SCALED, data: Buffer.alloc(4) },
      unknown(0x03, 3), unknown(0x04), unknown(0x05, 0), unknown(0x7f, 2)];
    expectForwarded(runTransit(dp, toUs({ options: eight })), forwarded({ options: eight }));
    const pkt = toUs({ options: [...eight, unknown(0x06, 0)] });
    expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_opt');
  });

  it('a scaled-endpoint option whose data is not one IPv4 address: drop_geneve_opt', () => {
    for (const data of [Buffer.alloc(0), Buffer.alloc(8)]) {
      const pkt = toUs({ options: [RTS, { cls: OPT_CLASS_XVPC, type: OPT_SCALED, data }] });
      expectDrop(runTransit(dp, pkt), pkt, 'drop_geneve_opt');
    }
  });
});

describe('the outer IPv4 header', () => {
  it('IP options on Geneve to us: drop_ip_options (outer headers must be plain)', () => {
    for (const options of [Buffer.from([1, 1, 1, 1]), Buffer.from([0x94, 4, 0, 0, 1, 1, 1, 0])]) {
      const pkt = withOuterIp(toUs(), { options });
      expectDrop(runTransit(dp, pkt), pkt, 'drop_ip_options');
    }
  });

  it('a first fragment (MF, offset 0): drop_fragment, also with options', () => {
    for (const pkt of [withOuterIp(toUs(), { mf: true }), withOuterIp(toUs(), { mf: true, options: Buffer.from([1, 1, 1, 1]) })]) {
      expectDrop(runTransit(dp, pkt), pkt, 'drop_fragment');
    }
  });

  it('a later fragment shows no ports: it passes untouched', () => {
    for (const o of [{ fragOffset: 100 }, { fragOffset: 100, mf: true }]) {
      const pkt = withOuterIp(toUs(), o);
      expectPassUntouched(runTransit(dp, pkt), pkt);
    }
  });

  it('DF set is fine', () => {
    const pkt = withOuterIp(toUs(), { df: true });
    const expected = withOuterIp(forwarded(), { df: true, src: SENDER_HOST.ip, dst: EP_REMOTE.host.ip, ttl: 29 });
    expectForwarded(runTransit(dp, pkt), expected);
  });

  it('IHL below 5, version other than 4, wrong total or UDP length, bad checksum: drop_bad_ip', () => {
    const good = toUs();
    const badUdpLen = Buffer.from(good);
    badUdpLen.writeUInt16BE(badUdpLen.readUInt16BE(38) + 4, 38);
    const badCsum = Buffer.from(good);
    badCsum.writeUInt16BE(badCsum.readUInt16BE(24) ^ 0x0101, 24);
    const cases: [string, Buffer][] = [
      ...[0, 1, 4].map((ihl): [string, Buffer] => [`ihl ${ihl}`, withOuterIp(good, { ihl })]),
      ['version 6', withOuterIp(good, { version: 6 })],
      ['tot_len + 1', withOuterIp(good, { totLen: good.length - ETH_LEN + 1 })],
      ['tot_len - 1', withOuterIp(good, { totLen: good.length - ETH_LEN - 1 })],
      ['trailing bytes', Buffer.concat([good, Buffer.alloc(4)])],
      ['udp len', badUdpLen],
      ['checksum', badCsum],
    ];
    for (const [label, pkt] of cases) expectDrop(runTransit(dp, pkt), pkt, 'drop_bad_ip', 'transit', label);
  });
});

describe('the inner frame', () => {
  it('inner IPv4 version other than 4 or IHL below 5: drop_bad_ip', () => {
    for (const o of [{ version: 6 }, { ihl: 4 }, { ihl: 0 }]) {
      const pkt = toUs({}, innerIcmp(o));
      expectDrop(runTransit(dp, pkt), pkt, 'drop_bad_ip', 'transit', JSON.stringify(o));
    }
  });

  it('other inner ethertypes and ARP that is not an Ethernet/IPv4 request or reply: drop_unsupported', () => {
    const inners = [
      eth({ dst: EP_REMOTE.mac, src: SENDER.mac, type: ETH_P_IPV6 }, Buffer.alloc(40, 0x60)),
      innerArp({ op: 3 }),
      innerArp({ htype: 6 }),
    ];
    for (const inner of inners) {
      const pkt = toUs({}, inner);
      expectDrop(runTransit(dp, pkt), pkt, 'drop_unsupported');
    }
  });
});

describe('not Geneve to this host: XDP_PASS, untouched', () => {
  const plain = (type: number, payload: Buffer) => eth({ dst: THIS_HOST.mac, src: SENDER_HOST.mac, type }, payload);
  const ipTo = (proto: number, l4: Buffer, dst = THIS_HOST.ip) =>
    plain(ETH_P_IP, ipv4({ src: SENDER_HOST.ip, dst, proto }, l4));

  it('ARP, IPv6, TCP, other UDP ports, ICMP, UDP with options, bare Ethernet, cut IPv4', () => {
    const frames: [string, Buffer][] = [
      ['arp', plain(ETH_P_ARP, arp({ op: ARP_REQUEST, sha: SENDER_HOST.mac, spa: SENDER_HOST.ip, tpa: THIS_HOST.ip }))],
      ['ipv6', plain(ETH_P_IPV6, Buffer.alloc(60, 0x60))],
      ['tcp to 6081', ipTo(IPPROTO_TCP, tcp({ sport: 6081, dport: 6081 }))],
      ['vxlan', ipTo(IPPROTO_UDP, udp({ sport: 5000, dport: 4789 }, Buffer.alloc(64)))],
      ['geneve as the source port', ipTo(IPPROTO_UDP, udp({ sport: 6081, dport: 5000 }, Buffer.alloc(64)))],
      ['icmp', ipTo(IPPROTO_ICMP, icmpEcho())],
      ['udp with options', plain(ETH_P_IP, ipv4({ src: SENDER_HOST.ip, dst: THIS_HOST.ip, proto: IPPROTO_UDP, options: Buffer.from([1, 1, 1, 1]) }, udp({ sport: 1, dport: 53 })))],
      ['ethernet only', plain(ETH_P_IP, Buffer.alloc(0))],
      ['ipv4 cut', plain(ETH_P_IP, Buffer.alloc(19, 0x45))],
      ['udp header cut', toUs().subarray(0, UDP_END - 1)],
    ];
    for (const [label, f] of frames) {
      if (testRunTakes(f)) expectPassUntouched(runTransit(dp, f), f, label);
      else expect(() => runTransit(dp, f), label).toThrow(/Invalid argument/);
    }
  });

  it('Geneve to another host, even malformed Geneve, is not ours', () => {
    const other = (pkt: Buffer) => withOuterIp(pkt, { dst: hostN(99).ip });
    for (const pkt of [other(toUs()), other(toUs({ version: 3 })), other(toUs({ optLenWords: 63 }))]) {
      expectPassUntouched(runTransit(dp, pkt), pkt);
    }
  });

  it('with no host address configured, nothing is ours', () => {
    dp.setHostConfig({ ip: '0.0.0.0', mac: THIS_HOST.mac, ifindex: LO });
    try {
      const pkt = geneveFrame({ ...OUTER, dstIp: '0.0.0.0' }, { vni: VNI, options: [RTS] }, innerIcmp());
      expectPassUntouched(runTransit(dp, pkt), pkt);
      expectPassUntouched(runTransit(dp, toUs()), toUs());
    } finally {
      dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
    }
  });
});

describe('the agent: malformed frames from an endpoint', () => {
  const from = (type: number, payload: Buffer) => eth({ dst: GW_MAC, src: SENDER.mac, type }, payload);
  const ip = (o: Partial<Parameters<typeof ipv4>[0]> = {}) =>
    from(ETH_P_IP, ipv4({ src: SENDER.ip, dst: EP_REMOTE.ip, proto: IPPROTO_ICMP, ...o }, icmpEcho()));

  it('IPv4 cut anywhere in its header, or before its options end: drop_truncated', () => {
    const full = ip();
    for (let len = ETH_LEN; len < ETH_LEN + IPV4_LEN; len++) {
      const f = full.subarray(0, len);
      if (testRunTakes(f)) expectDrop(runAgent(dp, f), f, 'drop_truncated', 'agent', `cut at ${len}`);
      else expect(() => runAgent(dp, f), `cut at ${len}`).toThrow(/Invalid argument/);
    }
    const f = ip({ ihl: 15 }).subarray(0, ETH_LEN + 40);
    expectDrop(runAgent(dp, f), f, 'drop_truncated', 'agent');
  });

  it('IHL below 5 or version other than 4: drop_bad_ip', () => {
    for (const o of [{ ihl: 4 }, { ihl: 0 }, { version: 6 }]) {
      const f = ip(o);
      expectDrop(runAgent(dp, f), f, 'drop_bad_ip', 'agent', JSON.stringify(o));
    }
  });

  it('ARP cut anywhere: drop_truncated', () => {
    const full = from(ETH_P_ARP, arp({ op: ARP_REQUEST, sha: SENDER.mac, spa: SENDER.ip, tpa: '10.1.0.1' }));
    for (let len = ETH_LEN; len < full.length; len++) {
      const f = full.subarray(0, len);
      expectDrop(runAgent(dp, f), f, 'drop_truncated', 'agent', `cut at ${len}`);
    }
  });

  it('the outer-looking Geneve an endpoint sends is just its IPv4, encapsulated like any other', () => {
    // An endpoint cannot inject underlay traffic: its Geneve goes inside ours.
    const inner = geneveFrame({ ...OUTER, srcIp: SENDER.ip, dstIp: THIS_HOST.ip, srcMac: SENDER.mac, dstMac: GW_MAC }, { vni: VNI }, innerIcmp());
    const r = runAgent(dp, inner);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out.subarray(66))).toBe(hex(inner));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
  });
});


// xdp_transit on crafted Geneve packets: switch, router (network and VPC),
// decapsulation, ARP answered inside Geneve, VPC isolation, TTL. Every case
// checks the verdict, the whole output buffer against a packet built
// independently, and exactly which counters moved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDataplane } from '../../src/dataplane/host.js';
import { EndpointType } from '../../src/abi/index.js';
import {
  ARP_REPLY, ARP_REQUEST, BROADCAST_MAC, ETH_P_ARP, ETH_P_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP,
  arp, eth, geneveFrame, icmpEcho, inetChecksum, ipv4, parseGeneveFrame, parseIpv4, parseRts, rtsOption, tcp, udp, RTS_F_NO_LEARN,
  type GeneveOption,
} from '../lib/packets.js';
import {
  HOOK, LO, THIS_HOST, XDP, flowHash, hex, hostN, slotPick, openDataplane, runTransit, statsDelta, type TestHost,
} from './harness.js';

const VNI_A = 0x0a1b2c;
const VNI_B = 0x0d0e0f;

const SENDER_HOST = hostN(21); // the host whose agent encapsulated the packets
const SENDER = { ip: '10.1.0.7', mac: '02:00:0a:01:00:07' };

const NET1 = { vni: VNI_A, netId: 1, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', gatewayMac: '02:00:0a:01:00:01', switches: [THIS_HOST.ip, hostN(11).ip] };
const NET2 = { vni: VNI_A, netId: 2, cidr: '10.2.0.0/24', gatewayIp: '10.2.0.1', gatewayMac: '02:00:0a:02:00:01', switches: [hostN(31).ip, hostN(32).ip, hostN(33).ip] };
const NET_NO_SUBSTRATE = { vni: VNI_A, netId: 3, cidr: '10.3.0.0/24', gatewayIp: '10.3.0.1', gatewayMac: '02:00:0a:03:00:01', switches: [hostN(34).ip] };
const NET_NO_SWITCH = { vni: VNI_A, netId: 4, cidr: '10.4.0.0/24', gatewayIp: '10.4.0.1', gatewayMac: '02:00:0a:04:00:01', switches: [] };
const NET_ONLY_US = { vni: VNI_A, netId: 5, cidr: '10.5.0.0/24', gatewayIp: '10.5.0.1', gatewayMac: '02:00:0a:05:00:01', switches: [THIS_HOST.ip] };
const ROUTERS_A = [hostN(41).ip, hostN(42).ip];
const VNI_ROUTER_US = 0x000777;
const VNI_NO_ROUTERS = 0x000778;
const VNI_UNKNOWN = 0x000779;

const EP_REMOTE = { ip: '10.1.0.5', mac: '02:00:0a:01:00:05', host: hostN(23) };
const EP_LOCAL = { ip: '10.1.0.6', mac: '02:00:0a:01:00:06' };
const EP_GHOST = { ip: '10.1.0.8', mac: '02:00:0a:01:00:08' };   // names this host, no veth
const EP_NO_IFACE = { ip: '10.1.0.9', mac: '02:00:0a:01:00:09' }; // veth not in the devmap
// The same IP in two VPCs, on different hosts.
const TWIN_IP = '10.7.0.5';
const TWIN_A = { mac: '02:00:0a:07:0a:05', host: hostN(51) };
const TWIN_B = { mac: '02:00:0a:07:0b:05', host: hostN(52) };
const TWIN2_IP = '10.7.0.6';

const SUBSTRATE_HOSTS = [11, 31, 32, 33, 41, 42].map(hostN);
const OUTER_SPORT = 51234;
const OUTER_ID = 0x0777;

let env: ReturnType<typeof openDataplane>;
let dp: HostDataplane;

function endpoint(vni: number, ip: string, mac: string, host: TestHost, hostedIfindex = -1, netId = 1) {
  dp.put('endpoints', { vni, ip, type: EndpointType.SIMPLE, mac, hostIp: host.ip, hostMac: host.mac, netId, backends: [], hostedIfindex });
}

beforeAll(() => {
  env = openDataplane('transit');
  dp = env.dp;
  dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
  dp.addInterface(LO);
  for (const h of SUBSTRATE_HOSTS) dp.put('substrate', { ip: h.ip, mac: h.mac });
  for (const n of [NET1, NET2, NET_NO_SUBSTRATE, NET_NO_SWITCH, NET_ONLY_US]) dp.put('networks', n);
  dp.put('vpcs', { vni: VNI_A, routers: ROUTERS_A, directPath: false });
  dp.put('vpcs', { vni: VNI_ROUTER_US, routers: [THIS_HOST.ip], directPath: false });
  dp.put('vpcs', { vni: VNI_NO_ROUTERS, routers: [], directPath: false });
  endpoint(VNI_A, EP_REMOTE.ip, EP_REMOTE.mac, EP_REMOTE.host);
  endpoint(VNI_A, EP_LOCAL.ip, EP_LOCAL.mac, THIS_HOST, LO);
  endpoint(VNI_A, EP_GHOST.ip, EP_GHOST.mac, THIS_HOST);
  endpoint(VNI_A, EP_NO_IFACE.ip, EP_NO_IFACE.mac, THIS_HOST, 4242);
  endpoint(VNI_A, SENDER.ip, SENDER.mac, SENDER_HOST);
  endpoint(VNI_A, TWIN_IP, TWIN_A.mac, TWIN_A.host);
  endpoint(VNI_B, TWIN_IP, TWIN_B.mac, TWIN_B.host);
  endpoint(VNI_A, TWIN2_IP, '02:00:0a:07:0a:06', THIS_HOST, LO);
  endpoint(VNI_B, TWIN2_IP, '02:00:0a:07:0b:06', TWIN_B.host);
});

afterAll(() => env?.close());

// ---- packets ------------------------------------------------------------------

interface InnerOpts { ttl?: number; id?: number; srcMac?: string; dstMac?: string; proto?: number; sport?: number; dport?: number }

/** An inner IPv4 frame from `src` to `dst` (ICMP echo unless proto says TCP/UDP). */
function innerIp(src: string, dst: string, o: InnerOpts = {}): Buffer {
  const proto = o.proto ?? IPPROTO_ICMP;
  const l4 = proto === IPPROTO_TCP ? tcp({ sport: o.sport ?? 40000, dport: o.dport ?? 80 }, Buffer.from('GET / HTTP/1.1\r\n'))
    : proto === IPPROTO_UDP ? udp({ sport: o.sport ?? 40000, dport: o.dport ?? 53 }, Buffer.from('dns?'))
      : icmpEcho({ id: 0x4242, seq: 7 });
  return eth({ dst: o.dstMac ?? NET1.gatewayMac, src: o.srcMac ?? SENDER.mac, type: ETH_P_IP },
    ipv4({ src, dst, proto, ttl: o.ttl ?? 64, id: o.id ?? 0x1111, df: true }, l4));
}

interface OuterArgs { vni?: number; ttl?: number; from?: TestHost; options?: GeneveOption[]; id?: number }

/** Geneve from the sender's host to this host. */
function toUs(inner: Buffer, a: OuterArgs = {}): Buffer {
  const from = a.from ?? SENDER_HOST;
  return geneveFrame(
    { srcMac: from.mac, dstMac: THIS_HOST.mac, srcIp: from.ip, dstIp: THIS_HOST.ip, ttl: a.ttl ?? 30, sport: OUTER_SPORT, id: a.id ?? OUTER_ID },
    { vni: a.vni ?? VNI_A, options: a.options ?? [rtsOption(from.ip, from.mac)] },
    inner);
}

/** What a forward by this host must look like: same Geneve and options, outer from us to `to`, the
 * outer source IP still the sender's host (the one in the RTS option: the direct path checks it). */
function forwarded(inner: Buffer, to: TestHost, a: OuterArgs = {}): Buffer {
  const from = a.from ?? SENDER_HOST;
  return geneveFrame(
    { srcMac: THIS_HOST.mac, dstMac: to.mac, srcIp: from.ip, dstIp: to.ip, ttl: (a.ttl ?? 30) - 1, sport: OUTER_SPORT, id: a.id ?? OUTER_ID },
    { vni: a.vni ?? VNI_A, options: a.options ?? [rtsOption(from.ip, from.mac)] },
    inner);
}

const host = (ip: string): TestHost => SUBSTRATE_HOSTS.find((h) => h.ip === ip) ?? { ip, mac: '??' };

// ---- TTL ---------------------------------------------------------------------------

describe('TTL: a router answers an expired packet with ICMP time exceeded from the sender\'s gateway', () => {
  beforeAll(() => dp.put('substrate', { ip: SENDER_HOST.ip, mac: SENDER_HOST.mac }));
  afterAll(() => dp.delete('substrate', { ip: SENDER_HOST.ip }));

  /** The answer, built from RFC 792 and the wire format: Geneve back to the sending host, RTS flagged no-learn. */
  function timeExceeded(expired: Buffer): Buffer {
    const quote = expired.subarray(14, 14 + 28); // its IPv4 header and 8 bytes of payload
    const inner = eth({ dst: SENDER.mac, src: NET1.gatewayMac, type: ETH_P_IP },
      ipv4({ src: NET1.gatewayIp, dst: SENDER.ip, proto: IPPROTO_ICMP, ttl: 64, tos: 0xc0, id: 0 },
        icmpEcho({ type: 11, code: 0, id: 0, seq: 0 }, Buffer.from(quote))));
    return geneveFrame(
      { srcMac: THIS_HOST.mac, dstMac: SENDER_HOST.mac, srcIp: THIS_HOST.ip, dstIp: SENDER_HOST.ip, ttl: 64, id: 0, tos: 0, df: false,
        sport: 49152 + (flowHash(NET1.gatewayIp, SENDER.ip, IPPROTO_ICMP) & 0x3fff), udpChecksum: 0 },
      { vni: VNI_A, options: [rtsOption(THIS_HOST.ip, THIS_HOST.mac, RTS_F_NO_LEARN)] }, inner);
  }

  it('inner TTL 1 and 0 (ICMP echo, UDP, TCP): answered, sent back out (XDP_TX)', () => {
    const cases: InnerOpts[] = [{ ttl: 1 }, { ttl: 0 }, { ttl: 1, proto: IPPROTO_UDP, sport: 33434, dport: 33435 }, { ttl: 1, proto: IPPROTO_TCP }];
    for (const o of cases) {
      const expired = innerIp(SENDER.ip, '10.2.0.9', o);
      const r = runTransit(dp, toUs(expired));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(timeExceeded(expired)));
      expect(parseIpv4(r.out.subarray(r.out.length - 70), 14).checksumOk).toBe(true);
      expect(inetChecksum(r.out.subarray(r.out.length - 36))).toBe(0);
      expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, icmp_time_exceeded: 1 });
    }
  });

  it('no answer, dropped as drop_ttl: an ICMP error, IP options, a later fragment', () => {
    const icmpError = eth({ dst: NET1.gatewayMac, src: SENDER.mac, type: ETH_P_IP },
      ipv4({ src: SENDER.ip, dst: '10.2.0.9', proto: IPPROTO_ICMP, ttl: 1 }, icmpEcho({ type: 3, code: 1 })));
    const withOptions = eth({ dst: NET1.gatewayMac, src: SENDER.mac, type: ETH_P_IP },
      ipv4({ src: SENDER.ip, dst: '10.2.0.9', proto: IPPROTO_UDP, ttl: 1, options: Buffer.from([0x94, 4, 0, 0]) }, udp({ sport: 1, dport: 2 })));
    const laterFragment = eth({ dst: NET1.gatewayMac, src: SENDER.mac, type: ETH_P_IP },
      ipv4({ src: SENDER.ip, dst: '10.2.0.9', proto: IPPROTO_UDP, ttl: 1, fragOffset: 100 }, Buffer.alloc(64)));
    for (const inner of [icmpError, withOptions, laterFragment]) {
      const r = runTransit(dp, toUs(inner));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_ttl: 1 });
    }
  });

  it('a sending host not in substrate: drop_no_substrate', () => {
    const stranger = hostN(98);
    const r = runTransit(dp, toUs(innerIp(SENDER.ip, '10.2.0.9', { ttl: 1 }), { from: stranger }));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_substrate: 1 });
  });
});

// ---- switch -------------------------------------------------------------------------

describe('switch: the destination endpoint is known and lives elsewhere', () => {
  it('rewrites the outer destination to its host, source MAC to us (source IP kept), TTL - 1, checksum; XDP_TX; inner untouched', () => {
    const inner = innerIp(SENDER.ip, EP_REMOTE.ip, { dstMac: EP_REMOTE.mac });
    const pkt = toUs(inner);
    const r = runTransit(dp, pkt);
    expect(r.verdict).toBe(XDP.TX);
    expect(hex(r.out)).toBe(hex(forwarded(inner, EP_REMOTE.host)));
    const f = parseGeneveFrame(r.out);
    expect(f.eth).toMatchObject({ dst: EP_REMOTE.host.mac, src: THIS_HOST.mac });
    expect(f.ip).toMatchObject({ src: SENDER_HOST.ip, dst: EP_REMOTE.host.ip, ttl: 29, checksumOk: true, id: OUTER_ID });
    expect(f.udp).toMatchObject({ sport: OUTER_SPORT, dport: 6081, checksum: 0 });
    // The sender's RTS option travels on: it is what the far end learns the direct path from.
    expect(parseRts(f.geneve.options[0].data)).toEqual({ hostIp: SENDER_HOST.ip, hostMac: SENDER_HOST.mac, flags: 0, zero: 0 });
    expect(hex(f.inner)).toBe(hex(inner));
    expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, switch_fwd: 1 });
  });

  it('forwards TCP and UDP and packets without options the same way', () => {
    for (const inner of [
      innerIp(SENDER.ip, EP_REMOTE.ip, { proto: IPPROTO_TCP, sport: 33333, dport: 443 }),
      innerIp(SENDER.ip, EP_REMOTE.ip, { proto: IPPROTO_UDP, sport: 5353, dport: 5353 }),
    ]) {
      for (const options of [undefined, []]) {
        const r = runTransit(dp, toUs(inner, { options }));
        expect(r.verdict).toBe(XDP.TX);
        expect(hex(r.out)).toBe(hex(forwarded(inner, EP_REMOTE.host, { options })));
        expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, switch_fwd: 1 });
      }
    }
  });

  it('outer TTL 2 still forwards (with 1); outer TTL 1 and 0 are dropped as drop_ttl', () => {
    const inner = innerIp(SENDER.ip, EP_REMOTE.ip);
    const ok = runTransit(dp, toUs(inner, { ttl: 2 }));
    expect(ok.verdict).toBe(XDP.TX);
    expect(hex(ok.out)).toBe(hex(forwarded(inner, EP_REMOTE.host, { ttl: 2 })));
    for (const ttl of [1, 0]) {
      const r = runTransit(dp, toUs(inner, { ttl }));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_ttl: 1 });
    }
  });

  it('patches the outer checksum exactly for every checksum a received header can carry (new destination and TTL - 1 in one update)', () => {
    // The outer IP id runs through all 65,536 values, so the received
    // checksum takes every value a valid header can have, the carry edges of
    // the one's-complement update among them; each forward must equal the
    // frame built with a full checksum. Test runs only, counters checked once.
    const inner = innerIp(SENDER.ip, EP_REMOTE.ip);
    const pkt = toUs(inner, { id: 0 });
    const want = forwarded(inner, EP_REMOTE.host, { id: 0 });
    expect(runTransit(dp, pkt).verdict).toBe(XDP.TX);
    const tx = dp.transitProgram.testRun(pkt, { ingressIfindex: LO }).retval; // this build's TX verdict
    const setId = (f: Buffer, id: number) => {
      f.writeUInt16BE(id, 14 + 4);
      f.writeUInt16BE(0, 14 + 10);
      f.writeUInt16BE(inetChecksum(f.subarray(14, 34)), 14 + 10);
    };
    const checks = new Set<number>();
    let wrong = 0;
    let firstWrong = '';
    const before = dp.stats();
    for (let id = 0; id < 0x10000; id++) {
      setId(pkt, id);
      setId(want, id);
      checks.add(pkt.readUInt16BE(14 + 10));
      const r = dp.transitProgram.testRun(pkt, { ingressIfindex: LO });
      if (r.retval !== tx || !r.data.equals(want)) {
        wrong++;
        firstWrong ||= `id 0x${id.toString(16)}: checksum in 0x${pkt.readUInt16BE(24).toString(16)}, out 0x${r.data.readUInt16BE(24).toString(16)}, want 0x${want.readUInt16BE(24).toString(16)}`;
      }
    }
    expect(wrong, firstWrong).toBe(0);
    expect(checks.size).toBe(0xffff); // every value but the one a valid header never carries
    expect(statsDelta(before, dp.stats())).toEqual({ transit_rx: 0x10000, transit_tx: 0x10000, switch_fwd: 0x10000 });
  });

  it('a record that names this host but has no veth is dropped (never sent to ourselves)', () => {
    const r = runTransit(dp, toUs(innerIp(SENDER.ip, EP_GHOST.ip)));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_endpoint: 1 });
  });
});

// ---- router ---------------------------------------------------------------------------

describe('router: the destination is in another network of the VPC', () => {
  /** The packet a router forward of `inner` (to NET2) must produce. */
  function routed(src: string, dst: string, o: InnerOpts, outerTtl = 30) {
    const h = flowHash(src, dst, o.proto ?? IPPROTO_ICMP, o.sport ?? (o.proto ? 40000 : 0), o.dport ?? (o.proto === IPPROTO_TCP ? 80 : o.proto === IPPROTO_UDP ? 53 : 0));
    const sw = host(slotPick(NET2.switches, h));
    const after = innerIp(src, dst, { ...o, ttl: (o.ttl ?? 64) - 1, srcMac: NET2.gatewayMac });
    return { sw, expected: forwarded(after, sw, { ttl: outerTtl }) };
  }

  it('sends to the switch the slot table picks with the flow hash; inner TTL - 1 with its checksum, src MAC = gateway', () => {
    const used = new Set<string>();
    for (let i = 0; i < 48; i++) {
      const proto = [IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP][i % 3];
      const dst = `10.2.0.${10 + (i % 7)}`;
      const o: InnerOpts = proto === IPPROTO_ICMP ? { ttl: 64 - i } : { proto, sport: 30000 + i * 17, dport: 1000 + i, ttl: 64 - i };
      const { sw, expected } = routed(SENDER.ip, dst, o);
      used.add(sw.ip);
      const r = runTransit(dp, toUs(innerIp(SENDER.ip, dst, o)));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(expected));
      const inner = parseIpv4(parseGeneveFrame(r.out).inner);
      expect(inner).toMatchObject({ ttl: 63 - i, checksumOk: true });
      expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, router_net_fwd: 1 });
    }
    expect(used.size).toBe(NET2.switches.length); // the hash spreads flows over every switch
  });

  it('patches the inner checksum exactly at the carry edges', () => {
    // Inner IP ids chosen so the original checksum sits where the incremental
    // update (check + 0x0100 with end-around carry) wraps.
    const targets = [0xfeff, 0xff00, 0xfffe, 0x0000, 0x00ff, 0xfe00];
    for (const target of targets) {
      let id = -1;
      for (let c = 0; c < 0x10000 && id < 0; c++) {
        const h = ipv4({ src: SENDER.ip, dst: '10.2.0.20', proto: IPPROTO_ICMP, ttl: 64, id: c, df: true });
        if (h.readUInt16BE(10) === target) id = c;
      }
      expect(id, `an id giving checksum 0x${target.toString(16)}`).toBeGreaterThanOrEqual(0);
      const { expected } = routed(SENDER.ip, '10.2.0.20', { id });
      const r = runTransit(dp, toUs(innerIp(SENDER.ip, '10.2.0.20', { id })));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(expected));
      expect(inetChecksum(parseGeneveFrame(r.out).inner.subarray(14, 34))).toBe(0);
    }
  });

  it('inner TTL 2 is routed (with 1); inner TTL 1 and 0 are answered (below)', () => {
    const { expected } = routed(SENDER.ip, '10.2.0.9', { ttl: 2 });
    const ok = runTransit(dp, toUs(innerIp(SENDER.ip, '10.2.0.9', { ttl: 2 })));
    expect(ok.verdict).toBe(XDP.TX);
    expect(hex(ok.out)).toBe(hex(expected));
  });

  it('outer TTL 1 on the router path is dropped as drop_ttl', () => {
    const r = runTransit(dp, toUs(innerIp(SENDER.ip, '10.2.0.9'), { ttl: 1 }));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_ttl: 1 });
  });

  it('drops what it cannot route: no switch, no substrate MAC, the switch being us', () => {
    const cases: [string, string][] = [
      ['10.4.0.9', 'drop_no_switch'],
      ['10.3.0.9', 'drop_no_substrate'],
      ['10.5.0.9', 'drop_no_endpoint'],
    ];
    for (const [dst, counter] of cases) {
      const r = runTransit(dp, toUs(innerIp(SENDER.ip, dst)));
      expect(r.verdict, dst).toBe(XDP.DROP);
      expect(r.moved, dst).toEqual({ transit_rx: 1, transit_drop: 1, [counter]: 1 });
    }
  });
});

describe('router: no network for the destination here -> a router of the VPC', () => {
  it('sends to the router the slot table picks, inner untouched (that router decrements it); XDP_TX', () => {
    const used = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const dst = `10.9.${i}.3`;
      const inner = innerIp(SENDER.ip, dst, { proto: IPPROTO_UDP, sport: 7000 + i, dport: 9000, ttl: 1 + i });
      const router = host(slotPick(ROUTERS_A, flowHash(SENDER.ip, dst, IPPROTO_UDP, 7000 + i, 9000)));
      used.add(router.ip);
      const r = runTransit(dp, toUs(inner));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(forwarded(inner, router)));
      expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, router_vpc_fwd: 1 });
    }
    expect(used.size).toBe(ROUTERS_A.length);
  });

  it('outer TTL 1 is dropped as drop_ttl', () => {
    const r = runTransit(dp, toUs(innerIp(SENDER.ip, '10.9.0.3'), { ttl: 1 }));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_ttl: 1 });
  });

  it('no VPC, no routers, or the router being us: drop_no_route', () => {
    for (const vni of [VNI_UNKNOWN, VNI_NO_ROUTERS, VNI_ROUTER_US]) {
      const r = runTransit(dp, toUs(innerIp(SENDER.ip, '10.9.0.3'), { vni }));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_route: 1 });
    }
  });
});

// ---- decapsulation ------------------------------------------------------------------

describe('decapsulation for an endpoint hosted here', () => {
  it('outputs the inner frame with dst MAC = endpoint MAC; XDP_REDIRECT', () => {
    for (const options of [undefined, []]) {
      const inner = innerIp(SENDER.ip, EP_LOCAL.ip, { dstMac: NET1.gatewayMac, proto: IPPROTO_TCP });
      const r = runTransit(dp, toUs(inner, { options }));
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(hex(r.out)).toBe(hex(innerIp(SENDER.ip, EP_LOCAL.ip, { dstMac: EP_LOCAL.mac, proto: IPPROTO_TCP })));
      expect(r.moved).toEqual({ transit_rx: 1, transit_redirect: 1, decap: 1 });
    }
  });

  it('decapsulates with outer TTL 1 (delivery is not a forward)', () => {
    const r = runTransit(dp, toUs(innerIp(SENDER.ip, EP_LOCAL.ip, { ttl: 1 }), { ttl: 1 }));
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(innerIp(SENDER.ip, EP_LOCAL.ip, { ttl: 1, dstMac: EP_LOCAL.mac })));
  });

  it('a veth missing from the interfaces devmap: drop_no_iface (bpf_redirect_map fails in test runs too)', () => {
    const r = runTransit(dp, toUs(innerIp(SENDER.ip, EP_NO_IFACE.ip)));
    if (HOOK === 'tc') {
      // No devmap on TC: the redirect is issued, and a veth that is gone drops it in the kernel.
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(r.moved).toEqual({ transit_rx: 1, transit_redirect: 1, decap: 1 });
      return;
    }
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_iface: 1 });
  });

  it('an ARP reply (a switch answering our endpoint) is decapsulated to the requester', () => {
    const reply = eth({ dst: EP_LOCAL.mac, src: EP_REMOTE.mac, type: ETH_P_ARP },
      arp({ op: ARP_REPLY, sha: EP_REMOTE.mac, spa: EP_REMOTE.ip, tha: EP_LOCAL.mac, tpa: EP_LOCAL.ip }));
    const r = runTransit(dp, toUs(reply, { from: hostN(11) }));
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(reply));
    expect(r.moved).toEqual({ transit_rx: 1, transit_redirect: 1, decap: 1 });
  });

  it('an ARP reply for an endpoint not hosted here is dropped: drop_no_endpoint', () => {
    const reply = eth({ dst: EP_REMOTE.mac, src: EP_LOCAL.mac, type: ETH_P_ARP },
      arp({ op: ARP_REPLY, sha: EP_LOCAL.mac, spa: EP_LOCAL.ip, tha: EP_REMOTE.mac, tpa: EP_REMOTE.ip }));
    const r = runTransit(dp, toUs(reply));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_endpoint: 1 });
  });
});

// ---- ARP inside Geneve ----------------------------------------------------------------

describe('ARP requests inside Geneve are answered by the switch', () => {
  const request = (tpa: string, pad = 0) => Buffer.concat([
    eth({ dst: BROADCAST_MAC, src: SENDER.mac, type: ETH_P_ARP }),
    arp({ op: ARP_REQUEST, sha: SENDER.mac, spa: SENDER.ip, tpa }),
    Buffer.alloc(pad),
  ]);
  const reply = (tpaMac: string, tpa: string, pad = 0) => Buffer.concat([
    eth({ dst: SENDER.mac, src: tpaMac, type: ETH_P_ARP }),
    arp({ op: ARP_REPLY, sha: tpaMac, spa: tpa, tha: SENDER.mac, tpa: SENDER.ip }),
    Buffer.alloc(pad),
  ]);
  /** The request's frame sent back: outer reversed, TTL 64, RTS now naming this host. */
  const back = (inner: Buffer, rts = true) => geneveFrame(
    { srcMac: THIS_HOST.mac, dstMac: SENDER_HOST.mac, srcIp: THIS_HOST.ip, dstIp: SENDER_HOST.ip, ttl: 64, sport: OUTER_SPORT, id: OUTER_ID },
    { vni: VNI_A, options: rts ? [rtsOption(THIS_HOST.ip, THIS_HOST.mac)] : [] },
    inner);

  it('for an endpoint: the reply carries its MAC, exact bytes, XDP_TX', () => {
    for (const [ep, pad] of [[EP_REMOTE, 0], [EP_LOCAL, 18]] as const) {
      const r = runTransit(dp, toUs(request(ep.ip, pad)));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(back(reply(ep.mac, ep.ip, pad))));
      expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, arp_reply: 1 });
    }
  });

  it("for a network's gateway (own or another network's): the gateway MAC", () => {
    for (const net of [NET1, NET2]) {
      const r = runTransit(dp, toUs(request(net.gatewayIp)));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(back(reply(net.gatewayMac, net.gatewayIp))));
      expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, arp_reply: 1 });
    }
  });

  it('without an RTS option the reply carries none; the outer TTL is reset to 64 whatever it was', () => {
    const r = runTransit(dp, toUs(request(EP_REMOTE.ip), { options: [], ttl: 2 }));
    expect(r.verdict).toBe(XDP.TX);
    expect(hex(r.out)).toBe(hex(back(reply(EP_REMOTE.mac, EP_REMOTE.ip), false)));
  });

  it('an unknown address (no record, not a gateway) is dropped: drop_no_endpoint', () => {
    for (const tpa of ['10.1.0.77', '10.99.0.1']) {
      const r = runTransit(dp, toUs(request(tpa)));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_endpoint: 1 });
    }
  });

  it('answers per VNI: the same address in another VPC gets that VPC\'s endpoint MAC', () => {
    const req = (vni: number) => toUs(Buffer.concat([
      eth({ dst: BROADCAST_MAC, src: SENDER.mac, type: ETH_P_ARP }),
      arp({ op: ARP_REQUEST, sha: SENDER.mac, spa: SENDER.ip, tpa: TWIN_IP }),
    ]), { vni });
    for (const [vni, mac] of [[VNI_A, TWIN_A.mac], [VNI_B, TWIN_B.mac]] as const) {
      const r = runTransit(dp, req(vni));
      expect(r.verdict).toBe(XDP.TX);
      const f = parseGeneveFrame(r.out);
      expect(f.geneve.vni).toBe(vni);
      expect(hex(f.inner)).toBe(hex(reply(mac, TWIN_IP)));
    }
  });
});

// ---- VPC isolation ---------------------------------------------------------------------

describe('the same inner IP in two VPCs stays apart', () => {
  it('each VNI goes to its own endpoint\'s host', () => {
    const inner = innerIp(SENDER.ip, TWIN_IP);
    for (const [vni, twin] of [[VNI_A, TWIN_A], [VNI_B, TWIN_B]] as const) {
      const r = runTransit(dp, toUs(inner, { vni }));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(forwarded(inner, twin.host, { vni })));
      expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, switch_fwd: 1 });
    }
  });

  it('hosted here in one VPC (decap), elsewhere in the other (switch)', () => {
    const inner = innerIp(SENDER.ip, TWIN2_IP);
    const a = runTransit(dp, toUs(inner, { vni: VNI_A }));
    expect(a.verdict).toBe(XDP.REDIRECT);
    expect(hex(a.out)).toBe(hex(innerIp(SENDER.ip, TWIN2_IP, { dstMac: '02:00:0a:07:0a:06' })));
    const b = runTransit(dp, toUs(inner, { vni: VNI_B }));
    expect(b.verdict).toBe(XDP.TX);
    expect(hex(b.out)).toBe(hex(forwarded(inner, TWIN_B.host, { vni: VNI_B })));
  });

  it('a VNI with no records at all routes nowhere', () => {
    const r = runTransit(dp, toUs(innerIp(SENDER.ip, TWIN_IP), { vni: VNI_UNKNOWN }));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_route: 1 });
  });
});

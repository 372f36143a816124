// xdp_agent on crafted frames from an endpoint: Geneve encapsulation with
// every outer field checked, ARP answered locally or sent to a switch, spoof
// checks, the direct path, and transit run inline when this host is the
// switch. Every case checks the verdict, the whole output buffer against a
// packet built independently, and exactly which counters moved.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HostDataplane } from '../../src/dataplane/host.js';
import { EndpointType, encodeHostCache, encodeHostConfig, endpointKey, u32Key } from '../../src/abi/index.js';
import {
  ARP_REPLY, ARP_REQUEST, BROADCAST_MAC, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_TEB, IPPROTO_ICMP, IPPROTO_TCP,
  IPPROTO_UDP, OPT_CLASS_XVPC, OPT_RTS, arp, eth, geneveFrame, icmpEcho, ipBytes, ipv4, macBytes, parseGeneveFrame,
  parseRts, rtsOption, tcp, udp, RTS_F_DIRECT,
} from '../lib/packets.js';
import { HOOK, LO, THIS_HOST, XDP, flowHash, hex, hostN, slotPick, openDataplane, runAgent, sportOf, type TestHost, beThisHost } from './harness.js';

const VNI_A = 0x0a1b2c;
const VNI_B = 0x0d0e0f;
const VNI_NO_NET = 0x000555;

// The endpoint behind the veth the agent runs on (agent_meta keyed by lo's ifindex).
const ME = { vni: VNI_A, ip: '10.1.0.7', mac: '02:00:0a:01:00:07', netId: 1 };
const SWITCHES = [hostN(11), hostN(12), hostN(13)];
const NET1 = { vni: VNI_A, netId: 1, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', gatewayMac: '02:00:0a:01:00:01', switches: SWITCHES.map((h) => h.ip) };
const NET2 = { vni: VNI_A, netId: 2, cidr: '10.2.0.0/24', gatewayIp: '10.2.0.1', gatewayMac: '02:00:0a:02:00:01', switches: [hostN(31).ip, hostN(32).ip] };
// The same addresses in another VPC, switched elsewhere.
const NET1_B = { vni: VNI_B, netId: 7, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', gatewayMac: '02:00:0b:01:00:01', switches: [hostN(14).ip] };

const EP_REMOTE = { ip: '10.1.0.5', mac: '02:00:0a:01:00:05', host: hostN(23) };
const EP_LOCAL = { ip: '10.1.0.6', mac: '02:00:0a:01:00:06' };
const PEER = '10.1.0.99'; // an address the agent's host has no record of

const ALL_HOSTS = [...SWITCHES, hostN(14), hostN(23), hostN(31), hostN(32), hostN(60)];
const hostOf = (ip: string): TestHost => ALL_HOSTS.find((h) => h.ip === ip) ?? (ip === THIS_HOST.ip ? THIS_HOST : { ip, mac: '??' });

let env: ReturnType<typeof openDataplane>;
let dp: HostDataplane;

beforeAll(() => {
  env = openDataplane('agent');
  dp = env.dp;
  beThisHost(dp);
  dp.putAgentMeta(LO, ME);
  for (const h of ALL_HOSTS) dp.put('substrate', { ip: h.ip, mac: h.mac });
  for (const n of [NET1, NET2, NET1_B]) dp.put('networks', n);
  const ep = (ip: string, mac: string, host: TestHost, hostedIfindex: number) => dp.put('endpoints', {
    vni: VNI_A, ip, type: EndpointType.SIMPLE, mac, hostIp: host.ip, hostMac: host.mac, netId: 1, backends: [], hostedIfindex,
  });
  ep(EP_REMOTE.ip, EP_REMOTE.mac, EP_REMOTE.host, -1);
  ep(EP_LOCAL.ip, EP_LOCAL.mac, THIS_HOST, LO);
  ep(ME.ip, ME.mac, THIS_HOST, LO);
});

afterAll(() => env?.close());

// ---- packets ----------------------------------------------------------------------

interface FromMe { ttl?: number; proto?: number; sport?: number; dport?: number; tos?: number; id?: number; src?: string; options?: Buffer; mf?: boolean; fragOffset?: number; dstMac?: string }

/** A frame the endpoint sends: ICMP echo, or TCP/UDP with ports. */
function fromMe(dst: string, o: FromMe = {}): Buffer {
  const proto = o.proto ?? IPPROTO_ICMP;
  const l4 = proto === IPPROTO_TCP ? tcp({ sport: o.sport ?? 40000, dport: o.dport ?? 80 })
    : proto === IPPROTO_UDP ? udp({ sport: o.sport ?? 40000, dport: o.dport ?? 53 }, Buffer.from('payload'))
      : icmpEcho({ id: 0x0101, seq: 3 });
  return eth({ dst: o.dstMac ?? NET1.gatewayMac, src: ME.mac, type: ETH_P_IP },
    ipv4({ src: o.src ?? ME.ip, dst, proto, ttl: o.ttl ?? 64, tos: o.tos, id: o.id ?? 0x2222, df: !o.mf && !o.fragOffset, mf: o.mf, fragOffset: o.fragOffset, options: o.options }, l4));
}

/** The agent's encapsulation of `inner`, built from the spec (DESIGN.md, native/bpf/README.md):
 * outer TTL 64 whatever the inner one. */
function encapsulated(inner: Buffer, to: TestHost, h: number, vni = VNI_A, rtsFlags = 0): Buffer {
  return geneveFrame(
    { srcMac: THIS_HOST.mac, dstMac: to.mac, srcIp: THIS_HOST.ip, dstIp: to.ip, ttl: 64, id: 0, tos: 0, df: false, sport: sportOf(h), udpChecksum: 0 },
    { vni, options: [rtsOption(THIS_HOST.ip, THIS_HOST.mac, rtsFlags)] },
    inner);
}

const arpRequest = (tpa: string, spa = ME.ip, pad = 0) => Buffer.concat([
  eth({ dst: BROADCAST_MAC, src: ME.mac, type: ETH_P_ARP }),
  arp({ op: ARP_REQUEST, sha: ME.mac, spa, tpa }),
  Buffer.alloc(pad),
]);
const arpReply = (mac: string, ip: string, tpa = ME.ip, pad = 0) => Buffer.concat([
  eth({ dst: ME.mac, src: mac, type: ETH_P_ARP }),
  arp({ op: ARP_REPLY, sha: mac, spa: ip, tha: ME.mac, tpa }),
  Buffer.alloc(pad),
]);

// ---- encapsulation ----------------------------------------------------------------

describe('encapsulation to a switch of the endpoint\'s network', () => {
  it('builds every outer field from the spec; XDP_REDIRECT', () => {
    const inner = fromMe(PEER, { ttl: 61, tos: 0x10 });
    const h = flowHash(ME.ip, PEER, IPPROTO_ICMP);
    const sw = hostOf(slotPick(NET1.switches, h));
    const r = runAgent(dp, inner);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
    expect(r.out.length).toBe(inner.length + 66);

    // Field by field, from the raw bytes (offsets of RFC 894/791/768/8926).
    const o = r.out;
    expect(o.subarray(0, 6).equals(macBytes(sw.mac))).toBe(true);              // eth dst: the switch's substrate MAC
    expect(o.subarray(6, 12).equals(macBytes(THIS_HOST.mac))).toBe(true);      // eth src: this host
    expect(o.readUInt16BE(12)).toBe(ETH_P_IP);
    expect(o[14]).toBe(0x45);                                                  // version 4, IHL 5
    expect(o[15]).toBe(0);                                                     // TOS 0 (not copied)
    expect(o.readUInt16BE(16)).toBe(inner.length + 66 - 14);                   // tot_len
    expect(o.readUInt16BE(18)).toBe(0);                                        // id
    expect(o.readUInt16BE(20)).toBe(0);                                        // flags + fragment offset
    expect(o[22]).toBe(64);                                                    // TTL: the underlay's own, not the inner 61
    expect(o[23]).toBe(IPPROTO_UDP);
    const check = o.readUInt16BE(24);
    expect(o.subarray(26, 30).equals(ipBytes(THIS_HOST.ip))).toBe(true);       // src: this host
    expect(o.subarray(30, 34).equals(ipBytes(sw.ip))).toBe(true);              // dst: the switch
    const hdr = Buffer.from(o.subarray(14, 34));
    hdr.writeUInt16BE(0, 10);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += hdr.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(check).toBe(~sum & 0xffff);                                         // header checksum
    expect(o.readUInt16BE(34)).toBe(49152 + (h & 0x3fff));                     // UDP sport: hash rule
    expect(o.readUInt16BE(36)).toBe(6081);                                     // UDP dport
    expect(o.readUInt16BE(38)).toBe(inner.length + 66 - 34);                   // UDP length
    expect(o.readUInt16BE(40)).toBe(0);                                        // UDP checksum 0
    expect(o[42] >> 6).toBe(0);                                                // Geneve version
    expect(o[42] & 0x3f).toBe(4);                                              // opt_len: 16 bytes
    expect(o[43]).toBe(0);                                                     // O and C clear
    expect(o.readUInt16BE(44)).toBe(ETH_P_TEB);                                // protocol 0x6558
    expect((o[46] << 16) | (o[47] << 8) | o[48]).toBe(VNI_A);                  // VNI
    expect(o[49]).toBe(0);                                                     // reserved
    expect(o.readUInt16BE(50)).toBe(OPT_CLASS_XVPC);                           // RTS option class
    expect(o[52]).toBe(OPT_RTS);                                               // type 0x48
    expect(o[53]).toBe(3);                                                     // 3 words of data
    expect(o.subarray(54, 58).equals(ipBytes(THIS_HOST.ip))).toBe(true);       // host IP
    expect(o.subarray(58, 64).equals(macBytes(THIS_HOST.mac))).toBe(true);     // host MAC
    expect(o.readUInt16BE(64)).toBe(0);                                        // flags 0 (to a switch), zero
    expect(o.subarray(66).equals(inner)).toBe(true);                           // the untouched inner frame

    // And as a whole, against the builder.
    expect(hex(r.out)).toBe(hex(encapsulated(inner, sw, h)));
    const f = parseGeneveFrame(r.out);
    expect(f.ip.checksumOk).toBe(true);
    expect(parseRts(f.geneve.options[0].data)).toEqual({ hostIp: THIS_HOST.ip, hostMac: THIS_HOST.mac, flags: 0, zero: 0 });
  });

  it('TCP and UDP flows: the switch and the UDP source port follow the flow hash with ports', () => {
    const used = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const proto = i % 2 ? IPPROTO_TCP : IPPROTO_UDP;
      const dst = `10.1.${i % 3}.${20 + i}`;
      const sport = 1024 + i * 997;
      const dport = [80, 443, 53, 8080][i % 4];
      const inner = fromMe(dst, { proto, sport, dport, ttl: 1 + i });
      const h = flowHash(ME.ip, dst, proto, sport, dport);
      const sw = hostOf(slotPick(NET1.switches, h));
      used.add(sw.ip);
      const r = runAgent(dp, inner);
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(hex(r.out)).toBe(hex(encapsulated(inner, sw, h)));
      expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
    }
    expect(used.size).toBe(SWITCHES.length);
  });

  it('forwards IP options and fragments (a fragment hashes without ports)', () => {
    const cases: [FromMe, number, number][] = [
      [{ proto: IPPROTO_UDP, sport: 1111, dport: 2222, options: Buffer.from([0x94, 0x04, 0, 0]) }, 1111, 2222], // router alert
      [{ proto: IPPROTO_UDP, sport: 1111, dport: 2222, mf: true }, 0, 0],      // first fragment
      [{ proto: IPPROTO_UDP, sport: 1111, dport: 2222, fragOffset: 185 }, 0, 0], // later fragment
    ];
    for (const [o, sp, dp_] of cases) {
      const inner = fromMe(PEER, o);
      const h = flowHash(ME.ip, PEER, IPPROTO_UDP, sp, dp_);
      const r = runAgent(dp, inner);
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(hex(r.out)).toBe(hex(encapsulated(inner, hostOf(slotPick(NET1.switches, h)), h)));
      expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
    }
  });

  it('an inner TTL of 1 or 0 is encapsulated as is, under outer TTL 64 (the next hop decides)', () => {
    for (const ttl of [1, 0]) {
      const inner = fromMe(PEER, { ttl });
      const h = flowHash(ME.ip, PEER, IPPROTO_ICMP);
      const r = runAgent(dp, inner);
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(hex(r.out)).toBe(hex(encapsulated(inner, hostOf(slotPick(NET1.switches, h)), h)));
    }
  });

  it('the same endpoint IP in another VPC: that VNI, that VPC\'s switch', () => {
    dp.putAgentMeta(LO, { ...ME, vni: VNI_B, netId: 7 });
    try {
      const inner = fromMe(PEER);
      const r = runAgent(dp, inner);
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(hex(r.out)).toBe(hex(encapsulated(inner, hostN(14), flowHash(ME.ip, PEER, IPPROTO_ICMP), VNI_B)));
    } finally {
      dp.putAgentMeta(LO, ME);
    }
  });
});

// ---- ARP ------------------------------------------------------------------------------

describe('ARP from the endpoint', () => {
  it('for its gateway: answered in place with the gateway MAC; XDP_TX', () => {
    const r = runAgent(dp, arpRequest(NET1.gatewayIp));
    expect(r.verdict).toBe(XDP.TX);
    expect(hex(r.out)).toBe(hex(arpReply(NET1.gatewayMac, NET1.gatewayIp)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_tx: 1, arp_reply: 1 });
  });

  it('for a known endpoint: answered with its MAC (Ethernet padding kept as it was)', () => {
    for (const [ep, pad] of [[EP_REMOTE, 0], [EP_LOCAL, 18]] as const) {
      const r = runAgent(dp, arpRequest(ep.ip, ME.ip, pad));
      expect(r.verdict).toBe(XDP.TX);
      expect(hex(r.out)).toBe(hex(arpReply(ep.mac, ep.ip, ME.ip, pad)));
      expect(r.moved).toEqual({ agent_rx: 1, agent_tx: 1, arp_reply: 1 });
    }
  });

  it('with sender address 0.0.0.0 (address probe of another address): answered to 0.0.0.0', () => {
    const r = runAgent(dp, arpRequest(NET1.gatewayIp, '0.0.0.0'));
    expect(r.verdict).toBe(XDP.TX);
    expect(hex(r.out)).toBe(hex(arpReply(NET1.gatewayMac, NET1.gatewayIp, '0.0.0.0')));
  });

  it('for an unknown address: encapsulated to a switch (hash of spa/tpa, outer TTL 64)', () => {
    const req = arpRequest(PEER);
    const h = flowHash(ME.ip, PEER, 0);
    const r = runAgent(dp, req);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(encapsulated(req, hostOf(slotPick(NET1.switches, h)), h)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
  });

  it('probes and announcements of its own address: drop_unsupported', () => {
    for (const spa of ['0.0.0.0', ME.ip]) {
      const r = runAgent(dp, arpRequest(ME.ip, spa));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_unsupported: 1 });
    }
  });

  it('a sender address that is not its own: drop_spoofed', () => {
    const r = runAgent(dp, arpRequest(NET1.gatewayIp, EP_REMOTE.ip));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_spoofed: 1 });
  });

  it('ARP replies and non-Ethernet/IPv4 ARP: drop_unsupported', () => {
    const frames = [
      eth({ dst: EP_REMOTE.mac, src: ME.mac, type: ETH_P_ARP }, arp({ op: ARP_REPLY, sha: ME.mac, spa: ME.ip, tha: EP_REMOTE.mac, tpa: EP_REMOTE.ip })),
      eth({ dst: BROADCAST_MAC, src: ME.mac, type: ETH_P_ARP }, arp({ op: ARP_REQUEST, sha: ME.mac, spa: ME.ip, tpa: PEER, htype: 6 })),
      eth({ dst: BROADCAST_MAC, src: ME.mac, type: ETH_P_ARP }, arp({ op: ARP_REQUEST, sha: ME.mac, spa: ME.ip, tpa: PEER, ptype: ETH_P_IPV6 })),
    ];
    for (const f of frames) {
      const r = runAgent(dp, f);
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_unsupported: 1 });
    }
  });
});

// ---- checks and missing state ------------------------------------------------------------

describe('what the agent refuses', () => {
  it('IPv4 from an address that is not the endpoint\'s: drop_spoofed', () => {
    const r = runAgent(dp, fromMe(PEER, { src: EP_REMOTE.ip }));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_spoofed: 1 });
  });

  it('IPv6 and other ethertypes: drop_unsupported', () => {
    for (const type of [ETH_P_IPV6, 0x88cc]) {
      const r = runAgent(dp, eth({ dst: NET1.gatewayMac, src: ME.mac, type }, Buffer.alloc(60, 0x60)));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_unsupported: 1 });
    }
  });

  it('a veth without agent_meta: XDP_PASS, untouched', () => {
    dp.deleteAgentMeta(LO);
    try {
      const f = fromMe(PEER);
      const r = runAgent(dp, f);
      expect(r.verdict).toBe(XDP.PASS);
      expect(hex(r.out)).toBe(hex(f));
      expect(r.moved).toEqual({ agent_rx: 1, agent_pass: 1 });
    } finally {
      dp.putAgentMeta(LO, ME);
    }
  });

  it('host_cfg without an address: drop_no_host_cfg', () => {
    dp.setHostConfig({ ip: '0.0.0.0', mac: THIS_HOST.mac, ifindex: LO });
    try {
      const r = runAgent(dp, fromMe(PEER));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_no_host_cfg: 1 });
    } finally {
      dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
    }
  });

  it('no network for the endpoint: drop_no_switch', () => {
    dp.putAgentMeta(LO, { ...ME, vni: VNI_NO_NET });
    try {
      for (const f of [fromMe(PEER), arpRequest(PEER)]) {
        const r = runAgent(dp, f);
        expect(r.verdict).toBe(XDP.DROP);
        expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_no_switch: 1 });
      }
    } finally {
      dp.putAgentMeta(LO, ME);
    }
  });

  it('a network with no switches: drop_no_switch; a switch without substrate MAC: drop_no_substrate', () => {
    try {
      dp.put('networks', { ...NET1, switches: [] });
      let r = runAgent(dp, fromMe(PEER));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_no_switch: 1 });
      dp.put('networks', { ...NET1, switches: [hostN(99).ip] });
      r = runAgent(dp, fromMe(PEER));
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, drop_no_substrate: 1 });
    } finally {
      dp.put('networks', NET1);
    }
  });

  it('eth0 missing from the interfaces devmap: drop_no_iface (after the encap was counted)', () => {
    dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: 4242 });
    try {
      const r = runAgent(dp, fromMe(PEER));
      if (HOOK === 'tc') {
        // No devmap on TC: bpf_redirect takes any ifindex; the kernel drops the skb when it finds no device.
        expect(r.verdict).toBe(XDP.REDIRECT);
        expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
        return;
      }
      expect(r.verdict).toBe(XDP.DROP);
      expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, encap: 1, drop_no_iface: 1 });
    } finally {
      dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
    }
  });
});

// ---- direct path ------------------------------------------------------------------------------

describe('direct path (the VPC record\'s flag + ep_host_cache)', () => {
  const CACHED = hostN(60);
  const OTHER_NET = '10.2.0.44'; // in NET2: routed
  const setDirect = (directPath: boolean | null) => {
    if (directPath === null) dp.delete('vpcs', { vni: VNI_A });
    else dp.put('vpcs', { vni: VNI_A, routers: [], directPath });
  };
  const cache = (ip: string, host: TestHost) => {
    dp.map('ep_host_cache').update(endpointKey(VNI_A, ip), encodeHostCache({ hostIp: host.ip, hostMac: host.mac }));
  };

  beforeAll(() => {
    cache(PEER, CACHED);
    cache('10.1.0.98', THIS_HOST);
    cache(OTHER_NET, CACHED);
  });
  afterEach(() => setDirect(null));
  afterAll(() => { for (const ip of [PEER, '10.1.0.98', OTHER_NET]) dp.forgetHost(VNI_A, ip); });

  it('on: a cached destination goes straight to its host, RTS flagged direct (counted direct_tx)', () => {
    setDirect(true);
    const inner = fromMe(PEER, { proto: IPPROTO_TCP, sport: 5555, dport: 22 });
    const h = flowHash(ME.ip, PEER, IPPROTO_TCP, 5555, 22);
    const r = runAgent(dp, inner);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(encapsulated(inner, CACHED, h, VNI_A, RTS_F_DIRECT)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1, direct_tx: 1 });
  });

  it('off by the VPC\'s flag, or no VPC record here: the cache is ignored, the switch', () => {
    for (const flag of [false, null]) {
      setDirect(flag);
      const inner = fromMe(PEER);
      const h = flowHash(ME.ip, PEER, IPPROTO_ICMP);
      const r = runAgent(dp, inner);
      expect(hex(r.out)).toBe(hex(encapsulated(inner, hostOf(slotPick(NET1.switches, h)), h)));
      expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
    }
  });

  it('a cache entry naming this host, and ARP, go to the switch', () => {
    setDirect(true);
    const inner = fromMe('10.1.0.98');
    const h = flowHash(ME.ip, '10.1.0.98', IPPROTO_ICMP);
    let r = runAgent(dp, inner);
    expect(hex(r.out)).toBe(hex(encapsulated(inner, hostOf(slotPick(NET1.switches, h)), h)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
    const req = arpRequest(PEER);
    const ha = flowHash(ME.ip, PEER, 0);
    r = runAgent(dp, req);
    expect(hex(r.out)).toBe(hex(encapsulated(req, hostOf(slotPick(NET1.switches, ha)), ha)));
  });

  it('another network: routed here (inner TTL - 1, checksum patched); a TTL that would expire takes the switch', () => {
    setDirect(true);
    const h = flowHash(ME.ip, OTHER_NET, IPPROTO_ICMP);
    let r = runAgent(dp, fromMe(OTHER_NET, { ttl: 9 }));
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(encapsulated(fromMe(OTHER_NET, { ttl: 8 }), CACHED, h, VNI_A, RTS_F_DIRECT)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1, direct_tx: 1 });
    for (const ttl of [1, 0]) {
      const inner = fromMe(OTHER_NET, { ttl });
      r = runAgent(dp, inner);
      expect(hex(r.out)).toBe(hex(encapsulated(inner, hostOf(slotPick(NET1.switches, h)), h)));
      expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1 });
    }
  });
});

// ---- this host is the switch: transit inline ---------------------------------------------------

describe('this host is the network\'s only switch: transit runs inline', () => {
  beforeAll(() => dp.put('networks', { ...NET1, switches: [THIS_HOST.ip] }));
  afterAll(() => dp.put('networks', NET1));

  /** What the inline switch/router produces: our encapsulation, then a forward by us (outer TTL 64 - 1). */
  const forwardedInline = (inner: Buffer, to: TestHost, h: number) =>
    geneveFrame(
      { srcMac: THIS_HOST.mac, dstMac: to.mac, srcIp: THIS_HOST.ip, dstIp: to.ip, ttl: 63, id: 0, sport: sportOf(h) },
      { vni: VNI_A, options: [rtsOption(THIS_HOST.ip, THIS_HOST.mac)] },
      inner);

  it('switch: to the endpoint\'s host, out through eth0 (XDP_REDIRECT)', () => {
    const inner = fromMe(EP_REMOTE.ip, { proto: IPPROTO_UDP, sport: 4000, dport: 4001, ttl: 50 });
    const h = flowHash(ME.ip, EP_REMOTE.ip, IPPROTO_UDP, 4000, 4001);
    const r = runAgent(dp, inner);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(forwardedInline(inner, EP_REMOTE.host, h)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1, switch_fwd: 1 });
  });

  it('decap: an endpoint on this host gets the inner frame with its MAC (XDP_REDIRECT)', () => {
    const inner = fromMe(EP_LOCAL.ip);
    const r = runAgent(dp, inner);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(fromMe(EP_LOCAL.ip, { dstMac: EP_LOCAL.mac })));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1, decap: 1 });
  });

  it('router: another network\'s switch, inner TTL - 1 and src MAC = its gateway', () => {
    const dst = '10.2.0.9';
    const inner = fromMe(dst, { proto: IPPROTO_TCP, sport: 6000, dport: 443, ttl: 40 });
    const h = flowHash(ME.ip, dst, IPPROTO_TCP, 6000, 443);
    const sw = hostOf(slotPick(NET2.switches, h));
    const routedInner = eth({ dst: NET1.gatewayMac, src: NET2.gatewayMac, type: ETH_P_IP },
      ipv4({ src: ME.ip, dst, proto: IPPROTO_TCP, ttl: 39, id: 0x2222, df: true }, tcp({ sport: 6000, dport: 443 })));
    const r = runAgent(dp, inner);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(forwardedInline(routedInner, sw, h)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1, router_net_fwd: 1 });
  });

  it('router, inner TTL 1: ICMP time exceeded from its own network\'s gateway, straight back into the endpoint (XDP_TX)', () => {
    const expired = fromMe('10.2.0.9', { ttl: 1, proto: IPPROTO_UDP, sport: 33434, dport: 33435 });
    const answer = eth({ dst: ME.mac, src: NET1.gatewayMac, type: ETH_P_IP },
      ipv4({ src: NET1.gatewayIp, dst: ME.ip, proto: IPPROTO_ICMP, ttl: 64, tos: 0xc0, id: 0 },
        icmpEcho({ type: 11, code: 0, id: 0, seq: 0 }, Buffer.from(expired.subarray(14, 42)))));
    const r = runAgent(dp, expired);
    expect(r.moved).toEqual({ agent_rx: 1, agent_tx: 1, encap: 1, icmp_time_exceeded: 1 });
    expect(r.verdict).toBe(XDP.TX);
    expect(hex(r.out)).toBe(hex(answer));
    expect(r.moved).toEqual({ agent_rx: 1, agent_tx: 1, encap: 1, icmp_time_exceeded: 1 });
  });

  it('ARP for another network\'s gateway this host holds: answered by the agent, before any encapsulation (XDP_TX)', () => {
    const r = runAgent(dp, arpRequest(NET2.gatewayIp));
    expect(r.verdict).toBe(XDP.TX);
    expect(hex(r.out)).toBe(hex(arpReply(NET2.gatewayMac, NET2.gatewayIp)));
    expect(r.moved).toEqual({ agent_rx: 1, agent_tx: 1, arp_reply: 1 });
  });

  it('ARP nobody knows: drop_no_endpoint', () => {
    const r = runAgent(dp, arpRequest(PEER));
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ agent_rx: 1, agent_drop: 1, encap: 1, drop_no_endpoint: 1 });
  });

  it('inner TTL 1 (and 0) to a neighbour in the same network is switched untouched: switching is not a hop', () => {
    for (const ttl of [1, 0]) {
      const inner = fromMe(EP_REMOTE.ip, { ttl });
      const r = runAgent(dp, inner);
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(hex(r.out)).toBe(hex(forwardedInline(inner, EP_REMOTE.host, flowHash(ME.ip, EP_REMOTE.ip, IPPROTO_ICMP))));
      expect(r.moved).toEqual({ agent_rx: 1, agent_redirect: 1, encap: 1, switch_fwd: 1 });
    }
  });
});

// The direct path on transit's side (native/bpf/direct_path.h): learning the
// sender's host when delivering here, refusing options that could poison the
// cache, and sending a direct packet that finds its endpoint gone on through a
// switch. The agent's side (using the cache) is in agent.test.ts. Every case
// checks the verdict, the output against a packet built independently, the
// cache, and exactly which counters moved.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HostDataplane } from '../../src/dataplane/host.js';
import { EndpointType } from '../../src/abi/index.js';
import {
  ETH_P_IP, IPPROTO_ICMP, RTS_F_DIRECT, RTS_F_NO_LEARN, eth, geneveFrame, icmpEcho, ipv4, rtsOption, type GeneveOption,
} from '../lib/packets.js';
import { LO, THIS_HOST, XDP, flowHash, hex, hostN, openDataplane, runTransit, slotPick, type TestHost } from './harness.js';

const VNI = 0x0a1b2c;
const VNI_OFF = 0x0a1b2d;   // a VPC with directPath: false
const VNI_NO_VPC = 0x0a1b2e; // no VPC record here

const SENDER_HOST = hostN(21);
const NEW_HOST = hostN(22);
const STRANGER = hostN(99); // not in substrate
const SENDER = { ip: '10.1.0.7', mac: '02:00:0a:01:00:07' };
const LOCAL = { ip: '10.1.0.6', mac: '02:00:0a:01:00:06' }; // hosted here
const GONE = '10.1.0.50'; // no record here: moved away or deleted
const SWITCHES = [hostN(11).ip, hostN(12).ip, hostN(13).ip];
const NET = (vni: number) => ({ vni, netId: 1, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', gatewayMac: '02:00:0a:01:00:01', switches: SWITCHES });
const KNOWN = [SENDER_HOST, NEW_HOST, hostN(11), hostN(12), hostN(13)];

let env: ReturnType<typeof openDataplane>;
let dp: HostDataplane;

beforeAll(() => {
  env = openDataplane('direct');
  dp = env.dp;
  dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
  dp.addInterface(LO);
  for (const h of KNOWN) dp.put('substrate', { ip: h.ip, mac: h.mac });
  dp.put('vpcs', { vni: VNI, routers: [], directPath: true });
  dp.put('vpcs', { vni: VNI_OFF, routers: [], directPath: false });
  for (const vni of [VNI, VNI_OFF, VNI_NO_VPC]) {
    dp.put('networks', NET(vni));
    dp.put('endpoints', { vni, ip: LOCAL.ip, type: EndpointType.SIMPLE, mac: LOCAL.mac, hostIp: THIS_HOST.ip, hostMac: THIS_HOST.mac, netId: 1, backends: [], hostedIfindex: LO });
  }
});
afterAll(() => env?.close());
beforeEach(() => { for (const vni of [VNI, VNI_OFF, VNI_NO_VPC]) dp.forgetHost(vni, SENDER.ip); });

const inner = (dst: string, ttl = 64) => eth({ dst: LOCAL.mac, src: SENDER.mac, type: ETH_P_IP },
  ipv4({ src: SENDER.ip, dst, proto: IPPROTO_ICMP, ttl, id: 0x1111, df: true }, icmpEcho({ id: 7, seq: 1 })));

/** Geneve to this host with outer source `from` and the given options. */
const toUs = (from: TestHost, options: GeneveOption[], vni = VNI, dst = LOCAL.ip) => geneveFrame(
  { srcMac: from.mac, dstMac: THIS_HOST.mac, srcIp: from.ip, dstIp: THIS_HOST.ip, ttl: 60, sport: 50000, id: 9 },
  { vni, options }, inner(dst));

const DELIVERED = { transit_rx: 1, transit_redirect: 1, decap: 1 };

describe('learning, when delivering to an endpoint hosted here', () => {
  it('learns (vni, inner source) -> the sender\'s host (its substrate MAC); once per change, not per packet', () => {
    const pkt = toUs(SENDER_HOST, [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac)]);
    let r = runTransit(dp, pkt);
    expect(r.verdict).toBe(XDP.REDIRECT);
    expect(hex(r.out)).toBe(hex(inner(LOCAL.ip)));
    expect(r.moved).toEqual({ ...DELIVERED, direct_learn: 1 });
    expect(dp.learnedHost(VNI, SENDER.ip)).toEqual(SENDER_HOST);
    r = runTransit(dp, pkt);
    expect(r.moved).toEqual(DELIVERED);
    // The endpoint moved: its packets now come from another host, which replaces the entry.
    r = runTransit(dp, toUs(NEW_HOST, [rtsOption(NEW_HOST.ip, NEW_HOST.mac)]));
    expect(r.moved).toEqual({ ...DELIVERED, direct_learn: 1 });
    expect(dp.learnedHost(VNI, SENDER.ip)).toEqual(NEW_HOST);
  });

  it('a packet a switch forwarded (outer source kept, RTS flag clear) teaches the same', () => {
    const r = runTransit(dp, toUs(SENDER_HOST, [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac)]));
    expect(r.moved).toEqual({ ...DELIVERED, direct_learn: 1 });
  });

  it('off by the VPC\'s flag, and with no VPC record here: delivered, nothing learned', () => {
    for (const vni of [VNI_OFF, VNI_NO_VPC]) {
      const r = runTransit(dp, toUs(SENDER_HOST, [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac)], vni));
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(r.moved).toEqual(DELIVERED);
      expect(dp.learnedHost(vni, SENDER.ip)).toBeNull();
    }
  });
});

describe('a poisoned or unfit option teaches nothing (the packet is still delivered)', () => {
  const cases: [string, TestHost, GeneveOption[]][] = [
    ['the option names another known host than the outer source', SENDER_HOST, [rtsOption(NEW_HOST.ip, NEW_HOST.mac)]],
    ['outer source and option agree on a host not in substrate', STRANGER, [rtsOption(STRANGER.ip, STRANGER.mac)]],
    ['the option names this host', THIS_HOST, [rtsOption(THIS_HOST.ip, THIS_HOST.mac)]],
    ['the sender flagged it not to learn (a scaled endpoint\'s reply)', SENDER_HOST, [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac, RTS_F_NO_LEARN)]],
    ['no RTS option', SENDER_HOST, []],
  ];
  for (const [what, from, options] of cases) {
    it(what, () => {
      dp.put('substrate', { ip: SENDER_HOST.ip, mac: SENDER_HOST.mac });
      const r = runTransit(dp, toUs(from, options));
      expect(r.verdict).toBe(XDP.REDIRECT);
      expect(hex(r.out)).toBe(hex(inner(LOCAL.ip)));
      expect(r.moved).toEqual(DELIVERED);
      expect(dp.learnedHost(VNI, SENDER.ip)).toBeNull();
    });
  }

  it('an existing entry is not overwritten by a poisoned option', () => {
    runTransit(dp, toUs(SENDER_HOST, [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac)]));
    const r = runTransit(dp, toUs(SENDER_HOST, [rtsOption(NEW_HOST.ip, NEW_HOST.mac)]));
    expect(r.moved).toEqual(DELIVERED);
    expect(dp.learnedHost(VNI, SENDER.ip)).toEqual(SENDER_HOST);
  });
});

describe('a stale cache: a direct packet for an endpoint this host does not know', () => {
  const h = flowHash(SENDER.ip, GONE, IPPROTO_ICMP);
  const sw = (): TestHost => KNOWN.find((k) => k.ip === slotPick(SWITCHES, h))!;

  it('goes on to a switch of its network: outer source kept, TTL - 1, RTS flag cleared, inner untouched (direct_stale)', () => {
    const r = runTransit(dp, toUs(SENDER_HOST, [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac, RTS_F_DIRECT)], VNI, GONE));
    expect(r.verdict).toBe(XDP.TX);
    const expected = geneveFrame(
      { srcMac: THIS_HOST.mac, dstMac: sw().mac, srcIp: SENDER_HOST.ip, dstIp: sw().ip, ttl: 59, sport: 50000, id: 9 },
      { vni: VNI, options: [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac)] }, inner(GONE));
    expect(hex(r.out)).toBe(hex(expected));
    expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, direct_stale: 1 });
  });

  it('without the direct flag the same packet is routed, as before (inner TTL - 1)', () => {
    const r = runTransit(dp, toUs(SENDER_HOST, [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac)], VNI, GONE));
    expect(r.verdict).toBe(XDP.TX);
    expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, router_net_fwd: 1 });
  });

  it('outer TTL 1: dropped as drop_ttl', () => {
    const pkt = geneveFrame(
      { srcMac: SENDER_HOST.mac, dstMac: THIS_HOST.mac, srcIp: SENDER_HOST.ip, dstIp: THIS_HOST.ip, ttl: 1, sport: 50000, id: 9 },
      { vni: VNI, options: [rtsOption(SENDER_HOST.ip, SENDER_HOST.mac, RTS_F_DIRECT)] }, inner(GONE));
    const r = runTransit(dp, pkt);
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_ttl: 1 });
  });
});

// Scaled endpoints packet by packet: the switch's DNAT and option 0x49, the
// backend host's flow memory, and the backend agent's SNAT back to the
// scaled endpoint's IP. Checksums are checked against full recomputes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointType } from '../../src/abi/index.js';
import type { HostDataplane } from '../../src/dataplane/host.js';
import {
  ETH_P_IP, IPPROTO_TCP, OPT_CLASS_XVPC, OPT_SCALED, eth, geneveFrame, inetChecksum, ipBytes, ipv4, parseEth, parseGeneve,
  parseIpv4, parseRts, parseUdp, rtsOption, tcp, RTS_F_NO_LEARN,
} from '../lib/packets.js';
import { LO, THIS_HOST, XDP, flowHash, hex, hostN, openDataplane, runAgent, runTransit, beThisHost, slotPick } from './harness.js';

const VNI = 60;
const NET = { vni: VNI, netId: 1, cidr: '10.60.0.0/16', gatewayIp: '10.60.0.1', gatewayMac: '0a:3c:0a:3c:00:01', switches: [THIS_HOST.ip] };
const CLIENT = { ip: '10.60.0.2', mac: '0e:3c:0a:3c:00:02', host: hostN(3) };
const VIP = { ip: '10.60.0.100', mac: '0e:3c:0a:3c:00:64' };
const B1 = { ip: '10.60.0.11', mac: '0e:3c:0a:3c:00:0b', host: hostN(1) };
const B2 = { ip: '10.60.0.12', mac: '0e:3c:0a:3c:00:0c', host: hostN(2) };
const PORTS = { sport: 40001, dport: 80 };

/** TCP with a correct checksum over the pseudo-header. */
function tcpSegment(src: string, dst: string, ports: { sport: number; dport: number }): Buffer {
  const seg = tcp(ports, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
  const pseudo = Buffer.concat([ipBytes(src), ipBytes(dst), Buffer.from([0, IPPROTO_TCP]), Buffer.alloc(2)]);
  pseudo.writeUInt16BE(seg.length, 10);
  seg.writeUInt16BE(inetChecksum(Buffer.concat([pseudo, seg])), 16);
  return seg;
}

const innerFrame = (src: { ip: string; mac: string }, dst: { ip: string; mac: string }, ports = PORTS) =>
  eth({ dst: dst.mac, src: src.mac, type: ETH_P_IP }, ipv4({ src: src.ip, dst: dst.ip, proto: IPPROTO_TCP, ttl: 64 }, tcpSegment(src.ip, dst.ip, ports)));

function simple(ep: { ip: string; mac: string; host: { ip: string; mac: string } }, hostedIfindex = -1) {
  return { vni: VNI, ip: ep.ip, type: EndpointType.SIMPLE, mac: ep.mac, hostIp: ep.host.ip, hostMac: ep.host.mac, netId: 1, backends: [], hostedIfindex };
}

describe('scaled endpoints', () => {
  let env: ReturnType<typeof openDataplane>;
  let dp: HostDataplane;
  // The backend is the slot table's pick (as for switches), written again in the harness.
  const chosen = slotPick([B1.ip, B2.ip], flowHash(CLIENT.ip, VIP.ip, IPPROTO_TCP, PORTS.sport, PORTS.dport)) === B1.ip ? B1 : B2;

  beforeAll(() => {
    env = openDataplane('scaled');
    dp = env.dp;
    beThisHost(dp);
    dp.put('networks', NET);
    for (const h of [hostN(1), hostN(2), hostN(3)]) dp.put('substrate', h);
    dp.put('endpoints', simple(CLIENT));
    dp.put('endpoints', simple(B1));
    dp.put('endpoints', simple(B2));
    dp.put('endpoints', { vni: VNI, ip: VIP.ip, type: EndpointType.SCALED, mac: VIP.mac, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', netId: 1, backends: [B1.ip, B2.ip], hostedIfindex: -1 });
  });

  afterAll(() => env?.close());

  const fromClient = () => geneveFrame(
    { srcMac: CLIENT.host.mac, dstMac: THIS_HOST.mac, srcIp: CLIENT.host.ip, dstIp: THIS_HOST.ip, ttl: 64, sport: 51000 },
    { vni: VNI, options: [rtsOption(CLIENT.host.ip, CLIENT.host.mac)] },
    innerFrame(CLIENT, VIP));

  it('the switch rewrites the flow to a backend, adds option 0x49 and forwards to its host', () => {
    const r = runTransit(dp, fromClient());
    expect(r.verdict).toBe(XDP.TX);
    expect(r.moved).toEqual({ transit_rx: 1, transit_tx: 1, switch_fwd: 1, scaled_dnat: 1 });
    const expected = geneveFrame(
      { srcMac: THIS_HOST.mac, dstMac: chosen.host.mac, srcIp: CLIENT.host.ip, dstIp: chosen.host.ip, ttl: 63, sport: 51000 },
      { vni: VNI, options: [{ cls: OPT_CLASS_XVPC, type: OPT_SCALED, data: ipBytes(VIP.ip) }, rtsOption(CLIENT.host.ip, CLIENT.host.mac)] },
      innerFrame(CLIENT, chosen));
    expect(hex(r.out)).toBe(hex(expected));
    expect(parseIpv4(r.out).checksumOk).toBe(true);
  });

  it("the backend's host remembers the flow and delivers it; its agent answers as the scaled endpoint", () => {
    // The same packet as it arrives at the backend's host, whose veth is LO here.
    const atBackend = geneveFrame(
      { srcMac: hostN(9).mac, dstMac: THIS_HOST.mac, srcIp: hostN(9).ip, dstIp: THIS_HOST.ip, ttl: 63, sport: 51000 },
      { vni: VNI, options: [{ cls: OPT_CLASS_XVPC, type: OPT_SCALED, data: ipBytes(VIP.ip) }, rtsOption(CLIENT.host.ip, CLIENT.host.mac)] },
      innerFrame(CLIENT, chosen));
    dp.putAgentMeta(LO, { vni: VNI, ip: chosen.ip, mac: chosen.mac, netId: 1 });
    dp.put('endpoints', { ...simple({ ...chosen, host: THIS_HOST }), hostedIfindex: LO });
    const delivered = runTransit(dp, atBackend);
    expect(delivered.verdict).toBe(XDP.REDIRECT);
    expect(delivered.moved).toEqual({ transit_rx: 1, transit_redirect: 1, decap: 1 });
    expect(hex(delivered.out)).toBe(hex(innerFrame(CLIENT, chosen)));
    expect(dp.map('scaled_flows').keys()).toHaveLength(1);

    // The backend answers from its own IP; it leaves as the scaled endpoint.
    const reply = innerFrame(chosen, { ip: CLIENT.ip, mac: NET.gatewayMac }, { sport: PORTS.dport, dport: PORTS.sport });
    const out = runAgent(dp, reply);
    expect(out.verdict).toBe(XDP.REDIRECT);
    expect(out.moved).toMatchObject({ agent_rx: 1, agent_redirect: 1, encap: 1, scaled_snat: 1 });
    const g = parseGeneve(out.out, parseUdp(out.out, parseIpv4(out.out).next).next);
    const inner = out.out.subarray(g.next);
    expect(hex(inner)).toBe(hex(innerFrame({ ip: VIP.ip, mac: chosen.mac }, { ip: CLIENT.ip, mac: NET.gatewayMac }, { sport: PORTS.dport, dport: PORTS.sport })));
    expect(parseEth(inner).src).toBe(chosen.mac);
    // Its RTS option tells the client's host not to learn the scaled IP as living here.
    expect(parseRts(g.options[0].data).flags).toBe(RTS_F_NO_LEARN);
  });

  it('a flow the backend did not get through the scaled endpoint keeps its own address', () => {
    const own = innerFrame(chosen, { ip: CLIENT.ip, mac: NET.gatewayMac }, { sport: 9999, dport: 40002 });
    const out = runAgent(dp, own);
    expect(out.verdict).toBe(XDP.REDIRECT);
    expect(out.moved.scaled_snat).toBeUndefined();
    const g = parseGeneve(out.out, parseUdp(out.out, parseIpv4(out.out).next).next);
    expect(hex(out.out.subarray(g.next))).toBe(hex(own));
    expect(parseRts(g.options[0].data).flags).toBe(0);
  });

  it('a scaled endpoint whose backends are unknown here: drop_no_backend', () => {
    dp.put('endpoints', { vni: VNI, ip: '10.60.0.101', type: EndpointType.SCALED, mac: VIP.mac, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', netId: 1, backends: ['10.60.9.9'], hostedIfindex: -1 });
    const pkt = geneveFrame(
      { srcMac: CLIENT.host.mac, dstMac: THIS_HOST.mac, srcIp: CLIENT.host.ip, dstIp: THIS_HOST.ip, ttl: 64 },
      { vni: VNI, options: [rtsOption(CLIENT.host.ip, CLIENT.host.mac)] },
      innerFrame(CLIENT, { ip: '10.60.0.101', mac: VIP.mac }));
    const r = runTransit(dp, pkt);
    expect(r.verdict).toBe(XDP.DROP);
    expect(r.moved).toEqual({ transit_rx: 1, transit_drop: 1, drop_no_backend: 1 });
  });
});

describe('scaled endpoints: backends by consistent hashing, changed in place', () => {
  let env: ReturnType<typeof openDataplane>;
  let dp: HostDataplane;
  const BACKENDS = [1, 2, 3, 4, 5].map((n) => ({ ip: `10.60.1.${n}`, mac: `0e:3c:0a:3c:01:0${n}`, host: hostN(10 + n) }));
  const FLOWS = 400;
  const flowPorts = (i: number) => ({ sport: 20000 + i * 7, dport: 443 });

  beforeAll(() => {
    env = openDataplane('scaledch');
    dp = env.dp;
    beThisHost(dp);
    dp.put('networks', NET);
    dp.put('substrate', CLIENT.host);
    dp.put('endpoints', simple(CLIENT));
    for (const b of BACKENDS) { dp.put('substrate', b.host); dp.put('endpoints', simple(b)); }
  });
  afterAll(() => env?.close());

  const setBackends = (list: typeof BACKENDS) => dp.put('endpoints', {
    vni: VNI, ip: VIP.ip, type: EndpointType.SCALED, mac: VIP.mac, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', netId: 1,
    backends: list.map((b) => b.ip), hostedIfindex: -1,
  });

  /** The backend the switch sends flow i to: the outer destination host of its forward. */
  function backendOf(i: number): string {
    const pkt = geneveFrame(
      { srcMac: CLIENT.host.mac, dstMac: THIS_HOST.mac, srcIp: CLIENT.host.ip, dstIp: THIS_HOST.ip, ttl: 64, sport: 51000 },
      { vni: VNI, options: [rtsOption(CLIENT.host.ip, CLIENT.host.mac)] },
      innerFrame(CLIENT, VIP, flowPorts(i)));
    const r = runTransit(dp, pkt);
    if (r.verdict !== XDP.TX) throw new Error(`flow ${i}: verdict ${r.verdict}`);
    const host = parseIpv4(r.out).dst;
    return BACKENDS.find((b) => b.host.ip === host)!.ip;
  }
  const assignment = () => Array.from({ length: FLOWS }, (_, i) => backendOf(i));

  it('each flow goes to the slot table\'s pick, every backend gets some, a connection always the same one', () => {
    setBackends(BACKENDS.slice(0, 4));
    const ips = BACKENDS.slice(0, 4).map((b) => b.ip);
    const got = assignment();
    got.forEach((b, i) => expect(b, `flow ${i}`).toBe(slotPick(ips, flowHash(CLIENT.ip, VIP.ip, IPPROTO_TCP, flowPorts(i).sport, flowPorts(i).dport))));
    expect(new Set(got).size).toBe(4);
    for (const i of [0, 17, 123]) for (let k = 0; k < 5; k++) expect(backendOf(i)).toBe(got[i]);
  });

  it('adding a backend moves only flows to it, about 1/n of them; removing one moves only its own', () => {
    setBackends(BACKENDS.slice(0, 4));
    const before = assignment();
    setBackends(BACKENDS); // in place: the same record rewritten
    const added = assignment();
    const moved = added.filter((b, i) => b !== before[i]);
    expect(moved.every((b) => b === BACKENDS[4].ip)).toBe(true);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.length).toBeLessThanOrEqual(Math.ceil(1.5 * FLOWS / 5)); // a fair share is 1/5; the table's spread is within 1.5x
    setBackends(BACKENDS.filter((b) => b.ip !== BACKENDS[1].ip));
    const removed = assignment();
    added.forEach((b, i) => { if (b !== BACKENDS[1].ip) expect(removed[i], `flow ${i}`).toBe(b); });
    expect(removed.includes(BACKENDS[1].ip)).toBe(false);
  });
});

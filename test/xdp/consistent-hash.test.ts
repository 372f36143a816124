// Consistent hashing through the real agent program: 10,000 flows are
// encapsulated with 4 switches, then 5, then 4 again (one removed); every
// choice must be the one the flow hash and the slot table give, and a change
// of membership must move few flows. Every property below is asserted on the
// switch the program chose (its BPF_PROG_TEST_RUN output), flow by flow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDataplane } from '../../src/dataplane/host.js';
import { IPPROTO_TCP, IPPROTO_UDP, eth, ETH_P_IP, fmtIp, ipv4, tcp, udp } from '../lib/packets.js';
import { LO, THIS_HOST, XDP, retvalOf, flowHash, hostN, slotPick, openDataplane, sportOf, beThisHost } from './harness.js';

const VNI = 0x00abcd;
const ME = { vni: VNI, ip: '10.20.0.7', mac: '02:00:0a:14:00:07', netId: 1 };
const NET = { vni: VNI, netId: 1, cidr: '10.20.0.0/16', gatewayIp: '10.20.0.1', gatewayMac: '02:00:0a:14:00:01' };
const FIVE = [71, 72, 73, 74, 75].map(hostN);
const FOUR = FIVE.slice(0, 4);
const REMOVED = FIVE[2];
const AFTER_REMOVAL = FIVE.filter((h) => h !== REMOVED);
const FLOWS = 10_000;

interface Flow { dst: string; proto: number; sport: number; dport: number; h: number; packet: Buffer }

let env: ReturnType<typeof openDataplane>;
let dp: HostDataplane;
const flows: Flow[] = [];

beforeAll(() => {
  env = openDataplane('chash');
  dp = env.dp;
  beThisHost(dp);
  dp.putAgentMeta(LO, ME);
  for (const h of FIVE) dp.put('substrate', { ip: h.ip, mac: h.mac });
  for (let i = 0; i < FLOWS; i++) {
    const proto = i % 3 === 0 ? IPPROTO_UDP : IPPROTO_TCP;
    const dst = fmtIp((0x0a140000 + 2 + (i % 4000)) >>> 0); // 10.20.0.2 ...
    const sport = 1024 + ((i * 7919) % 60000);
    const dport = [80, 443, 53, 5201, 8080][i % 5];
    const l4 = proto === IPPROTO_TCP ? tcp({ sport, dport }) : udp({ sport, dport }, Buffer.from('x'));
    const packet = eth({ dst: NET.gatewayMac, src: ME.mac, type: ETH_P_IP }, ipv4({ src: ME.ip, dst, proto, ttl: 64 }, l4));
    flows.push({ dst, proto, sport, dport, h: flowHash(ME.ip, dst, proto, sport, dport), packet });
  }
});

afterAll(() => env?.close());

/** Runs every flow through xdp_agent with `switches`; returns the switch IP each one was sent to. */
function route(switches: string[]): string[] {
  dp.put('networks', { ...NET, switches });
  const before = dp.stats();
  const prog = dp.agentProgram;
  const chosen = flows.map((f, i) => {
    const r = prog.testRun(f.packet, { ingressIfindex: LO });
    if (r.retval !== retvalOf(XDP.REDIRECT)) throw new Error(`flow ${i}: verdict ${r.retval}`);
    const dst = fmtIp(r.data.readUInt32BE(30));
    // The data plane must agree with the hash and the table, flow by flow (sport included).
    const want = slotPick(switches, f.h);
    if (dst !== want || r.data.readUInt16BE(34) !== sportOf(f.h)) {
      throw new Error(`flow ${i} (${f.dst} ${f.proto} ${f.sport}->${f.dport}): sent to ${dst} sport ${r.data.readUInt16BE(34)}, expected ${want} sport ${sportOf(f.h)}`);
    }
    return dst;
  });
  const after = dp.stats();
  expect(after.agent_rx - before.agent_rx).toBe(FLOWS);
  expect(after.agent_redirect - before.agent_redirect).toBe(FLOWS);
  expect(after.encap - before.encap).toBe(FLOWS);
  expect(after.agent_drop - before.agent_drop).toBe(0);
  return chosen;
}

const fraction = (n: number) => n / FLOWS;

describe('consistent hashing of flows over switches (through xdp_agent)', () => {
  let with4: string[] = [];
  let with5: string[] = [];
  let removed: string[] = [];
  let runMs = 0;
  const timed = (switches: typeof FIVE) => {
    const t = performance.now();
    const out = route(switches.map((h) => h.ip));
    runMs += performance.now() - t;
    return out;
  };

  it('4 switches: every flow goes where its hash and the slot table say, spread evenly', () => {
    with4 = timed(FOUR);
    for (const s of FOUR) {
      const share = fraction(with4.filter((d) => d === s.ip).length);
      expect(share, s.ip).toBeGreaterThan(0.2);
      expect(share, s.ip).toBeLessThan(0.3);
    }
  });

  it('a fifth switch: at most 0.3 of the flows move, all of them to the new one', () => {
    with5 = timed(FIVE);
    for (const s of FIVE) {
      const share = fraction(with5.filter((d) => d === s.ip).length);
      expect(share, s.ip).toBeGreaterThan(0.15);
      expect(share, s.ip).toBeLessThan(0.25);
    }
    const moved = flows.filter((_, i) => with4[i] !== with5[i]).length;
    const movedElsewhere = flows.filter((_, i) => with4[i] !== with5[i] && with5[i] !== FIVE[4].ip).length;
    expect(fraction(moved)).toBeGreaterThan(0.1);
    expect(fraction(moved)).toBeLessThanOrEqual(0.3);
    // Rendezvous slots: a slot only changes hands when the new switch wins it.
    expect(movedElsewhere).toBe(0);
    console.log(`slot table add: ${fraction(moved).toFixed(3)} of flows moved (${movedElsewhere} not to the new switch)`);
  });

  it('one of five removed: only its flows move, every other flow keeps its switch', () => {
    removed = timed(AFTER_REMOVAL);
    const onRemoved = flows.map((_, i) => i).filter((i) => with5[i] === REMOVED.ip);
    expect(fraction(onRemoved.length)).toBeGreaterThan(0.15);
    for (const i of onRemoved) expect(removed[i]).not.toBe(REMOVED.ip);
    const survivorsMoved = flows.filter((_, i) => with5[i] !== REMOVED.ip && removed[i] !== with5[i]).length;
    expect(survivorsMoved).toBe(0);
    // The removed switch's flows spread over all four survivors, not onto one.
    for (const s of AFTER_REMOVAL) expect(onRemoved.filter((i) => removed[i] === s.ip).length, s.ip).toBeGreaterThan(0);
    console.log(`slot table removal: ${onRemoved.length} flows of the removed switch moved, and ${survivorsMoved} of survivors`);
  });

  afterAll(() => console.log(`slot table: ${with4.length + with5.length + removed.length} agent test runs (each checked) in ${runMs.toFixed(0)} ms`));
});

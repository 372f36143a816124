// Section 1: throughput and latency between the same two endpoints, eight ways
// (see scenarios.ts), and the first packet's latency with direct path on and
// off (first-packet.ts). For the xvpc scenarios the data-plane counters of every
// host are recorded around the runs, as evidence of the path the packets took
// and of any drops.
import * as iperf from './iperf.js';
import { requestResponse, type LatencyResult } from './latency.js';
import { measureFirstPacket, type FirstPacketResult } from './first-packet.js';
import { measurePaired, type PairedRounds } from './paired.js';
import { Baseline, VNI, VNI_OFF, XvpcTopology, type Pair } from './scenarios.js';
import type { ScenarioKey } from './scenario-keys.js';

type Counters = Record<string, Record<string, number>>;

export interface PairResult {
  key: ScenarioKey;
  label: string;
  tcp1: iperf.TcpResult;
  tcp4: iperf.TcpResult;
  udp64: iperf.UdpResult;
  rr: LatencyResult;
  /** xvpc only: data-plane counter deltas per run, per host (zeros left out) */
  counters?: { tcp1: Counters; tcp4: Counters; udp64: Counters; rr: Counters };
}

export interface ThroughputResult {
  secondsPerRun: number;
  rrRounds: number;
  /** MTU of the endpoints' veth0, used for the baselines too */
  endpointMtu: number;
  scenarios: Partial<Record<ScenarioKey, PairResult>>;
  /** first ping of fresh pairs, direct path on vs off, per data path */
  firstPacket: Partial<Record<'native' | 'tc', FirstPacketResult>>;
  /** TCP 1 stream, direct path on vs off, alternating rounds, per data path */
  paired: Partial<Record<'native' | 'tc', PairedRounds>>;
  pairedSecondsPerRun: number;
}

export interface ThroughputHooks {
  step(s: string): void;
  done(s: string): void;
  /** runs after (a) is measured, while its topology stands (a profile, say) */
  afterA?(pair: Pair): Promise<void>;
  /** runs after (at) and (at-off) are measured, while their topology stands */
  afterAt?(on: Pair, off: Pair): Promise<void>;
}

const gbit = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;

function deltas(before: Counters, after: Counters): Counters {
  const out: Counters = {};
  for (const [host, counters] of Object.entries(after)) {
    const d: Record<string, number> = {};
    for (const [name, v] of Object.entries(counters)) {
      const x = v - (before[host]?.[name] ?? 0);
      if (x !== 0) d[name] = x;
    }
    out[host] = d;
  }
  return out;
}

let nextPort = 5201;
/** A port no run of this process has used yet. */
export const freshPort = (): number => nextPort++;

async function measurePair(pair: Pair, seconds: number, rrRounds: number, h: ThroughputHooks): Promise<PairResult> {
  const tag = `(${pair.key}) ${pair.label}`;
  const counters: Partial<Record<'tcp1' | 'tcp4' | 'udp64' | 'rr', Counters>> = {};
  const counted = async <T>(name: keyof typeof counters, fn: () => Promise<T>): Promise<T> => {
    const before = pair.counters ? await pair.counters() : undefined;
    const r = await fn();
    if (before) counters[name] = deltas(before, await pair.counters!());
    return r;
  };
  h.step(`${tag}: TCP 1 stream, ${seconds}s`);
  const tcp1 = await counted('tcp1', () => iperf.tcp(pair, 1, seconds, nextPort++));
  h.done(gbit(tcp1.bitsPerSecond));
  h.step(`${tag}: TCP 4 streams, ${seconds}s`);
  const tcp4 = await counted('tcp4', () => iperf.tcp(pair, 4, seconds, nextPort++));
  h.done(gbit(tcp4.bitsPerSecond));
  h.step(`${tag}: UDP 64-byte payloads, ${seconds}s`);
  const udp64 = await counted('udp64', () => iperf.udp(pair, 64, seconds, nextPort++));
  h.done(`${(udp64.receivedPps / 1000).toFixed(0)} kpps received (${udp64.lostPercent.toFixed(1)}% lost)`);
  h.step(`${tag}: TCP request/response, ${rrRounds} rounds`);
  const rr = await counted('rr', () => requestResponse(pair, rrRounds, nextPort++));
  h.done(`p50 ${rr.p50Us.toFixed(0)} µs, p99 ${rr.p99Us.toFixed(0)} µs`);
  return {
    key: pair.key, label: pair.label, tcp1, tcp4, udp64, rr,
    ...(pair.counters ? { counters: counters as NonNullable<PairResult['counters']> } : {}),
  };
}

/** Seconds per paired round (direct path on/off here; security groups on/off in sg.ts): short, the rounds are what gives the spread. */
export const PAIRED_SECONDS = 2;

export async function measureThroughput(prefix: string, seconds: number, rrRounds: number, firstPacketRounds: number,
  pairedRounds: number, h: ThroughputHooks): Promise<ThroughputResult> {
  let xvpc: XvpcTopology | undefined;
  const baselines: Baseline[] = [];
  const result: ThroughputResult = { secondsPerRun: seconds, rrRounds, endpointMtu: 0, scenarios: {}, firstPacket: {}, paired: {},
    pairedSecondsPerRun: PAIRED_SECONDS };
  const topology = async (mode: 'native' | 'tc') => {
    h.step(`xvpc ${mode === 'tc' ? 'TC' : 'XDP'}: droplets left, right, switch; VPCs ${VNI} (direct path on) and ${VNI_OFF} (off); `
      + 'in each, endpoints 10.0.0.2 (left), 10.0.0.3 (right)');
    xvpc = await XvpcTopology.create(prefix, mode);
    result.endpointMtu = await xvpc.endpointMtu();
    h.done(`endpoint MTU ${result.endpointMtu}`);
    return xvpc;
  };
  const firstPacket = async (t: XvpcTopology) => {
    h.step(`${t.mode === 'tc' ? 'TC' : 'XDP'}: first ping of ${firstPacketRounds} fresh pairs each, direct path on vs off`);
    const r = await measureFirstPacket(t.firstPacketRig(), firstPacketRounds);
    result.firstPacket[t.mode] = r;
    const med = (x?: { median: number }) => (x ? `${x.median.toFixed(3)} ms` : 'no reply');
    h.done(`median on ${med(r.on.spread)}, off ${med(r.off.spread)}`);
  };
  const paired = async (t: XvpcTopology) => {
    h.step(`${t.mode === 'tc' ? 'TC' : 'XDP'}: TCP 1 stream, direct path on vs off, ${pairedRounds} alternating rounds of ${PAIRED_SECONDS}s`);
    const r = await measurePaired(t.pairA(), t.pairAOff(), pairedRounds, PAIRED_SECONDS, freshPort);
    result.paired[t.mode] = r;
    h.done(`on/off per round ${r.ratio.min.toFixed(2)}-${r.ratio.max.toFixed(2)}, median ${r.ratio.median.toFixed(2)}`);
  };
  const moveSwitch = async (t: XvpcTopology) => {
    h.step('xvpc: moving the switch onto the client host (addSwitch left, removeSwitch switch)');
    const pair = await t.moveSwitchToClientHost();
    h.done('');
    return pair;
  };
  try {
    const xdp = await topology('native');
    h.step('baselines: direct (veth+bridge) and kernel VXLAN namespaces');
    baselines.push(await Baseline.direct(prefix, result.endpointMtu));
    baselines.push(await Baseline.vxlan(prefix, result.endpointMtu));
    h.done('');

    result.scenarios.a = await measurePair(xdp.pairA(), seconds, rrRounds, h);
    await h.afterA?.(xdp.pairA());
    result.scenarios['a-off'] = await measurePair(xdp.pairAOff(), seconds, rrRounds, h);
    for (const b of baselines) result.scenarios[b.pair.key] = await measurePair(b.pair, seconds, rrRounds, h);
    await firstPacket(xdp);
    await paired(xdp);
    result.scenarios.b = await measurePair(await moveSwitch(xdp), seconds, rrRounds, h);
    await xdp.destroy();
    xvpc = undefined;

    // The same droplets and endpoints on the TC data path (one topology at a time).
    const tc = await topology('tc');
    result.scenarios.at = await measurePair(tc.pairA(), seconds, rrRounds, h);
    result.scenarios['at-off'] = await measurePair(tc.pairAOff(), seconds, rrRounds, h);
    await h.afterAt?.(tc.pairA(), tc.pairAOff());
    await firstPacket(tc);
    await paired(tc);
    result.scenarios.bt = await measurePair(await moveSwitch(tc), seconds, rrRounds, h);
    return result;
  } finally {
    h.step('teardown');
    for (const b of baselines) await b.destroy().catch(() => undefined);
    await xvpc?.destroy();
    h.done('');
  }
}

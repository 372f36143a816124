// iperf3 between the two namespaces of a pair: the server one-off (-1) in the
// server's namespace, the client with a bounded duration and JSON output.
import { cpuSample, cpuShare } from './measure.js';
import { Background, inNs, nsRun, waitListening } from './ns.js';
import type { Pair } from './scenarios.js';

export interface TcpResult {
  /** receiver side, bits per second */
  bitsPerSecond: number;
  retransmits: number;
  /** share of all CPUs (fractions of 1) per kind during the run */
  cpuShare: ReturnType<typeof cpuShare>;
}

export interface UdpResult {
  /** datagrams the receiver got, per second */
  receivedPps: number;
  sentPps: number;
  lostPercent: number;
  payloadBytes: number;
  cpuShare: ReturnType<typeof cpuShare>;
}

interface IperfJson {
  error?: string;
  end?: {
    sum_received?: { bits_per_second: number; seconds: number };
    sum_sent?: { bits_per_second: number; retransmits?: number; seconds: number; packets?: number; lost_packets?: number };
    sum?: { seconds: number; packets: number; lost_packets: number; lost_percent: number; bytes: number };
  };
}

/** Runs one iperf3 client against a fresh one-off server; returns the client's JSON. */
async function iperf(pair: Pair, port: number, seconds: number, clientArgs: string[]): Promise<{ json: IperfJson; cpu: ReturnType<typeof cpuShare> }> {
  const server = new Background(inNs(pair.serverNs, ['iperf3', '-s', '-1', '-p', String(port)]), (seconds + 30) * 1000);
  try {
    await waitListening(pair.serverNs, port);
    const before = await cpuSample();
    const r = await nsRun(pair.clientNs, ['iperf3', '-c', pair.serverIp, '-p', String(port), '-t', String(seconds), '-J', ...clientArgs],
      (seconds + 25) * 1000);
    const after = await cpuSample();
    let json: IperfJson;
    try {
      json = JSON.parse(r.stdout) as IperfJson;
    } catch {
      throw new Error(`iperf3 ${clientArgs.join(' ')} in ${pair.clientNs}: exit ${r.code}: ${r.stderr.trim() || r.stdout.slice(0, 300)}`);
    }
    if (json.error) throw new Error(`iperf3 ${clientArgs.join(' ')} (${pair.label}): ${json.error}`);
    return { json, cpu: cpuShare(before, after) };
  } finally {
    server.kill();
    await server.exited;
  }
}

export async function tcp(pair: Pair, streams: number, seconds: number, port: number): Promise<TcpResult> {
  const { json, cpu } = await iperf(pair, port, seconds, ['-P', String(streams)]);
  const recv = json.end?.sum_received;
  if (!recv) throw new Error(`iperf3 TCP (${pair.label}): no receiver summary`);
  return { bitsPerSecond: recv.bits_per_second, retransmits: json.end?.sum_sent?.retransmits ?? 0, cpuShare: cpu };
}

/** UDP with `payload`-byte datagrams sent as fast as the client can (-b 0). */
export async function udp(pair: Pair, payload: number, seconds: number, port: number): Promise<UdpResult> {
  const { json, cpu } = await iperf(pair, port, seconds, ['-u', '-b', '0', '-l', String(payload)]);
  const sum = json.end?.sum;
  if (!sum || !sum.seconds) throw new Error(`iperf3 UDP (${pair.label}): no summary`);
  // end.sum carries the receiver's loss counts (the server reports them back).
  const received = sum.packets - sum.lost_packets;
  return {
    receivedPps: received / sum.seconds,
    sentPps: sum.packets / sum.seconds,
    lostPercent: sum.lost_percent,
    payloadBytes: payload,
    cpuShare: cpu,
  };
}

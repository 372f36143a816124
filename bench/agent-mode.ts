// The design lever for throughput: the agent in generic (skb) XDP instead of
// native XDP on the endpoints' host-side veths. transitd reads
// XVPC_AGENT_MODE when it attaches an endpoint; the droplets inherit this
// process's environment, so it is set just while they start.
import { run } from '../dist/util/exec.js';
import * as iperf from './iperf.js';
import { XvpcTopology } from './scenarios.js';

export interface AgentModeResult {
  mode: 'generic';
  /** how the agent was found attached on the client's host-side veth */
  attached: string;
  scenario: 'a';
  tcp1: iperf.TcpResult;
  tcp4: iperf.TcpResult;
  udp64: iperf.UdpResult;
}

async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const old = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

export async function measureAgentMode(prefix: string, seconds: number, port: number,
  step: (s: string) => void, done: (s: string) => void): Promise<AgentModeResult> {
  step('xvpc (a) with XVPC_AGENT_MODE=generic');
  const t = await withEnv('XVPC_AGENT_MODE', 'generic', () => XvpcTopology.create(prefix, 'native'));
  try {
    const links = await run(['ip', '-n', `${prefix}-left`, '-o', 'link', 'show']);
    const agentLine = links.stdout.split('\n').find((l) => /: ve[0-9a-f]{8}@/.test(l)) ?? '';
    const attached = /xdpgeneric/.test(agentLine) ? 'xdpgeneric' : /xdp\b|xdpdrv/.test(agentLine) ? 'xdp (native)' : 'unknown';
    if (attached !== 'xdpgeneric') throw new Error(`agent mode: the agent is attached as '${attached}', not generic (is the XVPC_AGENT_MODE hook in transitd?)`);
    done(attached);
    const pair = t.pairA();
    step(`(a) generic agent: TCP 1 stream, ${seconds}s`);
    const tcp1 = await iperf.tcp(pair, 1, seconds, port);
    done(`${(tcp1.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`);
    step(`(a) generic agent: TCP 4 streams, ${seconds}s`);
    const tcp4 = await iperf.tcp(pair, 4, seconds, port + 1);
    done(`${(tcp4.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`);
    step(`(a) generic agent: UDP 64-byte payloads, ${seconds}s`);
    const udp64 = await iperf.udp(pair, 64, seconds, port + 2);
    done(`${(udp64.receivedPps / 1000).toFixed(0)} kpps received`);
    return { mode: 'generic', attached, scenario: 'a', tcp1, tcp4, udp64 };
  } finally {
    await t.destroy();
  }
}

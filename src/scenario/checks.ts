// The checks a scenario asks for, run against a run (its run file): pingall
// over all pairs or a sampled fraction, iperf3 pairs, coordinated
// many-clients-against-many-servers runs started together, RTT/loss bounds
// (shaping checks), and pairs that must not reach each other. Every command
// binds the endpoint's address (ping -I, iperf3 -B): an endpoint in a shared
// namespace is routed by its source address; in its own it changes nothing.
import { parsePing } from '../controller/endpoint.js';
import { findEndpoint, runIn } from './target.js';
import type { RunEndpoint, RunFile } from './runfile.js';
import type { Checks } from './types.js';
import { seededRandom } from '../util/seeded-random.js';

export interface CheckResult {
  /** 'pingall', 'iperf a->b', 'rtt a->b', 'unreachable a->b', 'coordinated #0' */
  name: string;
  ok: boolean;
  detail: string;
}

export interface PingSample { from: string; to: string; ok: boolean; rttMs?: number }
export interface Throughput { name: string; client: string; server: string; mbps: number }

export interface CheckReport {
  results: CheckResult[];
  pings: PingSample[];
  throughput: Throughput[];
}

/** Ordered pairs that should reach each other: same VPC, and same network or a VPC with routers. */
export function reachablePairs(runFile: RunFile, sample = 1, seed = 1): [RunEndpoint, RunEndpoint][] {
  const routed = new Set(runFile.plan.vpcs.filter((v) => v.routers.length).map((v) => v.vni));
  const rnd = seededRandom(seed);
  const out: [RunEndpoint, RunEndpoint][] = [];
  for (const a of runFile.endpoints) {
    for (const b of runFile.endpoints) {
      if (a === b || a.vni !== b.vni || (a.netId !== b.netId && !routed.has(a.vni))) continue;
      if (sample >= 1 || rnd() < sample) out.push([a, b]);
    }
  }
  return out;
}

/** Runs fn over items, at most limit at once. */
async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

export async function pingall(runFile: RunFile, opts: { sample?: number; count?: number; seed?: number; parallelism?: number } = {}):
  Promise<{ result: CheckResult; pings: PingSample[] }> {
  const pairs = reachablePairs(runFile, opts.sample ?? 1, opts.seed ?? 1);
  const count = opts.count ?? 1;
  const pings: PingSample[] = [];
  await eachLimit(pairs, opts.parallelism ?? 16, async ([a, b]) => {
    const r = await runIn(runFile, a, ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '2', '-I', a.ip, b.ip], 10_000 + count * 1000);
    const p = parsePing(r.stdout, r.code);
    pings.push({ from: a.name, to: b.name, ok: p.ok && p.received === count, ...(p.rttMs !== undefined ? { rttMs: p.rttMs } : {}) });
  });
  const failed = pings.filter((p) => !p.ok);
  const shown = failed.slice(0, 5).map((p) => `${p.from}->${p.to}`).join(', ');
  return {
    result: {
      name: 'pingall', ok: failed.length === 0 && pairs.length > 0,
      detail: pairs.length === 0 ? 'no pairs to ping'
        : `${pings.length - failed.length}/${pings.length} pairs answered${failed.length ? `; failed: ${shown}${failed.length > 5 ? ', ...' : ''}` : ''}`,
    },
    pings,
  };
}

const IPERF_PORT = 5201;

/** One iperf3 server (one test, then it exits) on port; resolves once it listens, with its ending. */
async function iperfServer(runFile: RunFile, server: RunEndpoint, port: number, seconds: number): Promise<{ done: Promise<unknown> }> {
  const done = runIn(runFile, server, ['iperf3', '-s', '-1', '-B', server.ip, '-p', String(port)], (seconds + 30) * 1000);
  // Wait until it listens: ss inside the namespace shows its address and port (in a shared
  // namespace another endpoint's server may listen on the same port).
  for (let i = 0; i < 100; i++) {
    const r = await runIn(runFile, server, ['ss', '-Hltn', 'src', `${server.ip}:${port}`], 5000);
    if (r.stdout.trim()) return { done };
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`iperf3 server on ${server.name}:${port} did not start listening`);
}

async function iperfClient(runFile: RunFile, client: RunEndpoint, server: RunEndpoint, port: number, seconds: number, udp: boolean): Promise<number> {
  const r = await runIn(runFile, client,
    ['iperf3', '-c', server.ip, '-B', client.ip, '-p', String(port), '-t', String(seconds), '-J', ...(udp ? ['-u', '-b', '0'] : [])], (seconds + 30) * 1000);
  let j: { end?: { sum_received?: { bits_per_second?: number }; sum?: { bits_per_second?: number } }; error?: string };
  try {
    j = JSON.parse(r.stdout);
  } catch {
    throw new Error(`iperf3 ${client.name}->${server.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  if (j.error) throw new Error(`iperf3 ${client.name}->${server.name}: ${j.error}`);
  const bps = j.end?.sum_received?.bits_per_second ?? j.end?.sum?.bits_per_second;
  if (bps === undefined) throw new Error(`iperf3 ${client.name}->${server.name}: no received rate in its report`);
  return bps / 1e6;
}

export async function iperfPair(runFile: RunFile, c: NonNullable<Checks['iperf']>[number]): Promise<{ result: CheckResult; tput: Throughput }> {
  const client = findEndpoint(runFile, c.client);
  const server = findEndpoint(runFile, c.server);
  const seconds = c.seconds ?? 3;
  const serving = await iperfServer(runFile, server, IPERF_PORT, seconds);
  const mbps = await iperfClient(runFile, client, server, IPERF_PORT, seconds, c.udp ?? false);
  await serving.done;
  const name = `iperf ${client.name}->${server.name}`;
  const low = c.minMbps !== undefined && mbps < c.minMbps;
  const high = c.maxMbps !== undefined && mbps > c.maxMbps;
  const bounds = [c.minMbps !== undefined ? `>= ${c.minMbps}` : '', c.maxMbps !== undefined ? `<= ${c.maxMbps}` : ''].filter(Boolean).join(' and ');
  return {
    result: { name, ok: !low && !high, detail: `${mbps.toFixed(1)} Mbit/s${bounds ? ` (wanted ${bounds})` : ''}` },
    tput: { name, client: client.name, server: server.name, mbps },
  };
}

/**
 * Many clients against many servers, all clients started together (incast
 * when servers are few): client i goes to server i mod S, each pair on its own
 * port so every server runs one iperf3 per client it takes.
 */
export async function coordinated(runFile: RunFile, c: NonNullable<Checks['coordinated']>[number], index: number):
  Promise<{ result: CheckResult; tputs: Throughput[] }> {
  const clients = c.clients.map((n) => findEndpoint(runFile, n));
  const servers = c.servers.map((n) => findEndpoint(runFile, n));
  const seconds = c.seconds ?? 3;
  const plan = clients.map((cl, i) => ({ client: cl, server: servers[i % servers.length], port: IPERF_PORT + 1 + Math.floor(i / servers.length) }));
  const serving = await Promise.all(plan.map((p) => iperfServer(runFile, p.server, p.port, seconds)));
  const rates = await Promise.all(plan.map(async (p) => ({ ...p, mbps: await iperfClient(runFile, p.client, p.server, p.port, seconds, false).catch(() => 0) })));
  await Promise.all(serving.map((s) => s.done.catch(() => undefined)));
  const name = `coordinated #${index}`;
  const total = rates.reduce((s, r) => s + r.mbps, 0);
  const zero = rates.filter((r) => r.mbps === 0);
  return {
    result: { name, ok: zero.length === 0, detail: `${clients.length} clients -> ${servers.length} servers: ${total.toFixed(1)} Mbit/s in all${zero.length ? `; no traffic from ${zero.map((r) => r.client.name).join(', ')}` : ''}` },
    tputs: rates.map((r) => ({ name, client: r.client.name, server: r.server.name, mbps: r.mbps })),
  };
}

/** Pings from -> to `count` times; checks the average RTT and the loss against bounds. */
export async function rttCheck(runFile: RunFile, c: NonNullable<Checks['rtt']>[number]): Promise<{ result: CheckResult; pings: PingSample[] }> {
  const from = findEndpoint(runFile, c.from);
  const to = findEndpoint(runFile, c.to);
  const count = c.count ?? 20;
  const r = await runIn(runFile, from, ['ping', '-n', '-c', String(count), '-i', '0.01', '-W', '2', '-I', from.ip, to.ip], 30_000 + count * 100);
  const p = parsePing(r.stdout, r.code);
  const lossPct = p.transmitted ? 100 * (1 - p.received / p.transmitted) : 100;
  const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  const fails: string[] = [];
  if (p.transmitted !== count) fails.push(`sent ${p.transmitted} of ${count}`);
  if (c.minMs !== undefined && !(p.rttMs !== undefined && p.rttMs >= c.minMs)) fails.push(`RTT below ${c.minMs} ms`);
  if (c.maxMs !== undefined && !(p.rttMs !== undefined && p.rttMs <= c.maxMs)) fails.push(`RTT above ${c.maxMs} ms`);
  if (c.minLossPct !== undefined && lossPct < c.minLossPct) fails.push(`loss below ${c.minLossPct}%`);
  if (c.maxLossPct !== undefined && lossPct > c.maxLossPct) fails.push(`loss above ${c.maxLossPct}%`);
  return {
    result: {
      name: `rtt ${from.name}->${to.name}`, ok: fails.length === 0,
      detail: `avg ${p.rttMs?.toFixed(2) ?? '-'} ms, loss ${lossPct.toFixed(1)}% over ${p.transmitted}${fails.length ? `: ${fails.join(', ')}` : ''}`,
    },
    pings: rtts.map((rttMs) => ({ from: from.name, to: to.name, ok: true, rttMs })),
  };
}

export async function unreachable(runFile: RunFile, c: NonNullable<Checks['unreachable']>[number]): Promise<CheckResult> {
  const from = findEndpoint(runFile, c.from);
  const to = findEndpoint(runFile, c.to);
  const r = await runIn(runFile, from, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', '-I', from.ip, to.ip], 10_000);
  const p = parsePing(r.stdout, r.code);
  return { name: `unreachable ${from.name}->${to.name}`, ok: p.transmitted > 0 && p.received === 0, detail: `${p.received}/${p.transmitted} answered` };
}

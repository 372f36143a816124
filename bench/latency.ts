// Request/response latency between the two namespaces of a pair: rr.js (a
// tiny node TCP echo) serves in one, asks N times from the other; client and
// server pinned to different CPUs so that every scenario schedules them alike.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Background, inNs, nsRun } from './ns.js';
import type { Pair } from './scenarios.js';

const RR = fileURLToPath(new URL('./rr.js', import.meta.url));

/** Round-trip times in µs over `rounds` exchanges of `sizeBytes` each way. */
export interface LatencyResult {
  rounds: number;
  sizeBytes: number;
  p50Us: number; p90Us: number; p99Us: number; maxUs: number; meanUs: number;
}

/** Pins to one CPU when there are two or more: client and server on different CPUs, the same in every scenario. */
const pinned = (cpu: number, argv: string[]): string[] => (cpus().length >= 2 ? ['taskset', '-c', String(cpu), ...argv] : argv);

export async function requestResponse(pair: Pair, rounds: number, port: number, size = 64): Promise<LatencyResult> {
  const server = new Background(inNs(pair.serverNs, pinned(1, [process.execPath, RR, 'serve', String(port)])), 120_000);
  try {
    await server.waitFor('ready');
    const r = await nsRun(pair.clientNs, pinned(0, [process.execPath, RR, 'ask', pair.serverIp, String(port), String(rounds), String(size)]), 110_000);
    if (r.code !== 0) throw new Error(`rr ask (${pair.label}): exit ${r.code}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as LatencyResult;
  } finally {
    server.kill();
    await server.exited;
  }
}

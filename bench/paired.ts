// TCP 1 stream with direct path on and off in alternating rounds on the same
// topology: one figure per round and side, and the per-round ratio, so that a
// difference between the two can be told from the machine's noise (one run
// per scenario cannot). Pure part (pairedSummary) unit-tested in
// test/unit/bench-paired.test.ts.
import * as iperf from './iperf.js';
import type { Pair } from './scenarios.js';
import { spreadOf, type Spread } from './spread.js';

export interface PairedRounds {
  /** Gbit/s per round, direct path on */
  on: number[];
  off: number[];
  /** per round: on / off */
  ratio: Spread;
}

export function pairedSummary(on: number[], off: number[]): PairedRounds {
  if (on.length !== off.length || on.length === 0) throw new Error(`paired rounds: ${on.length} on vs ${off.length} off`);
  if ([...on, ...off].some((x) => !(x > 0))) throw new Error(`paired rounds: a rate is not positive (${on.join(',')} / ${off.join(',')})`);
  return { on, off, ratio: spreadOf(on.map((x, i) => x / off[i])) };
}

/** `rounds` rounds of TCP 1 stream, `seconds` each, on then off (odd rounds off then on). */
export async function measurePaired(on: Pair, off: Pair, rounds: number, seconds: number, port: () => number): Promise<PairedRounds> {
  const r: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let i = 0; i < rounds; i++) {
    for (const side of (i % 2 === 0 ? ['on', 'off'] : ['off', 'on']) as ('on' | 'off')[]) {
      const t = await iperf.tcp(side === 'on' ? on : off, 1, seconds, port());
      r[side].push(t.bitsPerSecond / 1e9);
    }
  }
  return pairedSummary(r.on, r.off);
}

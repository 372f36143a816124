// The first packet's latency with direct path on and off: the RTT of the very
// first ping between two endpoints that have never exchanged a packet (fresh
// endpoints each round, so no host has learned either of them yet and no
// neighbour entry exists), in the two VPCs of the same topology, one on and
// one off, the two measured back to back in each round with the order
// alternating. Pure summary: unit-tested in test/unit/bench-first-packet.test.ts.
import { nsRun } from './ns.js';
import { pathTaken, type Counters, type PathTaken } from './path-evidence.js';
import { spreadOf, type Spread } from './spread.js';

/** ping's "time=0.123 ms" of its one reply; undefined when no reply came. */
export function firstRttMs(pingOutput: string): number | undefined {
  const m = /\btime[=<]([\d.]+) ms/.exec(pingOutput);
  return m ? Number(m[1]) : undefined;
}

export interface FirstPacketRound {
  /** first-ping RTT, ms; undefined: lost */
  onMs?: number;
  offMs?: number;
}

export interface FirstPacketSide {
  /** RTTs of the rounds that got a reply */
  spread?: Spread;
  lost: number;
  /** the counters over all its first pings: which way they went */
  path: PathTaken;
}

export interface FirstPacketResult {
  rounds: FirstPacketRound[];
  on: FirstPacketSide;
  off: FirstPacketSide;
  /** per round with both replies: on RTT / off RTT */
  ratio?: Spread;
}

export function summarizeFirstPacket(rounds: FirstPacketRound[], onCounters: Counters, offCounters: Counters, switchHost: string): FirstPacketResult {
  const side = (get: (r: FirstPacketRound) => number | undefined, c: Counters): FirstPacketSide => {
    const got = rounds.map(get).filter((x): x is number => x !== undefined);
    return { ...(got.length ? { spread: spreadOf(got) } : {}), lost: rounds.length - got.length, path: pathTaken(c, switchHost) };
  };
  const both = rounds.filter((r) => r.onMs !== undefined && r.offMs !== undefined && r.offMs > 0);
  return {
    rounds,
    on: side((r) => r.onMs, onCounters),
    off: side((r) => r.offMs, offCounters),
    ...(both.length ? { ratio: spreadOf(both.map((r) => r.onMs! / r.offMs!)) } : {}),
  };
}

/** A fresh endpoint pair in one VPC: the client's namespace and the server's address. */
export interface FreshPair { clientNs: string; serverIp: string }

export interface FirstPacketRig {
  /** round i's never-used pair in the VPC with direct path on (on) or off */
  freshPair(on: boolean, round: number): Promise<FreshPair>;
  counters(): Promise<Counters>;
  switchHost: string;
}

function add(into: Counters, before: Counters, after: Counters): void {
  for (const [host, cs] of Object.entries(after)) {
    const h = (into[host] ??= {});
    for (const [name, v] of Object.entries(cs)) {
      const d = v - (before[host]?.[name] ?? 0);
      if (d) h[name] = (h[name] ?? 0) + d;
    }
  }
}

export async function measureFirstPacket(rig: FirstPacketRig, rounds: number): Promise<FirstPacketResult> {
  const out: FirstPacketRound[] = [];
  const counters: Record<'on' | 'off', Counters> = { on: {}, off: {} };
  for (let i = 0; i < rounds; i++) {
    const pairs = { on: await rig.freshPair(true, i), off: await rig.freshPair(false, i) };
    const round: FirstPacketRound = {};
    // alternate which side goes first, so a drift in the machine's load hits both
    for (const side of (i % 2 === 0 ? ['on', 'off'] : ['off', 'on']) as ('on' | 'off')[]) {
      const p = pairs[side];
      const before = await rig.counters();
      const r = await nsRun(p.clientNs, ['ping', '-n', '-c', '1', '-W', '2', p.serverIp], 10_000);
      add(counters[side], before, await rig.counters());
      const rtt = firstRttMs(r.stdout);
      if (rtt !== undefined) round[side === 'on' ? 'onMs' : 'offMs'] = rtt;
    }
    out.push(round);
  }
  return summarizeFirstPacket(out, counters.on, counters.off, rig.switchHost);
}

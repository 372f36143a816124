// Which way a run's packets went, from the data-plane counters of every host
// read around it: straight between the endpoints' hosts (direct path) or
// through the switch host. Pure: unit-tested in test/unit/bench-path-evidence.test.ts.

/** Counter deltas of one run: host -> counter name -> delta (zeros may be left out). */
export type Counters = Record<string, Record<string, number>>;

export type PathVerdict = 'direct' | 'switch' | 'mixed' | 'none';

export interface PathTaken {
  /** packets (TC: aggregates) the agents encapsulated, all hosts */
  encap: number;
  /** of them, sent straight to a cached host (direct_tx, all hosts) */
  directTx: number;
  /** packets the switch host forwarded (switch_fwd) */
  switchFwd: number;
  /** direct packets that found a stale entry and went on through a switch (direct_stale, all hosts) */
  stale: number;
  path: PathVerdict;
}

/** The share of the encapsulated packets that may go the other way and still count as one path (ARP, the first exchange). */
export const PATH_TOLERANCE = 0.01;

const sum = (c: Counters, name: string): number => Object.values(c).reduce((a, h) => a + (h[name] ?? 0), 0);

export function pathTaken(c: Counters, switchHost: string): PathTaken {
  const encap = sum(c, 'encap');
  const directTx = sum(c, 'direct_tx');
  const switchFwd = c[switchHost]?.switch_fwd ?? 0;
  const stale = sum(c, 'direct_stale');
  const slack = Math.max(2, encap * PATH_TOLERANCE);
  let path: PathVerdict = 'mixed';
  if (encap === 0) path = 'none';
  else if (switchFwd <= slack && directTx >= encap - slack) path = 'direct';
  else if (directTx <= slack && switchFwd >= encap - slack) path = 'switch';
  return { encap, directTx, switchFwd, stale, path };
}

const n = (x: number) => x.toLocaleString('en');

/** One finding sentence: "(at) TCP 1 stream: ... : direct". */
export function pathSentence(what: string, p: PathTaken): string {
  const verdict = p.path === 'direct' ? 'the traffic went straight between the endpoints\' hosts'
    : p.path === 'switch' ? 'the traffic went through the switch host'
      : p.path === 'none' ? 'no packets were encapsulated' : 'part went straight, part through the switch';
  return `${what}: ${n(p.encap)} packets encapsulated, ${n(p.directTx)} sent straight to the peer's host (direct_tx), `
    + `${n(p.switchFwd)} forwarded by the switch host (switch_fwd)${p.stale ? `, ${n(p.stale)} stale (direct_stale)` : ''}: ${verdict}`;
}

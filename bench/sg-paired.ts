// One security-group throughput metric over pairs of phases (sg.ts): the
// rates with and without the group, the per-pair ratio, and the same per
// busy CPU-second; and what a phase reads from /proc. Pure: unit-tested in
// test/unit/bench-report.test.ts.
import { MEDIAN_CONFIDENCE, spreadOf, type Spread } from './spread.js';

export interface SgPaired {
  /** per pair of phases, the rate with the group (100 rules) attached to both endpoints */
  policed: number[];
  /** per pair of phases, the rate with it detached */
  open: number[];
  /** per pair: policed / open */
  ratio: Spread;
  /** per phase, the share of all CPU time busy (user, system, softirq): steal and idle are not */
  policedBusy?: number[];
  openBusy?: number[];
  /**
   * per pair: (policed rate / its busy CPU) / (open rate / its busy CPU): the
   * cost per unit of work done, which time taken by other guests of the host
   * (steal) or an idle moment does not move as it moves the rate
   */
  perBusyCpuRatio?: Spread;
  /**
   * The A/A control: per pair, the ratio of two phases of the same run with
   * the group off and nothing of the measured flow toggled (an attachment
   * record for an address outside it, there / not). Its median's interval
   * must hold 1.0, or the pairs are not independent enough to judge the run on.
   */
  control?: Spread;
  /**
   * Phases that received nothing, by state ('policed', 'open', 'decoy',
   * 'no decoy'): their cycles were left out and measured again (sg.ts).
   */
  emptyPhases?: Record<string, number>;
}

export function sgPaired(policed: number[], open: number[], busy?: { policed: number[]; open: number[] }): SgPaired {
  if (policed.length !== open.length || policed.length === 0) throw new Error(`sg rounds: ${policed.length} policed vs ${open.length} open`);
  if ([...policed, ...open].some((x) => !(x > 0))) throw new Error(`sg rounds: a rate is not positive (${policed.join(',')} / ${open.join(',')})`);
  const paired: SgPaired = { policed, open, ratio: spreadOf(policed.map((x, i) => x / open[i])) };
  if (!busy) return paired;
  if (busy.policed.length !== policed.length || busy.open.length !== open.length) throw new Error('sg rounds: a busy share per phase is missing');
  if ([...busy.policed, ...busy.open].some((x) => !(x > 0 && x <= 1))) {
    throw new Error(`sg rounds: a busy share is not in (0, 1]: policed ${busy.policed.join(',')} / open ${busy.open.join(',')}`);
  }
  return {
    ...paired, policedBusy: busy.policed, openBusy: busy.open,
    perBusyCpuRatio: spreadOf(policed.map((x, i) => (x / busy.policed[i]) / (open[i] / busy.open[i]))),
  };
}

/**
 * The share of all CPU time a run kept busy: user, system and softirq (not
 * idle, not steal). Each share comes rounded to 0.001 (measure.ts cpuShare),
 * so a saturated run can sum past 1 by that rounding: capped at 1.
 */
export const busyShare = (c: { user: number; system: number; softirq: number }) => Math.min(1, c.user + c.system + c.softirq);

/** What the server's namespace has received so far: bytes on its devices but lo (tcp), datagrams delivered to its sockets (udp). */
export function receivedSoFar(metric: 'tcp' | 'udp', procNet: { dev: string; snmp: string }): number {
  if (metric === 'tcp') {
    let bytes = 0;
    for (const line of procNet.dev.split('\n').slice(2)) {
      const m = /^\s*([^:\s]+):\s*(\d+)/.exec(line);
      if (m && m[1] !== 'lo') bytes += Number(m[2]);
    }
    return bytes;
  }
  const [names, values] = procNet.snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  const i = names?.split(/\s+/).indexOf('InDatagrams') ?? -1;
  if (i < 1 || !values) throw new Error('sg bench: no Udp InDatagrams in /proc/net/snmp');
  return Number(values.split(/\s+/)[i]);
}

/** The A/A control's ratios per pair (the phase with the decoy record / the phase without). */
export const controlSpread = (policed: number[], open: number[]): Spread => sgPaired(policed, open).ratio;

/** Why a row cannot be judged on its control (no interval, or 1.0 outside it); undefined when the control agrees. */
export function controlDisagrees(control: Spread | undefined): string | undefined {
  if (!control) return 'no A/A control was measured';
  const sure = `${Math.round(MEDIAN_CONFIDENCE * 100)}%`;
  if (!control.medianInterval) return `the A/A control has only ${control.rounds} pairs, too few to bound its median`;
  const { low, high } = control.medianInterval;
  if (low <= 1 && 1 <= high) return undefined;
  return `the A/A control (nothing of the flow toggled) gave ${control.median.toFixed(3)}, its ${sure} interval ${low.toFixed(3)}-${high.toFixed(3)} `
    + 'leaves out 1.0: neighbouring phases differed by more than the interval allows, so it cannot be trusted on this run';
}

/**
 * Why a row cannot be judged on its empty phases, or undefined: cycles with a
 * phase that received nothing were measured again, so more empty phases with
 * the group than without could be a cost (stalls) the kept cycles hide.
 */
export function emptyPhasesDisagree(empty: Record<string, number> | undefined): string | undefined {
  if (!empty) return undefined;
  const policed = empty.policed ?? 0;
  const open = empty.open ?? 0;
  if (policed <= open) return undefined;
  return `${policed} phases with the group received nothing against ${open} without (their cycles were measured again): `
    + 'leaving them out could hide a cost of the group';
}

/** The empty phases in words, for the report's "why"; '' when there were none. */
export function emptyPhasesText(empty: Record<string, number> | undefined): string {
  const entries = Object.entries(empty ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) return '';
  return `phases that received nothing (cycle measured again): ${entries.map(([k, n]) => `${k} ${n}`).join(', ')}; `;
}

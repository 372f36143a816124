// One security-group throughput metric over alternating rounds (sg.ts): the
// rates with and without the group, the per-round ratio, and the same per
// busy CPU-second. Pure: unit-tested in test/unit/bench-report.test.ts.
import { spreadOf, type Spread } from './spread.js';

export interface SgPaired {
  /** per round, the policed pair (100-rule group on both ends) */
  policed: number[];
  /** per round, the pair without a group */
  open: number[];
  /** per round: policed / open */
  ratio: Spread;
  /** per round, the share of all CPU time busy (user, system, softirq) during each run: steal and idle are not */
  policedBusy?: number[];
  openBusy?: number[];
  /**
   * per round: (policed rate / its busy CPU) / (open rate / its busy CPU): the
   * cost per unit of work done, which time taken by other guests of the host
   * (steal) or an idle moment does not move as it moves the rate
   */
  perBusyCpuRatio?: Spread;
}

export function sgPaired(policed: number[], open: number[], busy?: { policed: number[]; open: number[] }): SgPaired {
  if (policed.length !== open.length || policed.length === 0) throw new Error(`sg rounds: ${policed.length} policed vs ${open.length} open`);
  if ([...policed, ...open].some((x) => !(x > 0))) throw new Error(`sg rounds: a rate is not positive (${policed.join(',')} / ${open.join(',')})`);
  const paired: SgPaired = { policed, open, ratio: spreadOf(policed.map((x, i) => x / open[i])) };
  if (!busy) return paired;
  if (busy.policed.length !== policed.length || busy.open.length !== open.length) throw new Error('sg rounds: a busy share per run is missing');
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

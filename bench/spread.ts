// The spread of a figure measured in several rounds, and whether it is too
// wide to say on which side of a goal the figure lies. Pure: unit-tested in
// test/unit/bench-spread.test.ts.
import { percentile } from './measure.js';

export interface Spread {
  rounds: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  max: number;
  /** (p75 - p25) / median */
  relativeIqr: number;
  /**
   * An interval that holds the true median with at least MEDIAN_CONFIDENCE
   * (rounds as independent draws): two of the sorted rounds, by rank
   * (medianIntervalRanks); absent when there are too few rounds for one.
   */
  medianInterval?: { low: number; high: number };
}

/** How sure the interval around a median must be before a figure is judged against a goal. */
export const MEDIAN_CONFIDENCE = 0.95;

/**
 * The 1-based ranks [k, n - k + 1] of n sorted rounds that bound the median
 * with at least MEDIAN_CONFIDENCE, whatever the rounds' distribution: the
 * interval misses the median only when k - 1 or fewer rounds fall on one side
 * of it, which has probability 2 P(X <= k - 1), X ~ Binomial(n, 1/2). The
 * largest such k; undefined when even [min, max] is not sure enough (n < 6).
 */
export function medianIntervalRanks(n: number): [number, number] | undefined {
  let logPmf = -n * Math.LN2; // ln P(X = 0), in logs: 2^-n underflows past n = 1074
  let cdf = 0;
  let k = 0;
  for (let i = 0; i < (n + 1) / 2; i++) {
    const pmf = Math.exp(logPmf);
    if (2 * (cdf + pmf) > 1 - MEDIAN_CONFIDENCE) break;
    cdf += pmf;
    k = i + 1;
    logPmf += Math.log((n - i) / (i + 1)); // ln P(X = i + 1)
  }
  return k >= 1 ? [k, n - k + 1] : undefined;
}

export function spreadOf(values: number[]): Spread {
  if (values.length === 0) throw new Error('spreadOf: no values');
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`spreadOf: non-finite value in ${values.join(', ')}`);
  const median = percentile(values, 50);
  const p25 = percentile(values, 25);
  const p75 = percentile(values, 75);
  const sorted = [...values].sort((a, b) => a - b);
  const ranks = medianIntervalRanks(values.length);
  return {
    rounds: values.length, min: sorted[0], p25, median, p75, max: sorted[sorted.length - 1],
    relativeIqr: median > 0 ? (p75 - p25) / median : Infinity,
    ...(ranks ? { medianInterval: { low: sorted[ranks[0] - 1], high: sorted[ranks[1] - 1] } } : {}),
  };
}

/**
 * Why the median cannot be judged against `threshold`, or undefined when it
 * can: the interval that holds the true median with MEDIAN_CONFIDENCE must lie
 * wholly on one side of the threshold. The rounds' own spread (a noisy
 * machine) widens that interval; more rounds narrow it.
 */
export function tooWideToJudge(s: Spread, threshold: number): string | undefined {
  const range = `middle half of ${s.rounds} rounds ${s.p25.toFixed(2)}-${s.p75.toFixed(2)}, all ${s.min.toFixed(2)}-${s.max.toFixed(2)}`;
  const sure = `${Math.round(MEDIAN_CONFIDENCE * 100)}%`;
  if (!s.medianInterval) return `only ${s.rounds} round(s); at least 6 are needed to bound the median with ${sure} confidence`;
  const { low, high } = s.medianInterval;
  if (low <= threshold && threshold <= high) {
    return `the goal ${threshold} lies inside the median's ${sure} interval ${low.toFixed(2)}-${high.toFixed(2)} (${range})`;
  }
  return undefined;
}

/** The rounds in words: their range, middle half, and the median's interval when there is one. */
export function spreadText(s: Spread): string {
  const interval = s.medianInterval
    ? `, median ${s.median.toFixed(2)} within ${s.medianInterval.low.toFixed(2)}-${s.medianInterval.high.toFixed(2)} (${Math.round(MEDIAN_CONFIDENCE * 100)}%)`
    : `, median ${s.median.toFixed(2)}`;
  return `per round ${s.min.toFixed(2)}-${s.max.toFixed(2)} (middle half ${s.p25.toFixed(2)}-${s.p75.toFixed(2)})${interval} over ${s.rounds} rounds`;
}

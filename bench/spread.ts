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
}

/** The widest middle half, relative to the median, that still lets a figure be judged. */
export const MAX_RELATIVE_IQR = 0.25;

export function spreadOf(values: number[]): Spread {
  if (values.length === 0) throw new Error('spreadOf: no values');
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`spreadOf: non-finite value in ${values.join(', ')}`);
  const median = percentile(values, 50);
  const p25 = percentile(values, 25);
  const p75 = percentile(values, 75);
  return {
    rounds: values.length, min: Math.min(...values), p25, median, p75, max: Math.max(...values),
    relativeIqr: median > 0 ? (p75 - p25) / median : Infinity,
  };
}

/**
 * Why the spread is too wide to judge the median against `threshold`, or
 * undefined when it can be judged: the middle half of the rounds must be
 * narrower than MAX_RELATIVE_IQR of the median and lie wholly on one side of
 * the threshold.
 */
export function tooWideToJudge(s: Spread, threshold: number): string | undefined {
  const range = `middle half of ${s.rounds} rounds ${s.p25.toFixed(2)}-${s.p75.toFixed(2)}, all ${s.min.toFixed(2)}-${s.max.toFixed(2)}`;
  if (s.rounds < 3) return `only ${s.rounds} round(s); at least 3 are needed to see the spread`;
  if (s.relativeIqr > MAX_RELATIVE_IQR) {
    return `spread too wide: ${range} (${(s.relativeIqr * 100).toFixed(1)}% of the median, limit ${Math.round(MAX_RELATIVE_IQR * 100)}%)`;
  }
  if (s.p25 <= threshold && threshold <= s.p75) return `the goal ${threshold} lies inside the spread: ${range}`;
  return undefined;
}

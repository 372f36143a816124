// The spread of a figure measured in rounds (bench/spread.ts), the interval
// that holds its median with 95% confidence, and when a goal can be judged.
import { describe, expect, it } from 'vitest';
import { MEDIAN_CONFIDENCE, medianIntervalRanks, spreadOf, tooWideToJudge } from '../../bench/spread.js';

/** P(X <= k) for X ~ Binomial(n, 1/2), summed exactly with BigInt. */
function binomialCdf(n: number, k: number): number {
  let c = 1n, sum = 0n;
  for (let i = 0; i <= k; i++) {
    sum += c;
    c = (c * BigInt(n - i)) / BigInt(i + 1);
  }
  return Number(sum) / 2 ** n;
}

describe('bench spread', () => {
  it('summarizes rounds as min, quartiles, median, max', () => {
    const s = spreadOf([2.4, 2.0, 2.2, 2.1, 2.3, 2.6, 2.5, 1.9, 2.8]);
    expect(s).toMatchObject({ rounds: 9, min: 1.9, p25: 2.1, median: 2.3, p75: 2.5, max: 2.8 });
    expect(s.relativeIqr).toBeCloseTo(0.4 / 2.3, 6);
    expect(s.medianInterval).toEqual({ low: 2.0, high: 2.6 }); // ranks 2 and 8 of 9
  });

  it('bounds the median by order statistics: the known ranks, and the largest k whose miss chance is within 5%', () => {
    expect(medianIntervalRanks(5)).toBeUndefined(); // even min-max misses with 2/32 > 5%
    expect(medianIntervalRanks(6)).toEqual([1, 6]);
    expect(medianIntervalRanks(9)).toEqual([2, 8]);
    expect(medianIntervalRanks(15)).toEqual([4, 12]);
    expect(medianIntervalRanks(21)).toEqual([6, 16]);
    expect(medianIntervalRanks(31)).toEqual([10, 22]);
    expect(medianIntervalRanks(2000)).toEqual([956, 1045]); // past where 2^-n underflows
    for (let n = 6; n <= 101; n++) {
      const [k, hi] = medianIntervalRanks(n)!;
      expect(hi).toBe(n - k + 1);
      expect(2 * binomialCdf(n, k - 1)).toBeLessThanOrEqual(1 - MEDIAN_CONFIDENCE);
      expect(2 * binomialCdf(n, k)).toBeGreaterThan(1 - MEDIAN_CONFIDENCE);
    }
  });

  it('judges a median whose interval lies wholly on one side of the goal', () => {
    expect(tooWideToJudge(spreadOf([2.0, 2.1, 2.05, 2.2, 2.15, 2.12, 2.08]), 3)).toBeUndefined();
    expect(tooWideToJudge(spreadOf([3.5, 3.6, 3.55, 3.7, 3.4, 3.45, 3.62]), 3)).toBeUndefined();
  });

  it('does not judge when the goal lies inside the interval, however tight the middle half', () => {
    const s = spreadOf([2.9, 3.05, 2.95, 3.1, 3.0, 2.97, 3.02]);
    expect(tooWideToJudge(s, 3)).toMatch(/^the goal 3 lies inside the median's 95% interval 2\.90-3\.10 \(middle half of 7 rounds/);
  });

  it('more rounds narrow the interval: the same noise, judged with 31 rounds and not with 9', () => {
    // Per-round ratios spread evenly over 0.9-1.5: the 9-round interval is 0.975-1.425, the 31-round one 1.08-1.32.
    const rounds = (n: number) => Array.from({ length: n }, (_, i) => 0.9 + (0.6 * i) / (n - 1));
    expect(tooWideToJudge(spreadOf(rounds(9)), 1.35)).toMatch(/lies inside the median's 95% interval 0\.97-1\.43/);
    expect(spreadOf(rounds(31)).medianInterval).toEqual({ low: expect.closeTo(1.08, 9), high: expect.closeTo(1.32, 9) });
    expect(tooWideToJudge(spreadOf(rounds(31)), 1.35)).toBeUndefined();
  });

  it('needs at least six rounds', () => {
    expect(tooWideToJudge(spreadOf([2, 2, 2, 2, 2]), 3)).toMatch(/only 5 round\(s\); at least 6/);
  });

  it('refuses empty or non-finite rounds', () => {
    expect(() => spreadOf([])).toThrow(/no values/);
    expect(() => spreadOf([1, NaN])).toThrow(/non-finite/);
  });
});

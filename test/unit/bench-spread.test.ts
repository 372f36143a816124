// The spread of a figure measured in rounds (bench/spread.ts), and when it is
// too wide to judge against a goal.
import { describe, expect, it } from 'vitest';
import { MAX_RELATIVE_IQR, spreadOf, tooWideToJudge } from '../../bench/spread.js';

describe('bench spread', () => {
  it('summarizes rounds as min, quartiles, median, max', () => {
    const s = spreadOf([2.4, 2.0, 2.2, 2.1, 2.3, 2.6, 2.5, 1.9, 2.8]);
    expect(s).toMatchObject({ rounds: 9, min: 1.9, p25: 2.1, median: 2.3, p75: 2.5, max: 2.8 });
    expect(s.relativeIqr).toBeCloseTo(0.4 / 2.3, 6);
  });

  it('judges a tight spread wholly on one side of the goal', () => {
    expect(tooWideToJudge(spreadOf([2.0, 2.1, 2.05, 2.2, 2.15]), 3)).toBeUndefined();
    expect(tooWideToJudge(spreadOf([3.5, 3.6, 3.55, 3.7, 3.4]), 3)).toBeUndefined();
  });

  it('does not judge when the middle half is wider than the limit', () => {
    const s = spreadOf([1.5, 2.5, 4.0, 2.0, 3.8]);
    expect(s.relativeIqr).toBeGreaterThan(MAX_RELATIVE_IQR);
    expect(tooWideToJudge(s, 10)).toMatch(/^spread too wide: middle half of 5 rounds/);
  });

  it('does not judge when the goal lies inside the middle half', () => {
    expect(tooWideToJudge(spreadOf([2.9, 3.05, 2.95, 3.1, 3.0]), 3)).toMatch(/the goal 3 lies inside the spread/);
  });

  it('needs at least three rounds', () => {
    expect(tooWideToJudge(spreadOf([2, 2]), 3)).toMatch(/only 2 round/);
  });

  it('refuses empty or non-finite rounds', () => {
    expect(() => spreadOf([])).toThrow(/no values/);
    expect(() => spreadOf([1, NaN])).toThrow(/non-finite/);
  });
});

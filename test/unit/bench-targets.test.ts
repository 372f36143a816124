// The bench's target verdicts (bench/targets.ts): a target is met only when
// its own measurement is there, possible and on the right side of the goal.
import { describe, expect, it } from 'vitest';
import { check, unmeasured } from '../../bench/targets.js';

describe('bench targets: check()', () => {
  it('meets and misses a >= goal on the measured value', () => {
    const met = check('x', 'x', '≥ 1×', 1.2, '×', 1, '>=');
    expect(met).toMatchObject({ status: 'met', met: true, score: 1.2, margin: 'met with 20% to spare' });
    const missed = check('x', 'x', '≥ 1×', 0.5, '×', 1, '>=');
    expect(missed).toMatchObject({ status: 'missed', met: false, score: 0.5 });
    expect(missed.margin).toMatch(/short by 50%/);
  });

  it('meets and misses a <= goal on the measured value', () => {
    expect(check('x', 'x', '≤ 2 s', 1.6, 's', 2, '<=')).toMatchObject({ status: 'met', met: true, score: 1.25 });
    const missed = check('x', 'x', '≤ 2 s', 4, 's', 2, '<=');
    expect(missed).toMatchObject({ status: 'missed', met: false, score: 0.5 });
    expect(missed.margin).toBe('missed: 2.00× the limit');
  });

  it('counts zero and negative values of a <= goal as invalid, never met', () => {
    for (const v of [0, -0.3, -1e9]) {
      const t = check('memory_per_endpoint', 'memory', '≤ 1.1 MB', v, 'MB', 1.1, '<=');
      expect(t.status).toBe('invalid');
      expect(t.met).toBe(false);
      expect(t.score).toBeUndefined();
      expect(t.margin).toMatch(/^invalid: .* cannot be/);
    }
    expect(check('x', 'x', '≥ 1×', 0, '×', 1, '>=').status).toBe('invalid');
    expect(check('x', 'x', '≤ 2 s', Infinity, 's', 2, '<=').status).toBe('invalid');
  });

  it('reports a failed measurement as not measured, with the reason', () => {
    const t = check('pkt', 'p', '≤ 3×', 1.9, '×', 3, '<=', { notMeasured: 'the restoring wrapper could not be built' });
    expect(t).toMatchObject({ status: 'not measured', met: false, margin: 'not measured: the restoring wrapper could not be built' });
    expect(t.measured).toBeUndefined();
    expect(check('pkt', 'p', '≤ 3×', undefined, '×', 3, '<=').status).toBe('not measured');
    expect(check('pkt', 'p', '≤ 3×', NaN, '×', 3, '<=').status).toBe('not measured');
  });

  it('never counts an extrapolated figure as met', () => {
    const t = check('ctl_1m_seconds', '1M', '≤ 2 s', 0.5, 's', 2, '<=', { estimated: true });
    expect(t).toMatchObject({ status: 'estimate', met: false, estimated: true });
    expect(t.margin).toMatch(/^estimate only, never counted as met \(would be within the goal/);
    expect(check('c', 'c', '≤ 2 s', 5, 's', 2, '<=', { estimated: true }).margin).toMatch(/would miss/);
  });

  it('does not judge a figure whose spread is too wide', () => {
    const t = check('pkt', 'p', '≤ 3×', 2.9, '×', 3, '<=', { notJudged: 'spread too wide' });
    expect(t).toMatchObject({ status: 'not judged', met: false, margin: 'not judged: spread too wide' });
  });

  it('rejects a goal that is not a positive number', () => {
    expect(() => check('x', 'x', 'g', 1, '', 0, '<=')).toThrow(/threshold 0/);
  });

  it('unmeasured() picks the targets that make the run fail', () => {
    const ts = [
      check('a', 'a', 'g', 1, '', 2, '<='), check('b', 'b', 'g', undefined, '', 2, '<='),
      check('c', 'c', 'g', -1, '', 2, '<='), check('d', 'd', 'g', 1, '', 2, '<=', { estimated: true }),
      check('e', 'e', 'g', 3, '', 2, '<='),
    ];
    expect(unmeasured(ts).map((t) => t.id)).toEqual(['b', 'c']);
  });
});

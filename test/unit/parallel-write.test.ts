// How a batch of distinct keys is split across kernel threads (src/dataplane/parallel-write.ts).
import { describe, expect, it } from 'vitest';
import { MIN_PART_RECORDS, batchParts, writeThreads } from '../../src/dataplane/parallel-write.js';

describe('a batch split across threads', () => {
  it('equal parts covering every record once, each of at least MIN_PART_RECORDS; else one part', () => {
    expect(batchParts(30_000, 2)).toEqual([[0, 15_000], [15_000, 15_000]]);
    expect(batchParts(30_001, 2)).toEqual([[0, 15_000], [15_000, 15_001]]);
    expect(batchParts(100_000, 4)).toEqual([[0, 25_000], [25_000, 25_000], [50_000, 25_000], [75_000, 25_000]]);
    // too small to split, or to split that many ways
    expect(batchParts(2 * MIN_PART_RECORDS - 1, 2)).toEqual([[0, 2 * MIN_PART_RECORDS - 1]]);
    expect(batchParts(3 * MIN_PART_RECORDS, 4)).toHaveLength(3);
    expect(batchParts(5, 8)).toEqual([[0, 5]]);
    expect(batchParts(0, 2)).toEqual([[0, 0]]);
    expect(batchParts(50_000, 1)).toEqual([[0, 50_000]]);
    for (const [count, threads] of [[1_000_000, 2], [123_457, 3], [40_000, 4]]) {
      const parts = batchParts(count, threads);
      expect(parts.reduce((n, [first, size], i) => {
        expect(first).toBe(n); // contiguous, in order
        if (parts.length > 1) expect(size).toBeGreaterThanOrEqual(MIN_PART_RECORDS);
        return n + size;
      }, 0)).toBe(count);
    }
  });

  it('as many threads as CPUs this process may use, at most the libuv pool', () => {
    const pool = process.env.UV_THREADPOOL_SIZE;
    try {
      process.env.UV_THREADPOOL_SIZE = '1';
      expect(writeThreads()).toBe(1);
      delete process.env.UV_THREADPOOL_SIZE;
      expect(writeThreads()).toBeGreaterThanOrEqual(1);
      expect(writeThreads()).toBeLessThanOrEqual(4);
    } finally {
      if (pool === undefined) delete process.env.UV_THREADPOOL_SIZE;
      else process.env.UV_THREADPOOL_SIZE = pool;
    }
  });
});

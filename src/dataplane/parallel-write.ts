// A batch of map records written by several kernel threads at once. The
// kernel's hash map locks per bucket, so batch updates of different keys from
// two threads run side by side: 1M endpoint records took 0.65-0.89 s on two
// threads against 1.34-1.43 s on one (2-CPU VM, bench/README.md section 3).
// Only a batch whose keys are pairwise distinct may be split: a key written
// twice must keep its last value, which one ordered batch guarantees and two
// threads do not.
import { availableParallelism } from 'node:os';
import type { BpfMap } from './bpf.js';

/** Records per part below which a batch is not split (a thread's hand-off costs more than it saves). */
export const MIN_PART_RECORDS = 8192;

/**
 * The parts [first record, count] a batch of `count` records is written in by
 * `threads` threads: equal parts of at least MIN_PART_RECORDS each, or the
 * whole batch as one part.
 */
export function batchParts(count: number, threads: number): [number, number][] {
  const n = Math.max(1, Math.min(Math.floor(threads), Math.floor(count / MIN_PART_RECORDS)));
  const parts: [number, number][] = [];
  for (let i = 0, first = 0; i < n; i++) {
    const size = Math.floor((count - first) / (n - i));
    parts.push([first, size]);
    first += size;
  }
  return parts;
}

/**
 * Threads for one batch: the CPUs this process may use, at most the libuv
 * pool's size (UV_THREADPOOL_SIZE, 4 by default), which the addon's
 * asynchronous writes run on.
 */
export function writeThreads(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism(), pool));
}

/**
 * Writes `count` records laid end to end (keySize and valueSize bytes each)
 * off the JS thread; split across writeThreads() parts when `distinct` says
 * no key is there twice. Every part is settled before this returns or throws
 * (the first part's error), so a caller's undo never races a write.
 */
export async function writeBatchInParts(map: BpfMap, keys: Buffer, values: Buffer, count: number,
  sizes: { key: number; value: number }, distinct: boolean): Promise<void> {
  const parts = distinct ? batchParts(count, writeThreads()) : [[0, count] as [number, number]];
  if (parts.length === 1) return map.updateBatchAsync(keys, values, count);
  const results = await Promise.allSettled(parts.map(([first, n]) => map.updateBatchAsync(
    keys.subarray(first * sizes.key, (first + n) * sizes.key), values.subarray(first * sizes.value, (first + n) * sizes.value), n)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

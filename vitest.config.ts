import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test touches the kernel (BPF objects, namespaces); keep files in
    // one process at a time so runs stay predictable on a 2-core machine.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/lib/skip-guard-reporter.ts'],
  },
});

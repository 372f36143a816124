import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Most tests touch the kernel (BPF objects, namespaces); keep files in
    // one process at a time so runs stay predictable on a 2-core machine.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/lib/skip-guard-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/unit/**'] } },
      // Pure logic, no kernel, no root (npm run test:unit).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // The packet tests again, on the TC build of the data path (test/xdp/harness.ts).
      { extends: true, test: { name: 'tc', include: ['test/xdp/**/*.test.ts'], env: { XVPC_TEST_HOOK: 'tc' } } },
      // The functional scenarios again on droplets running the XDP data path
      // (droplets default to TC; switch.test.ts names its data paths itself),
      // and the droplet tests, whose checks of the hook differ per data path. The goal-state
      // crash test is about transitd's journal, not the data path, and runs once; so do the
      // control-plane tests (stores, resume, reconcile, leadership).
      {
        extends: true,
        test: {
          name: 'func-xdp', include: ['test/func/**/*.test.ts', 'test/droplet.test.ts'],
          exclude: ['test/func/switch.test.ts', 'test/func/goal-state-crash.test.ts', 'test/func/controlplane-*.test.ts'],
          env: { XVPC_MODE: 'native' },
        },
      },
    ],
  },
});

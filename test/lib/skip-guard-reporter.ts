// Prints a plain "N passed, N failed, N skipped" line (and the files that
// could not run at all: a file that does not load has no tests to count) and,
// when CI=true, fails the run if any test was skipped or left as todo: a
// missing capability must fail loudly, never hide as a skip.
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipGuardReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    const broken = testModules.filter((mod) => mod.errors().length > 0).map((mod) => mod.moduleId);
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped.push(`${mod.moduleId}: ${test.fullName}`);
      }
    }
    console.log(`\nvitest: ${passed} passed, ${failed} failed, ${skipped.length} skipped${broken.length ? `, ${broken.length} file(s) failed to run: ${broken.join(', ')}` : ''}`);
    if (skipped.length > 0 && process.env.CI === 'true') {
      console.error(`CI=true and ${skipped.length} test(s) were skipped:\n  ${skipped.join('\n  ')}`);
      process.exitCode = 1;
    }
  }
}

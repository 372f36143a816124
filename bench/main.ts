// `npm run bench [-- options]`: the entry of the benchmark (see bench/README.md).
// Exit codes: 0 every section ran and every target was measured, 1 a section
// failed or a target could not be measured (unless --keep-going), 2 bad command line.
import { BENCH_USAGE, BenchUsageError, runBench } from './run.js';

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: ${BENCH_USAGE}\n\nSections, levers and targets: bench/README.md`);
  process.exit(0);
}

runBench(args).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof BenchUsageError) {
      console.error(`bench: ${firstLine(err)}\nusage: ${BENCH_USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error(`bench: ${firstLine(err)}`);
    process.exitCode = 1;
  },
);

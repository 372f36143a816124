// `xvpc pingall P`: pings between every pair of endpoints of a run that should reach each other.
import { pingall } from '../scenario/checks.js';
import { requireRun } from '../scenario/runfile.js';
import { type Command, UsageError, checkPrefix, intOpt, parse } from './args.js';

export const pingallCommand: Command = {
  summary: "ping every pair of a run's endpoints that should reach each other (or a sampled fraction)",
  usage: 'xvpc pingall P [--sample F] [--count N] [--seed S] [--parallelism N]',
  example: 'xvpc pingall demo --sample 0.1',
  async run(args) {
    const { values, positionals } = parse(args, {
      sample: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, parallelism: { type: 'string' },
    }, true);
    if (positionals.length !== 1) throw new UsageError('give one prefix');
    const sample = values.sample === undefined ? 1 : Number(values.sample);
    if (!(sample > 0 && sample <= 1)) throw new UsageError(`--sample must be a fraction in (0, 1], not '${values.sample}'`);
    const run = await requireRun(checkPrefix(positionals[0]));
    if (run.state !== 'up') throw new Error(`prefix '${run.prefix}' is ${run.state}, not up`);
    const r = await pingall(run, {
      sample, count: intOpt(values.count, 'count', 1, 100), seed: intOpt(values.seed, 'seed', 0, 2 ** 31),
      parallelism: intOpt(values.parallelism, 'parallelism', 1, 256),
    });
    const rtts = r.pings.filter((p) => p.rttMs !== undefined).map((p) => p.rttMs!).sort((a, b) => a - b);
    const median = rtts.length ? rtts[Math.floor(rtts.length / 2)] : undefined;
    console.log(`${r.result.ok ? 'pass' : 'FAIL'}  ${r.result.detail}${median !== undefined ? `; median RTT ${median.toFixed(3)} ms` : ''}`);
    return r.result.ok ? 0 : 1;
  },
};

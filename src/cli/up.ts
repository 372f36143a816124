// `xvpc up FILE`: brings a scenario up (src/scenario/run.ts) and writes its report.
import { runScenario } from '../scenario/run.js';
import { progressPrinter } from '../scenario/progress.js';
import { type Command, UsageError, checkPrefix, intOpt, listOpt, parse } from './args.js';

export const upCommand: Command = {
  summary: 'bring up a scenario file: droplets, shaping, VPCs, networks, endpoints, checks; writes a report',
  usage: 'xvpc up FILE [--prefix P] [--only STAGE,...] [--skip STAGE,...] [--parallelism N] [--report BASE]\n'
    + '       --prefix: the droplets\' and run\'s name prefix (default: xs)\n'
    + '       stages: droplets, shaping, vpcs, networks, security-groups, endpoints, record, checks',
  example: 'xvpc up examples/basic-switch.yaml --prefix demo',
  async run(args) {
    const { values, positionals } = parse(args, {
      prefix: { type: 'string' }, only: { type: 'string' }, skip: { type: 'string' },
      parallelism: { type: 'string' }, report: { type: 'string' },
    }, true);
    if (positionals.length !== 1) throw new UsageError('give one scenario file');
    const prefix = checkPrefix(values.prefix ?? 'xs');
    const ac = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts > 1) process.exit(130);
      console.error(`\nxvpc up: stopping after the running tasks (Ctrl-C again to quit at once); xvpc down ${prefix} removes what was made`);
      ac.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const r = await runScenario({
        file: positionals[0], prefix, signal: ac.signal, onProgress: progressPrinter(),
        only: listOpt(values.only), skip: listOpt(values.skip),
        parallelism: intOpt(values.parallelism, 'parallelism', 1, 1024), reportBase: values.report,
      });
      for (const c of r.report.checks.results) console.log(`${c.ok ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}`);
      console.log(`${r.report.scenario} is up as prefix ${prefix}: ${r.report.hosts} hosts, ${r.report.endpoints} endpoints, `
        + `ready in ${((r.report.readyMs ?? 0) / 1000).toFixed(2)} s`);
      console.log(`report: ${r.reportFiles.html}`);
      return r.ok ? 0 : 1;
    } catch (err) {
      const files = (err as { reportFiles?: { html: string } }).reportFiles;
      if (files) console.error(`report: ${files.html}`);
      if (ac.signal.aborted) {
        console.error(`xvpc up: interrupted; xvpc down ${prefix} removes what was made`);
        return 130;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

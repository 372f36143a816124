// `xvpc down P`: removes everything a scenario run made under prefix P.
import { cleanupAll } from '../droplet/index.js';
import { readRunFile, refuseWhileUpRuns } from '../scenario/runfile.js';
import { type Command, UsageError, checkPrefix, parse } from './args.js';

export const downCommand: Command = {
  summary: 'remove a scenario run (droplets, endpoints, shaping, run dir) by its prefix',
  usage: 'xvpc down P [--force]   (--force: even while its up is still running)',
  example: 'xvpc down demo',
  async run(args) {
    const { values, positionals } = parse(args, { force: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new UsageError('give one prefix');
    const prefix = checkPrefix(positionals[0]);
    const run = await readRunFile(prefix);
    if (!values.force) refuseWhileUpRuns(prefix, run);
    const t0 = performance.now();
    const s = await cleanupAll(prefix);
    const removed = s.processes.length + s.namespaces.length + s.containers.length + s.pins.length + s.runDirs.length + s.locks.length;
    if (!removed) {
      console.log(`prefix '${prefix}': nothing to remove`);
      return 0;
    }
    console.log(`${prefix} is down${run ? ` (scenario ${run.plan.name})` : ''}: removed ${s.processes.length} transitds, `
      + `${s.namespaces.length} namespaces, ${s.containers.length} containers, ${s.pins.length} pin dirs in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    return 0;
  },
};

// `xvpc cleanup`: removes what crashed runs left behind. Without --prefix it
// touches every prefix, so it asks first when a scenario run is live (or
// needs --force when nobody is there to ask). With --prefix it refuses while
// that prefix's `xvpc up` is still running (as `xvpc down` does), unless --force.
import { createInterface } from 'node:readline/promises';
import { readdir } from 'node:fs/promises';
import { cleanupAll } from '../droplet/index.js';
import { PREFIX_RE, RUN_ROOT } from '../droplet/names.js';
import { readRunFile, refuseWhileUpRuns } from '../scenario/runfile.js';
import { type Command, checkPrefix, parse } from './args.js';

/** Prefixes whose scenario run is up or still starting. */
async function liveRuns(): Promise<string[]> {
  const dirs = (await readdir(RUN_ROOT).catch(() => [] as string[])).filter((d) => PREFIX_RE.test(d));
  const out: string[] = [];
  for (const d of dirs) {
    const run = await readRunFile(d).catch(() => undefined);
    if (run && (run.state === 'up' || run.state === 'starting')) out.push(`${d} (${run.plan.name}, ${run.state})`);
  }
  return out;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export const cleanupCommand: Command = {
  summary: 'remove what crashed runs left behind (namespaces, containers, pins, transitds)',
  usage: 'xvpc cleanup [--prefix P] [--force]   (without --prefix: every prefix; asks first if a scenario run is live; with --prefix: refused while its up still runs; --force: neither)',
  example: 'xvpc cleanup --prefix xt1',
  async run(args) {
    const { values } = parse(args, { prefix: { type: 'string' }, force: { type: 'boolean' } });
    if (values.prefix === undefined && !values.force) {
      const live = await liveRuns();
      if (live.length) {
        const what = `live scenario runs: ${live.join(', ')}`;
        if (!process.stdin.isTTY) throw new Error(`${what}; remove them with xvpc down P, or give --force to remove everything`);
        if (!(await confirm(`${what}\nremove these too? [y/N] `))) {
          console.log('nothing removed');
          return 1;
        }
      }
    }
    if (values.prefix !== undefined && !values.force) {
      const prefix = checkPrefix(values.prefix);
      // Removed under it, a running up would fail its next stage and write its run file again.
      refuseWhileUpRuns(prefix, await readRunFile(prefix).catch(() => undefined));
    }
    const summary = await cleanupAll(values.prefix !== undefined ? checkPrefix(values.prefix) : undefined);
    const parts = Object.entries(summary).filter(([k]) => k !== 'prefixes').map(([k, v]) => `${(v as unknown[]).length} ${k}`);
    console.log(`removed ${parts.join(', ')} (prefixes: ${summary.prefixes.join(', ') || 'none'})`);
    return 0;
  },
};

// The command line of a shared transitd host (host.ts): --control PATH, then
// per droplet --netns NS_PATH --log LOG <transitd args>.
import { parseArgs } from 'node:util';

/** One droplet of a shared host: its name (transitd's --host), namespace path, log and transitd's own arguments. */
export interface HostDroplet { name: string; netns: string; args: string[]; log: string }

/** host.js's arguments (see host.ts): Error naming what is wrong. */
export function parseHostArgs(argv: string[]): { control: string; droplets: HostDroplet[] } {
  const first = argv.indexOf('--netns');
  if (first < 0) throw new Error('no droplet given (--netns NS_PATH --log LOG <transitd args>)');
  const { values } = parseArgs({ args: argv.slice(0, first), options: { control: { type: 'string' } } });
  if (!values.control) throw new Error('--control PATH is required');
  const droplets: HostDroplet[] = [];
  let rest = argv.slice(first);
  while (rest.length > 0) {
    const next = rest.indexOf('--netns', 1);
    const group = next < 0 ? rest : rest.slice(0, next);
    rest = next < 0 ? [] : rest.slice(next);
    if (group[2] !== '--log' || !group[1] || !group[3]) throw new Error(`each droplet is --netns NS_PATH --log LOG <transitd args>, not '${group.slice(0, 4).join(' ')}'`);
    const args = group.slice(4);
    const name = args.includes('--host') ? args[args.indexOf('--host') + 1] : undefined;
    if (!name) throw new Error(`droplet in ${group[1]}: its transitd args have no --host NAME`);
    if (droplets.some((d) => d.name === name)) throw new Error(`droplet '${name}' is given twice`);
    for (const own of ['--listen', '--metrics']) {
      if (args.includes(own)) throw new Error(`droplet '${name}': ${own} is not served by a shared host (its socket would open outside the droplet's namespace)`);
    }
    droplets.push({ name, netns: group[1], log: group[3], args });
  }
  return { control: values.control, droplets };
}

/** The arguments parseHostArgs reads back (src/droplet/shared-host.ts starts a host with them). */
export function hostArgs(control: string, droplets: Omit<HostDroplet, 'name'>[]): string[] {
  return ['--control', control, ...droplets.flatMap((d) => ['--netns', d.netns, '--log', d.log, ...d.args])];
}

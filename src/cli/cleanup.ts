// `xvpc cleanup`: removes what crashed runs left behind.
import { cleanupAll } from '../droplet/index.js';
import { type Command, checkPrefix, parse } from './args.js';

export const cleanupCommand: Command = {
  summary: 'remove what crashed runs left behind (namespaces, containers, pins, transitds)',
  usage: 'xvpc cleanup [--prefix P]',
  example: 'xvpc cleanup --prefix xt1',
  async run(args) {
    const { values } = parse(args, { prefix: { type: 'string' } });
    const summary = await cleanupAll(values.prefix !== undefined ? checkPrefix(values.prefix) : undefined);
    const parts = Object.entries(summary).filter(([k]) => k !== 'prefixes').map(([k, v]) => `${(v as unknown[]).length} ${k}`);
    console.log(`removed ${parts.join(', ')} (prefixes: ${summary.prefixes.join(', ') || 'none'})`);
    return 0;
  },
};

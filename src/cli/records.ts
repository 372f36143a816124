// `xvpc records vpc|net|ep <op>`: the raw records of one host's transitd, as
// its maps hold them (for operators and debugging). `xvpc vpc|net|ep` manage
// the desired state through the Controller instead.
import { type Command, UsageError } from './args.js';
import { epRecordsCommand } from './record-ep.js';
import { netRecordsCommand } from './record-net.js';
import { vpcRecordsCommand } from './record-vpc.js';

const KINDS: Record<string, Command> = { vpc: vpcRecordsCommand, net: netRecordsCommand, ep: epRecordsCommand };

export const recordsCommand: Command = {
  summary: 'raw transitd records of one host (vpc, net, ep): get, list, create, update, delete',
  usage: Object.values(KINDS).map((k) => k.usage).join('\n       '),
  example: 'xvpc records ep list --prefix demo1 --host left --json',
  run(args) {
    const [kind, ...rest] = args;
    if (kind === undefined || kind.startsWith('-')) throw new UsageError(`give a record kind: ${Object.keys(KINDS).join(', ')}`);
    if (!Object.hasOwn(KINDS, kind)) throw new UsageError(`unknown record kind '${kind}' (${Object.keys(KINDS).join(', ')})`);
    return KINDS[kind].run(rest);
  },
};

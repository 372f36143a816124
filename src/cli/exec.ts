// `xvpc exec P ENDPOINT -- CMD`: runs a command inside one endpoint of a run,
// with this terminal's stdin/stdout/stderr, and exits with its status.
import { spawn } from 'node:child_process';
import { requireRun } from '../scenario/runfile.js';
import { endpointArgv, findEndpoint } from '../scenario/target.js';
import { type Command, UsageError, checkPrefix } from './args.js';

export const execCommand: Command = {
  summary: 'run a command inside an endpoint of a scenario run',
  usage: [
    'xvpc exec P ENDPOINT -- CMD [ARG...]   (ENDPOINT: its name, or its IP when unique)',
    '',
    'CMD runs as given. An endpoint in a shared namespace (hosts.endpointNamespace: shared) is',
    'routed by its source address: bind it (ping -I IP, iperf3 -B IP, curl --interface IP).',
  ].join('\n'),
  example: 'xvpc exec demo a -- ping -c 3 10.0.1.3',
  async run(args) {
    const dash = args.indexOf('--');
    const head = dash < 0 ? args : args.slice(0, dash);
    const cmd = dash < 0 ? [] : args.slice(dash + 1);
    if (head.length !== 2) throw new UsageError('give a prefix and an endpoint, then -- and the command');
    if (!cmd.length) throw new UsageError('give the command after --');
    const run = await requireRun(checkPrefix(head[0]));
    const argv = endpointArgv(run, findEndpoint(run, head[1]), cmd, true);
    return new Promise<number>((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  },
};

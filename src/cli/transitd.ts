// `xvpc transitd --print-systemd-unit`: the unit that runs transitd on a real
// host (docs/deploy.md); the daemon itself is dist/transitd/main.js.
import { repoRoot } from '../dataplane/addon.js';
import { systemdUnit } from '../transitd/systemd-unit.js';
import { type Command, UsageError, parse } from './args.js';

const OPTIONS = {
  'print-systemd-unit': { type: 'boolean' }, host: { type: 'string' }, iface: { type: 'string' }, mode: { type: 'string' },
  listen: { type: 'string' }, 'tls-dir': { type: 'string' }, metrics: { type: 'string' },
} as const;

export const transitdCommand: Command = {
  summary: 'print the systemd unit that runs transitd on a real host',
  usage: [
    'xvpc transitd --print-systemd-unit --host NAME --iface IF [--mode native|generic|tc]',
    '              [--listen ADDR:PORT --tls-dir DIR] [--metrics ADDR:PORT]',
    '',
    '--tls-dir holds ca.crt, NAME.crt and NAME.key (xvpc certs). docs/deploy.md has the whole recipe.',
  ].join('\n'),
  example: 'xvpc transitd --print-systemd-unit --host node1 --iface ens5 --listen 10.0.0.11:7443 --tls-dir /etc/xvpc/pki --metrics 10.0.0.11:9464',
  async run(args) {
    const { values } = parse(args, OPTIONS);
    if (!values['print-systemd-unit']) throw new UsageError('only --print-systemd-unit is supported (transitd itself: node dist/transitd/main.js)');
    if (!values.host || !values.iface) throw new UsageError('--host and --iface are required');
    const mode = values.mode ?? 'native';
    if (mode !== 'native' && mode !== 'generic' && mode !== 'tc') throw new UsageError(`--mode must be native, generic or tc, not '${mode}'`);
    if ((values.listen === undefined) !== (values['tls-dir'] === undefined)) throw new UsageError('--listen and --tls-dir go together');
    process.stdout.write(systemdUnit({
      host: values.host, iface: values.iface, mode, node: process.execPath, transitdMain: `${repoRoot}dist/transitd/main.js`,
      listen: values.listen, tlsDir: values['tls-dir']?.replace(/\/+$/, ''), metrics: values.metrics,
    }));
    return 0;
  },
};

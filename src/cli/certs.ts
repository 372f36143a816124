// `xvpc certs`: the CA and certificates transitd's mutual TLS needs, made with
// openssl (src/util/certs.ts). Idempotent for the CA; a certificate is
// re-issued only if asked for again.
import { ensureCa, issueCert } from '../util/certs.js';
import { type Command, UsageError, parse } from './args.js';

const OPTIONS = { dir: { type: 'string' }, host: { type: 'string', multiple: true }, controller: { type: 'string', multiple: true } } as const;

export const certsCommand: Command = {
  summary: 'make the CA, per-host and controller certificates for transitd --listen (mutual TLS, openssl)',
  usage: [
    'xvpc certs --dir DIR [--host NAME[=IP[,IP...]]]... [--controller NAME]...',
    '',
    'Creates DIR/ca.crt and DIR/ca.key unless they exist, then NAME.crt and NAME.key for each',
    'host (its transitd: --tls-ca DIR/ca.crt --tls-cert DIR/NAME.crt --tls-key DIR/NAME.key) and',
    'each controller. Certificates name NAME (and the IPs given); keys and DIR are root-only.',
    'Keep ca.key off the hosts: it signs new certificates.',
  ].join('\n'),
  example: 'xvpc certs --dir /etc/xvpc/pki --host node1=10.0.0.11 --host node2=10.0.0.12 --controller controller',
  async run(args) {
    const { values } = parse(args, OPTIONS);
    if (!values.dir) throw new UsageError('--dir is required');
    const hosts = (values.host ?? []).map((h) => {
      const [name, ips] = h.split('=', 2);
      return { name, ips: ips ? ips.split(',') : [] };
    });
    const controllers = (values.controller ?? []).map((name) => ({ name, ips: [] as string[] }));
    const ca = await ensureCa(values.dir);
    console.log(`${ca.created ? 'created' : 'kept'} CA ${ca.cert}`);
    for (const { name, ips } of [...hosts, ...controllers]) {
      const f = await issueCert(values.dir, name, { ips });
      console.log(`issued ${f.cert} (${[name, ...ips].join(', ')})`);
    }
    return 0;
  },
};

// `xvpc certs`: the CA and certificates transitd's mutual TLS needs, made with
// openssl (src/util/certs.ts). Idempotent for the CA; a certificate is
// re-issued only if asked for again.
import { existsSync } from 'node:fs';
import { certFiles, checkCertSubject, ensureCa, issueCert } from '../util/certs.js';
import { type Command, UsageError, parse } from './args.js';

const OPTIONS = { dir: { type: 'string' }, host: { type: 'string', multiple: true }, controller: { type: 'string', multiple: true } } as const;

export const certsCommand: Command = {
  summary: 'make the CA, per-host and controller certificates for transitd --listen (mutual TLS, openssl)',
  usage: [
    'xvpc certs --dir DIR [--host NAME[=IP[,IP...]]]... [--controller NAME]...',
    '',
    'Creates DIR/ca.crt and DIR/ca.key unless they exist, then NAME.crt and NAME.key for each',
    'host (its transitd: --tls-ca DIR/ca.crt --tls-cert DIR/NAME.crt --tls-key DIR/NAME.key) and',
    'each controller. Certificates name NAME (and the IPs given); keys are root-only, and DIR is',
    'made 0700 (an existing DIR must be writable by no one else, or sticky). A host certificate serves only',
    '(transitd refuses it as a client), a controller certificate only connects. Keep ca.key off',
    'the hosts: it signs new certificates; with ca.crt there and ca.key away, the CA is kept.',
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
    const all = [...hosts.map((h) => ({ ...h, role: 'host' as const })), ...controllers.map((c) => ({ ...c, role: 'controller' as const }))];
    // Every name checked before anything is made; one name is one certificate (a second would overwrite the first).
    for (const { name, ips } of all) checkCertSubject(name, ips);
    const twice = all.map((c) => c.name).find((n, i, names) => names.indexOf(n) !== i);
    if (twice) throw new UsageError(`'${twice}' is named twice: a host and a controller need names of their own`);
    const ca = await ensureCa(values.dir);
    console.log(`${ca.created ? 'created' : 'kept'} CA ${ca.cert}`);
    for (const { name, ips, role } of all) {
      const again = existsSync(certFiles(values.dir, name).cert);
      const f = await issueCert(values.dir, name, role, { ips });
      console.log(`${again ? 're-issued (new key, replacing the old)' : 'issued'} ${f.cert} for a ${role === 'host' ? 'transitd (server)' : 'controller (client)'} (${[name, ...ips].join(', ')})`);
    }
    return 0;
  },
};

// Certificates for transitd's mutual TLS, made with the system's openssl: one
// CA per deployment (ca.crt, ca.key) and one certificate per host or
// controller (<name>.crt, <name>.key) in one directory. Keys are 0600,
// certificates 0644, whatever the umask. Every leaf names its owner (CN and
// DNS SAN), plus any IPs given. A host's certificate is a TLS server's only
// and a controller's a client's only: transitd's TLS (OpenSSL's ssl_client
// purpose) refuses a client whose certificate lacks clientAuth, so a key taken
// from one host cannot drive the others.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../errors.js';
import { must } from './exec.js';
import { ensureTrustedDir, PRIVATE_FILE_MODE } from './private-fs.js';

const PUBLIC_FILE_MODE = 0o644;

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62})$/;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface CertFiles { cert: string; key: string }

export const caFiles = (dir: string): CertFiles => ({ cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') });
export const certFiles = (dir: string, name: string): CertFiles => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });

/** What a certificate is for: a transitd (TLS server) or a controller (TLS client). */
export type CertRole = 'host' | 'controller';
const EXTENDED_KEY_USAGE: Record<CertRole, string> = { host: 'serverAuth', controller: 'clientAuth' };

/**
 * Creates the CA in dir unless it exists; returns its files. A ca.crt without
 * its ca.key (kept offline, as it should be) is kept, never replaced: a new CA
 * would orphan every certificate it signed.
 */
export async function ensureCa(dir: string, opts: { days?: number; name?: string } = {}): Promise<CertFiles & { created: boolean }> {
  ensureTrustedDir(dir, 'dir', { sticky: false }); // a CA or key found there is trusted as ours
  const ca = caFiles(dir);
  if (existsSync(ca.cert)) return { ...ca, created: false };
  if (existsSync(ca.key)) throw invalid(`dir: ${ca.key} is there without ${ca.cert}; restore ca.crt, or remove ca.key to make a new CA`);
  await must(['openssl', 'req', '-x509', ...KEY_ARGS, '-keyout', ca.key, '-out', ca.cert,
    '-days', String(opts.days ?? 3650), '-subj', `/CN=${opts.name ?? 'xvpc-ca'}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  chmodSync(ca.key, PRIVATE_FILE_MODE);
  chmodSync(ca.cert, PUBLIC_FILE_MODE);
  return { ...ca, created: true };
}

/** The name and IPs of a certificate to issue, checked (INVALID_ARGUMENT), before anything is made. */
export function checkCertSubject(name: string, ips: readonly string[] = []): void {
  if (!NAME_RE.test(name) || name === 'ca') throw invalid(`name: '${name}' must be 1-63 of [A-Za-z0-9.-], not 'ca'`);
  for (const ip of ips) {
    const m = IPV4_RE.exec(ip);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) throw invalid(`ip: '${ip}' is not an IPv4 address`);
  }
}

/** Issues <name>.crt/.key in dir for `role`, signed by the CA there (ensureCa first). */
export async function issueCert(dir: string, name: string, role: CertRole, opts: { ips?: string[]; days?: number } = {}): Promise<CertFiles> {
  checkCertSubject(name, opts.ips);
  const ca = caFiles(dir);
  if (!existsSync(ca.cert) || !existsSync(ca.key)) throw invalid(`dir: no CA in ${dir} to sign with (ca.crt and ca.key)`);
  const out = certFiles(dir, name);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const san = [`DNS:${name}`, ...(opts.ips ?? []).map((ip) => `IP:${ip}`)].join(',');
  writeFileSync(ext, [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${EXTENDED_KEY_USAGE[role]}`, `subjectAltName=${san}`, '',
  ].join('\n'), { mode: PRIVATE_FILE_MODE });
  try {
    await must(['openssl', 'req', '-new', ...KEY_ARGS, '-keyout', out.key, '-out', csr, '-subj', `/CN=${name}`]);
    chmodSync(out.key, PRIVATE_FILE_MODE);
    await must(['openssl', 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key,
      '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(opts.days ?? 825), '-extfile', ext, '-out', out.cert]);
    chmodSync(out.cert, PUBLIC_FILE_MODE);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
  return out;
}

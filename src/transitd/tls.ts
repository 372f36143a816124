// Mutual TLS for transitd on TCP: the server presents its host certificate and
// demands one from the client signed by the same CA (grpc-js refuses the
// handshake otherwise, before any call is read). Certificates come from
// `xvpc certs` (src/util/certs.ts).
import * as grpc from '@grpc/grpc-js';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { invalid } from '../errors.js';

/** The three files of one side of an mTLS connection. */
export interface TlsFiles { ca: string; cert: string; key: string }

function read(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalid(`${field}: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * The CA, certificate and key read and checked, each error naming its flag
 * and file (OpenSSL's own words, 'DECODER routines::unsupported', name neither).
 */
function readIdentity(f: TlsFiles): { ca: Buffer; cert: Buffer; key: Buffer } {
  const ca = read(f.ca, 'tls-ca');
  const cert = read(f.cert, 'tls-cert');
  const key = read(f.key, 'tls-key');
  const parse = <T>(what: () => T, field: string, path: string, want: string): T => {
    try {
      return what();
    } catch (err) {
      throw invalid(`${field}: '${path}' is not ${want} (${(err as Error).message})`);
    }
  };
  const caX509 = parse(() => new X509Certificate(ca), 'tls-ca', f.ca, 'a PEM certificate');
  const x509 = parse(() => new X509Certificate(cert), 'tls-cert', f.cert, 'a PEM certificate');
  const pkey = parse(() => createPrivateKey(key), 'tls-key', f.key, 'a PEM private key');
  if (!x509.checkPrivateKey(pkey)) throw invalid(`tls-key: '${f.key}' is not the key of tls-cert '${f.cert}'`);
  // Every handshake would fail on these, each with the peer's words only: said here, at start.
  if (!caX509.ca) throw invalid(`tls-ca: '${f.ca}' is not a CA certificate (no CA:TRUE): give the CA's (ca.crt of 'xvpc certs')`);
  checkValidNow(caX509, 'tls-ca', f.ca);
  checkValidNow(x509, 'tls-cert', f.cert);
  if (!x509.checkIssued(caX509) || !x509.verify(caX509.publicKey)) {
    throw invalid(`tls-cert: '${f.cert}' is not signed by tls-ca '${f.ca}' (issuer ${x509.issuer.replace(/\n/g, ', ')})`);
  }
  return { ca, cert, key };
}

/** A certificate outside its validity period now. */
function checkValidNow(c: X509Certificate, field: string, path: string): void {
  const now = Date.now();
  if (now > Date.parse(c.validTo)) throw invalid(`${field}: '${path}' expired on ${c.validTo}: make new certificates ('xvpc certs')`);
  if (now < Date.parse(c.validFrom)) throw invalid(`${field}: '${path}' is not valid before ${c.validFrom} (is this host's clock right?)`);
}

export function serverCredentials(f: TlsFiles): grpc.ServerCredentials {
  const id = readIdentity(f);
  return grpc.ServerCredentials.createSsl(
    id.ca,
    [{ cert_chain: id.cert, private_key: id.key }],
    true, // checkClientCertificate: no certificate of this CA, no connection
  );
}

/**
 * Client credentials, and the channel option that makes the client check the
 * server's certificate names `serverName` (its host name, whatever address it
 * is reached at).
 */
export function clientCredentials(f: TlsFiles, serverName: string): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  return {
    credentials: ((id) => grpc.credentials.createSsl(id.ca, id.key, id.cert))(readIdentity(f)),
    options: { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName },
  };
}

/** "ADDR:PORT" checked; returns the grpc-js bind address. */
export function listenAddress(raw: string): string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[2]) > 65535) throw invalid(`listen: '${raw}' is not ADDR:PORT (e.g. 172.30.0.2:7443)`);
  return raw;
}

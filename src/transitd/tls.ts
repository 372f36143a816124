// Mutual TLS for transitd on TCP: the server presents its host certificate and
// demands one from the client signed by the same CA (grpc-js refuses the
// handshake otherwise, before any call is read). Certificates come from
// `xvpc certs` (src/util/certs.ts).
import * as grpc from '@grpc/grpc-js';
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

export function serverCredentials(f: TlsFiles): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    read(f.ca, 'tls-ca'),
    [{ cert_chain: read(f.cert, 'tls-cert'), private_key: read(f.key, 'tls-key') }],
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
    credentials: grpc.credentials.createSsl(read(f.ca, 'tls-ca'), read(f.key, 'tls-key'), read(f.cert, 'tls-cert')),
    options: { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName },
  };
}

/** "ADDR:PORT" checked; returns the grpc-js bind address. */
export function listenAddress(raw: string): string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[2]) > 65535) throw invalid(`listen: '${raw}' is not ADDR:PORT (e.g. 172.30.0.2:7443)`);
  return raw;
}

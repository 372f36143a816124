// A host the controller reaches by address only: its transitd on ADDR:PORT
// with mutual TLS. Its underlay address and MAC are what that transitd reports
// for its underlay interface (transitd --iface), asked once through Health.
import { invalid } from '../errors.js';
import { connectTransitd } from '../transitd/client.js';
import { listenAddress, type TlsFiles } from '../transitd/tls.js';
import type { ControllerHost } from './endpoint.js';

export interface RemoteHostSpec {
  /** the host's name: its certificate must name it */
  name: string;
  /** its transitd's --listen address, ADDR:PORT */
  address: string;
  /** the controller's certificate and key, and the CA both sides trust */
  tls: TlsFiles;
}

export async function remoteHost(spec: RemoteHostSpec): Promise<ControllerHost> {
  if (typeof spec?.name !== 'string' || spec.name === '') throw invalid('name: expected the host\'s name');
  const address = listenAddress(spec.address);
  const client = connectTransitd(spec.name, address, 10_000, spec.tls);
  try {
    const h = await client.health({});
    if (h.host !== spec.name) throw invalid(`name: transitd at ${address} is host '${h.host}', not '${spec.name}'`);
    return { id: spec.name, ip: h.ip, mac: h.mac, transitdAddress: address, transitdTls: spec.tls };
  } finally {
    client.close();
  }
}

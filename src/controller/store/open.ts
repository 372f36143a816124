// Which store a Controller uses, from its `store` option (API.md):
//   omitted             the embedded store kept with the droplets' prefix
//                       (/run/xvpc/<prefix>/controller.db), or, for hosts that
//                       have no prefix (remote hosts, fakes), memory only
//   'etcd://h:p[,h:p]'  etcd, keys under xvpc/<prefix or 'default'>/
//   'sqlite:PATH'       an embedded store at PATH
//   'memory'            this process only (the state dies with it)
// The option is checked at once; the store opens later (the etcd client is
// loaded only when etcd is asked for).
import { existsSync } from 'node:fs';
import { invalid } from '../../errors.js';
import { runDir } from '../../droplet/names.js';
import { etcdHosts } from './etcd-url.js';
import { MemoryStore } from './memory.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export const EMBEDDED_STORE_FILE = 'controller.db';

/** The prefix all hosts share, if they are droplets of one prefix. */
function prefixOf(hosts: object[]): string | undefined {
  const prefixes = new Set(hosts.map((h) => (h as { prefix?: unknown }).prefix));
  const [p] = prefixes;
  return prefixes.size === 1 && typeof p === 'string' ? p : undefined;
}

/** Checks `spec` (INVALID_ARGUMENT naming the option) and returns how to open the store it names. */
export function storeOpener(spec: unknown, hosts: object[], opts: { leaseTtlSeconds?: number } = {}): () => Promise<Store> {
  const prefix = prefixOf(hosts);
  if (spec === undefined) {
    return async () => (prefix !== undefined && existsSync(runDir(prefix)) ? new SqliteStore(`${runDir(prefix)}/${EMBEDDED_STORE_FILE}`) : new MemoryStore());
  }
  if (typeof spec !== 'string') throw invalid("store: expected 'etcd://host:port[,host:port...]', 'sqlite:PATH' or 'memory'");
  if (spec === 'memory') return async () => new MemoryStore();
  if (spec.startsWith('sqlite:') && spec.length > 'sqlite:'.length) return async () => new SqliteStore(spec.slice('sqlite:'.length));
  if (spec.startsWith('etcd://')) {
    etcdHosts(spec);
    return async () => {
      const { EtcdStore } = await import('./etcd.js');
      const store = new EtcdStore(spec, prefix ?? 'default', opts.leaseTtlSeconds);
      store.startCampaign();
      return store;
    };
  }
  throw invalid(`store: '${spec}' is not 'etcd://host:port[,host:port...]', 'sqlite:PATH' or 'memory'`);
}

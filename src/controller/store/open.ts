// Which store a Controller uses, from its `store` option (API.md):
//   omitted             the embedded store kept with the droplets' prefix
//                       (/run/xvpc/<prefix>/controller.db), or, for hosts that
//                       have no prefix (remote hosts, fakes), memory only
//   'etcd://h:p[,h:p]'  etcd, keys under xvpc/<prefix or 'default'>/
//   'sqlite:PATH'       an embedded store at PATH
//   'memory'            this process only (the state dies with it)
import { existsSync } from 'node:fs';
import { invalid } from '../../errors.js';
import { runDir } from '../../droplet/names.js';
import { EtcdStore } from './etcd.js';
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

export function openStore(spec: unknown, hosts: object[], opts: { leaseTtlSeconds?: number } = {}): Store {
  const prefix = prefixOf(hosts);
  if (spec === undefined) {
    return prefix !== undefined && existsSync(runDir(prefix)) ? new SqliteStore(`${runDir(prefix)}/${EMBEDDED_STORE_FILE}`) : new MemoryStore();
  }
  if (typeof spec !== 'string') throw invalid("store: expected 'etcd://host:port[,host:port...]', 'sqlite:PATH' or 'memory'");
  if (spec === 'memory') return new MemoryStore();
  if (spec.startsWith('sqlite:') && spec.length > 'sqlite:'.length) return new SqliteStore(spec.slice('sqlite:'.length));
  if (spec.startsWith('etcd://')) {
    const store = new EtcdStore(spec, prefix ?? 'default', opts.leaseTtlSeconds);
    store.startCampaign();
    return store;
  }
  throw invalid(`store: '${spec}' is not 'etcd://host:port[,host:port...]', 'sqlite:PATH' or 'memory'`);
}

// The etcd store's address, checked without loading the etcd client (a
// second of start-up for every CLI command that does not use etcd).
import { invalid } from '../../errors.js';

/** 'etcd://host:port[,host:port...]' -> ['host:port', ...] */
export function etcdHosts(url: string): string[] {
  const m = /^etcd:\/\/(.+)$/.exec(url);
  const hosts = m ? m[1].split(',') : [];
  if (!hosts.length || hosts.some((h) => !/^[\w.-]+:\d{1,5}$/.test(h))) {
    throw invalid(`store: '${url}' is not etcd://host:port[,host:port...]`);
  }
  return hosts;
}

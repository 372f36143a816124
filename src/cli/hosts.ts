// Finding a droplet's pieces from the records a run leaves in /run/xvpc/<prefix>
// (the CLI runs apart from the process that made the droplets).
import { readFile } from 'node:fs/promises';
import { endpointNames } from '../transitd/plumbing.js';
import { docker } from '../droplet/docker.js';
import { dropletNs, metaPath, pinRoot, underlayNs } from '../droplet/names.js';
import type { DropletRecord } from '../droplet/records.js';
import { assertDroplet } from './args.js';
import { namedNetnsPath } from '../util/netns.js';

export interface HostRef {
  record: DropletRecord;
  prefix: string;
  pinRoot: string;
  /** the droplet's network namespace as a path on this machine */
  netnsPath(): Promise<string>;
  /** a namespace living on the droplet (e.g. an endpoint's) as a path on this machine */
  namespacePath(ns: string): Promise<string>;
  /** where transitd put endpoint (vni, ip) on this droplet: its namespace and its own device there */
  endpointLink(vni: number, ip: string): { netns: string; device: string };
}

export async function findHost(prefix: string, name: string): Promise<HostRef> {
  await assertDroplet(prefix, name);
  const record = JSON.parse(await readFile(metaPath(prefix, name), 'utf8')) as DropletRecord;
  const containerPid = async (): Promise<number> => {
    const info = await docker().getContainer(record.container ?? `${prefix}-${name}`).inspect();
    if (!info.State.Pid) throw new Error(`container of droplet '${name}' is not running`);
    return info.State.Pid;
  };
  return {
    record,
    prefix,
    pinRoot: pinRoot(prefix, name),
    netnsPath: async () => (record.backend === 'docker' ? `/proc/${await containerPid()}/ns/net` : namedNetnsPath(record.ns ?? dropletNs(prefix, name))),
    namespacePath: async (ns) => (record.backend === 'docker' ? `/proc/${await containerPid()}/root/run/netns/${ns}` : namedNetnsPath(ns)),
    endpointLink: (vni, ip) => {
      const names = endpointNames(dropletNs(prefix, name), vni, ip, false, record.endpointNamespace ?? 'own');
      return { netns: names.netns, device: names.peer };
    },
  };
}

export const underlayNetnsPath = (prefix: string): string => namedNetnsPath(underlayNs(prefix));

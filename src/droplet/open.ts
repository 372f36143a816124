// openDroplets: the droplets of a prefix that an earlier process made, as
// Droplet objects again (from the records in /run/xvpc/<prefix>), so a new
// process can drive them: a Controller over them resumes from its store.
import { XvpcError } from '../errors.js';
import { DockerDroplet } from './docker.js';
import { DEFAULT_DROPLET_MODE, DEFAULT_IMAGE, DEFAULT_UNDERLAY_MTU } from './droplet.js';
import { validatePrefix } from './names.js';
import { NetnsDroplet } from './netns.js';
import { listRecords } from './records.js';
import type { Droplet, DropletSpec } from './types.js';

export async function openDroplets(opts: { prefix: string; transitdTimeoutMs?: number }): Promise<Record<string, Droplet>> {
  if (typeof opts !== 'object' || opts === null) throw new XvpcError('INVALID_ARGUMENT', 'opts: expected { prefix }');
  const prefix = validatePrefix(opts.prefix);
  const records = (await listRecords(prefix)).sort((a, b) => a.name.localeCompare(b.name));
  if (records.length === 0) throw new XvpcError('NOT_FOUND', `prefix: no droplets in prefix '${prefix}'`);
  const out: Record<string, Droplet> = {};
  for (const r of records) {
    const spec: DropletSpec = {
      prefix, name: r.name, index: r.index, ip: r.ip, mac: r.mac, mtu: r.mtu ?? DEFAULT_UNDERLAY_MTU,
      transitdTimeoutMs: opts.transitdTimeoutMs ?? 15_000, image: r.image ?? DEFAULT_IMAGE, mode: r.mode ?? DEFAULT_DROPLET_MODE,
      transitdTls: r.transitdTls, transitdMetricsPort: r.transitdMetricsPort, sharedTransitd: r.transitd === 'shared',
      endpointNamespace: r.endpointNamespace ?? 'own',
    };
    const d = r.backend === 'docker' ? new DockerDroplet(spec) : new NetnsDroplet(spec);
    await d.adoptTransitd();
    out[r.name] = d;
  }
  return out;
}

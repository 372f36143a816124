// Droplets: emulated hosts for xvpc, one per name, all on one underlay bridge
// per prefix. createDroplets makes them (netns.ts or docker.ts); what a
// Droplet offers is in types.ts.
import type { AttachMode } from '../dataplane/host.js';
import type { CreateDropletsOptions, Droplet, DropletSpec } from './types.js';
import { alreadyExists, failedPrecondition, invalid } from '../errors.js';
import { ATTACH_MODES, hookOf } from '../dataplane/host.js';
import { listNamespaces } from '../util/netns.js';
import { checkPrerequisites } from '../util/prereq.js';
import { DockerDroplet, dockerPreflight } from './docker.js';
import {
  dropletNs, underlayIp, underlayMac, validateNames, validatePrefix,
} from './names.js';
import { NetnsDroplet } from './netns.js';
import { ensureRunDir, freeIndexes, listRecords } from './records.js';
import { spawnSharedHost } from './shared-host.js';
import { assertTransitdBuilt, transitdHostMain } from './transitd.js';
import { ensureUnderlay } from './underlay.js';
import { raiseNeighbourLimits } from './neighbour-limits.js';
import { withPrefixLock } from './lock.js';
import { ENDPOINT_NAMESPACE_MODES } from '../transitd/shared-plumbing.js';

const DEFAULT_PREFIX = 'xvpc';
/** Jumbo frames, as cloud underlays run: endpoints get 9000 minus the
 * encapsulation, and every XDP program is frags-aware so veths allow it.
 * (TCP through the overlay: 2.0 Gbit/s at 1500, 6.9 at 9000, measured.) */
export const DEFAULT_UNDERLAY_MTU = 9000;
export const DEFAULT_IMAGE = 'xvpc-buildbox:latest';
/** TCP through a switch on a third droplet: 16.7 Gbit/s on TC, 6.6 on native XDP (npm run bench). */
export const DEFAULT_DROPLET_MODE: AttachMode = 'tc';
const PARALLEL_PLUMBING = 8;
const PARALLEL_TRANSITD = 4; // node start-up and BPF loading are CPU-bound
/** A shared host loads its droplets' programs on one thread, one after another: the last waits for all
 * before it, so each droplet's wait is transitdTimeoutMs per this many droplets of the call. */
const SHARED_PER_TIMEOUT = 4;

/** Runs fn over items, at most `limit` at a time; rejects with the first error once all settled. */
async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}

/**
 * Creates one droplet per name, plugged into `<prefix>-ul`, each running
 * transitd (a process each, or with transitd 'shared' one process for all).
 * All or nothing: on failure, whatever was made is removed again.
 */
export async function createDroplets(names: string[], opts: CreateDropletsOptions = {}): Promise<Record<string, Droplet>> {
  validateNames(names);
  const prefix = validatePrefix(opts.prefix ?? DEFAULT_PREFIX);
  const backend = opts.backend ?? 'netns';
  if (backend !== 'netns' && backend !== 'docker') throw invalid(`backend: '${String(backend)}' is not 'netns' or 'docker'`);
  const mode = (opts.mode ?? process.env.XVPC_MODE ?? DEFAULT_DROPLET_MODE) as AttachMode;
  if (!ATTACH_MODES.includes(mode)) throw invalid(`mode: '${mode}' is not one of ${ATTACH_MODES.join(', ')}`);
  const mtu = opts.mtu ?? DEFAULT_UNDERLAY_MTU;
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) throw invalid(`mtu: ${mtu} is not an integer in 1280..65535`);
  const withTransitd = opts.transitd ?? true;
  if (withTransitd !== true && withTransitd !== false && withTransitd !== 'shared') {
    throw invalid(`transitd: '${String(withTransitd)}' is not true, false or 'shared'`);
  }
  if (withTransitd === 'shared' && backend !== 'netns') throw invalid(`transitd: 'shared' is for netns droplets only, not '${backend}'`);
  if (withTransitd === 'shared' && (opts.transitdTls || opts.transitdMetricsPort)) {
    throw invalid(`transitd: 'shared' serves no ${opts.transitdTls ? 'transitdTls' : 'transitdMetricsPort'} (its socket would open outside the droplet's namespace)`);
  }
  const endpointNamespace = opts.endpointNamespace ?? 'own';
  if (!ENDPOINT_NAMESPACE_MODES.includes(endpointNamespace)) {
    throw invalid(`endpointNamespace: '${String(endpointNamespace)}' is not one of ${ENDPOINT_NAMESPACE_MODES.map((m) => `'${m}'`).join(', ')}`);
  }
  if (endpointNamespace === 'shared' && backend !== 'netns') throw invalid(`endpointNamespace: 'shared' is for netns droplets only, not '${backend}'`);
  const image = opts.image ?? DEFAULT_IMAGE;
  // Before the lock, whose file needs root too: a missing prerequisite is named, not an EPERM.
  checkPrerequisites();
  // From the check that the names are free to the last droplet made.
  return withPrefixLock(prefix, () => createLocked(names, opts, prefix, backend, mode, mtu, withTransitd, image));
}

async function createLocked(names: string[], opts: CreateDropletsOptions, prefix: string, backend: 'netns' | 'docker',
  mode: AttachMode, mtu: number, withTransitd: boolean | 'shared', image: string): Promise<Record<string, Droplet>> {

  // Everything that can be refused is checked before anything is made.
  if (withTransitd) assertTransitdBuilt();
  if (backend === 'docker') await dockerPreflight(prefix, names, image);
  const records = await listRecords(prefix);
  // One data path per underlay. TC endpoints leave their TCP/UDP checksums to
  // offload; on veths nothing finishes them before an XDP host turns the
  // packet into an XDP frame, which loses that state: the receiver drops it.
  const other = records.filter((r) => r.mode && hookOf(r.mode) !== hookOf(mode));
  if (other.length) {
    throw failedPrecondition(`mode: prefix '${prefix}' already has droplets on the ${hookOf(other[0].mode!)} data path `
      + `(${other.map((r) => r.name).join(', ')}), and '${mode}' is ${hookOf(mode)}: TC endpoints leave checksums to offload, `
      + 'which XDP hosts on veths cannot finish; use one data path per prefix');
  }
  const existing = new Set(records.map((r) => r.name));
  const namespaces = new Set(await listNamespaces());
  for (const name of names) {
    if (existing.has(name)) throw alreadyExists(`droplet '${name}' already exists in prefix '${prefix}'`);
    if (namespaces.has(dropletNs(prefix, name))) {
      throw alreadyExists(`namespace '${dropletNs(prefix, name)}' exists (left by an earlier run? cleanupAll('${prefix}') removes it)`);
    }
  }

  await ensureRunDir(prefix);
  await ensureUnderlay(prefix);
  await raiseNeighbourLimits();
  const indexes = freeIndexes(records.map((r) => r.index), names.length);
  const droplets = names.map((name, i) => {
    const spec: DropletSpec = {
      prefix, name, index: indexes[i], ip: underlayIp(indexes[i]), mac: underlayMac(indexes[i]), mtu,
      transitdTimeoutMs: (opts.transitdTimeoutMs ?? 15_000) * (withTransitd === 'shared' ? Math.ceil(names.length / SHARED_PER_TIMEOUT) : 1), image, mode, transitdTls: opts.transitdTls, transitdMetricsPort: opts.transitdMetricsPort,
      sharedTransitd: withTransitd === 'shared', endpointNamespace: opts.endpointNamespace ?? 'own',
    };
    return backend === 'docker' ? new DockerDroplet(spec) : new NetnsDroplet(spec);
  });

  const made: (NetnsDroplet | DockerDroplet)[] = [];
  try {
    await eachLimit(droplets, PARALLEL_PLUMBING, async (d) => {
      made.push(d); // before setup: a half-made droplet is torn down too
      await d.setup();
    });
    if (withTransitd === 'shared') {
      // One host process for all of them; each startTransitd then waits for its own transitd in it.
      const netns = droplets as NetnsDroplet[];
      const pid = await spawnSharedHost(transitdHostMain(), netns.map((d) => d.sharedMember()));
      for (const d of netns) d.joinHost(pid);
    }
    if (withTransitd) await eachLimit(droplets, PARALLEL_TRANSITD, (d) => d.startTransitd());
  } catch (err) {
    await eachLimit(made, PARALLEL_PLUMBING, (d) => d.destroy()).catch(() => undefined);
    throw err;
  }
  return Object.fromEntries(droplets.map((d) => [d.id, d as Droplet]));
}

/** Destroys droplets (a record as createDroplets returns, or a list). Idempotent. */
export async function destroyDroplets(droplets: Record<string, Droplet> | Droplet[]): Promise<void> {
  const list = Array.isArray(droplets) ? droplets : Object.values(droplets);
  await eachLimit(list, PARALLEL_PLUMBING, (d) => d.destroy());
}

// Droplets: emulated hosts for xvpc, one per name, all on one underlay bridge
// per prefix. The `Droplet` interface is the public contract (API.md) plus
// what the controller, the tests and the tools need to drive a host.
import type { HealthReply } from '../gen/transit.js';
import type { Capture } from '../capture/session.js';
import type { XdpAction } from '../capture/program.js';
import { alreadyExists, failedPrecondition, invalid } from '../errors.js';
import { ATTACH_MODES, hookOf, type AttachMode } from '../dataplane/host.js';
import { listNamespaces } from '../util/netns.js';
import { DockerDroplet, dockerPreflight } from './docker.js';
import {
  dropletNs, underlayIp, underlayMac, validateNames, validatePrefix,
} from './names.js';
import { NetnsDroplet } from './netns.js';
import { ensureRunDir, freeIndexes, listRecords } from './records.js';
import { assertTransitdBuilt } from './transitd.js';
import { ensureUnderlay } from './underlay.js';

export type DropletBackend = 'netns' | 'docker';
export interface RunOptions { timeoutMs?: number }
export interface RunResult { code: number; stdout: string; stderr: string }

export interface Droplet {
  readonly id: string;               // the name given
  readonly ip: string;               // underlay IPv4 of its eth0
  readonly mac: string;              // MAC of its eth0
  run(cmd: string[], opts?: RunOptions): Promise<RunResult>;
  stats(): Promise<Record<string, number>>;   // data-plane counters of this host, summed over CPUs
  destroy(): Promise<void>;

  readonly backend: DropletBackend;
  /** How its transitd hooks the data path in (native/generic XDP, or tc). */
  readonly mode: AttachMode;
  readonly prefix: string;
  /** grpc-js address of this droplet's transitd: unix:///run/xvpc/<prefix>/<name>.sock */
  readonly transitdAddress: string;
  /** With transitdTls: its TCP address (ip:port, mutual TLS), reachable from the underlay. */
  readonly transitdTcpAddress: string | undefined;
  /** With transitdMetricsPort: where its metrics are, reachable from the underlay and inside the droplet. */
  readonly metricsUrl: string | undefined;
  /** The droplet's network namespace as a path valid on this machine (for setns / the addon's netnsPath). */
  readonly netnsPath: string;
  /** Underlay namespace and this droplet's bridge port in it (for captures on the wire). */
  readonly underlayNs: string;
  readonly underlayPort: string;
  /** Where transitd pins this host's maps and programs. */
  readonly pinRoot: string;
  /** transitd's stdout/stderr. */
  readonly logPath: string;
  /** transitd's pid (a host pid for netns, a container pid for docker), while it runs. */
  readonly transitdPid: number | undefined;

  startTransitd(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stopTransitd(): Promise<void>;
  restartTransitd(): Promise<void>;
  /** transitd's Health reply (throws if it does not answer). */
  health(): Promise<HealthReply>;
  /** Runs cmd inside a network namespace that lives on this droplet (e.g. an endpoint's). */
  netnsRun(ns: string, cmd: string[], opts?: RunOptions): Promise<RunResult>;
  /** Path, valid on this machine, of a network namespace that lives on this droplet (e.g. an endpoint's). */
  namespacePath(ns: string): string;
  /**
   * Captures this host's packets: by default where they leave its data-path
   * programs (the capture hook of its XDP or TC build), per verdict, filtered in the kernel by a tcpdump
   * expression; with `iface`, on that interface through libpcap. An async
   * iterator of decoded packets; stop() ends it.
   */
  capture(opts?: DropletCaptureOptions): Capture;
}

export interface DropletCaptureOptions {
  /** tcpdump expression (e.g. 'geneve and icmp'); default every packet */
  filter?: string;
  /** verdicts to capture (hook captures, named as XDP's on both builds); default all five */
  actions?: readonly XdpAction[];
  /** bytes kept per packet */
  snaplen?: number;
  /** capture on this interface through libpcap instead of the capture hook */
  iface?: string;
  /** with iface: the namespace on this droplet it lives in (e.g. an endpoint's); default the droplet's own */
  netns?: string;
  /** hook captures: take the slots even if another live capture holds them */
  force?: boolean;
}

export interface CreateDropletsOptions {
  backend?: DropletBackend;
  /** ≤ 6 characters of [a-z0-9]; keeps concurrent runs apart. Default 'xvpc'. */
  prefix?: string;
  /** Start transitd in every droplet (default true). false gives bare plumbing, for tests of it. */
  transitd?: boolean;
  /** MTU of the underlay (eth0 and its bridge port); default DEFAULT_UNDERLAY_MTU. */
  mtu?: number;
  /** How long to wait for each transitd to answer Health; default 15 s. */
  transitdTimeoutMs?: number;
  /** docker backend: the image to run; default xvpc-buildbox:latest. */
  image?: string;
  /**
   * How each transitd hooks the data path in (transitd --mode): tc (the
   * default here, or env XVPC_MODE), native or generic XDP. A droplet is made
   * of veths, where the TC build keeps GSO end to end and XDP cannot
   * (native/bpf/hook_tc.h; `npm run bench` compares both). transitd on a host
   * with a real NIC defaults to native XDP.
   */
  mode?: AttachMode;
  /**
   * Each transitd also listens on TCP, at <droplet ip>:port inside its
   * namespace, with mutual TLS from `dir` (ca.crt, <name>.crt, <name>.key:
   * `xvpc certs --dir DIR --host NAME=IP`).
   */
  transitdTls?: TransitdTls;
  /** Each transitd serves Prometheus metrics at http://<droplet ip>:port/metrics (inside its namespace). */
  transitdMetricsPort?: number;
}

export interface TransitdTls { dir: string; port: number }

/** Settings a backend gets for one droplet. */
export interface DropletSpec {
  prefix: string;
  name: string;
  index: number;
  ip: string;
  mac: string;
  mtu: number;
  transitdTimeoutMs: number;
  image: string;
  mode: AttachMode;
  transitdTls?: TransitdTls;
  transitdMetricsPort?: number;
}

const DEFAULT_PREFIX = 'xvpc';
/** Jumbo frames, as cloud underlays run: endpoints get 9000 minus the
 * encapsulation, and every XDP program is frags-aware so veths allow it.
 * (TCP through the overlay: 2.0 Gbit/s at 1500, 6.9 at 9000, measured.) */
export const DEFAULT_UNDERLAY_MTU = 9000;
const DEFAULT_IMAGE = 'xvpc-buildbox:latest';
/** TCP through a switch on a third droplet: 16.7 Gbit/s on TC, 6.6 on native XDP (npm run bench). */
export const DEFAULT_DROPLET_MODE: AttachMode = 'tc';
const PARALLEL_PLUMBING = 8;
const PARALLEL_TRANSITD = 4; // node start-up and BPF loading are CPU-bound

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
 * transitd. All or nothing: on failure, whatever was made is removed again.
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
  const image = opts.image ?? DEFAULT_IMAGE;

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
  const indexes = freeIndexes(records.map((r) => r.index), names.length);
  const droplets = names.map((name, i) => {
    const spec: DropletSpec = {
      prefix, name, index: indexes[i], ip: underlayIp(indexes[i]), mac: underlayMac(indexes[i]), mtu,
      transitdTimeoutMs: opts.transitdTimeoutMs ?? 15_000, image, mode, transitdTls: opts.transitdTls, transitdMetricsPort: opts.transitdMetricsPort,
    };
    return backend === 'docker' ? new DockerDroplet(spec) : new NetnsDroplet(spec);
  });

  const made: (NetnsDroplet | DockerDroplet)[] = [];
  try {
    await eachLimit(droplets, PARALLEL_PLUMBING, async (d) => {
      made.push(d); // before setup: a half-made droplet is torn down too
      await d.setup();
    });
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

// What a droplet is, as the public contract (API.md) and the backends see it:
// the Droplet interface, its options and the spec a backend builds one from.
// Types only, so the backends and createDroplets can all import it.
import type { HealthReply } from '../gen/transit.js';
import type { RunResult } from '../util/exec.js';
import type { Capture } from '../capture/session.js';
import type { XdpAction } from '../capture/program.js';
import type { AttachMode } from '../dataplane/host.js';
import type { EndpointNamespaceMode } from '../transitd/shared-plumbing.js';

export type { EndpointNamespaceMode };

export type { RunResult };
export type DropletBackend = 'netns' | 'docker';
export interface RunOptions { timeoutMs?: number }

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
  /** Where its transitd puts endpoints: a namespace each ('own') or all in one (`shared`, CreateDropletsOptions.endpointNamespace). */
  readonly endpointNamespace: EndpointNamespaceMode;
  /** transitd's pid (a host pid for netns, a container pid for docker), while it runs; with transitd 'shared', the host process's (the same for every droplet of the createDroplets call). */
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
  /**
   * Start transitd in every droplet (default true: a process each). false
   * gives bare plumbing, for tests of it. 'shared' (netns backend only): one
   * process for the droplets of this call, each droplet's transitd served in
   * it inside the droplet's namespace (src/transitd/host.ts), to save the
   * ~18 MB of Node a process per droplet costs; stopping, restarting or
   * destroying one droplet acts on its transitd only. Not with transitdTls or
   * transitdMetricsPort.
   */
  transitd?: boolean | 'shared';
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
  /**
   * netns backend only. 'own' (default): every endpoint is a network namespace
   * of its own (~310 kB of kernel memory). 'shared': all endpoints of a droplet
   * share one namespace `<prefix>-<name>-eps`, each with its veth pair and a
   * source rule that sends what is bound to its address through its own veth
   * (~90 kB; transitd --endpoint-namespace shared, docs/emulation.md "Memory").
   * Commands run as such an endpoint must bind its address (ping -I IP,
   * iperf3 -B IP, servers listening on IP); two endpoints with the same IP in
   * different VPCs cannot be on one such droplet (FAILED_PRECONDITION).
   */
  endpointNamespace?: EndpointNamespaceMode;
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
  /** netns backend: transitd runs in a shared host process (createDroplets' transitd: 'shared'). */
  sharedTransitd?: boolean;
  /** netns backend: its endpoints' namespaces (createDroplets' endpointNamespace; default 'own'). */
  endpointNamespace?: EndpointNamespaceMode;
}

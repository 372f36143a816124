// What both backends share: identity, the transitd channel and lifecycle
// (start, stop, restart, health, stats) and the order of teardown. A backend
// supplies its plumbing and how to run a process inside the droplet.
import { rm } from 'node:fs/promises';
import { XvpcError, invalid } from '../errors.js';
import { type Capture, PcapCapture, XdpCapture, hookPath } from '../capture/session.js';
import type { HealthReply } from '../gen/transit.js';
import type { Droplet, DropletBackend, DropletCaptureOptions, DropletSpec, EndpointNamespaceMode, RunOptions, RunResult } from './types.js';
import {
  grpcAddress, logPath, pinRoot, portName, runDir, socketPath, underlayNs,
} from './names.js';
import { cmdlineHas, isRunning, stopProcess } from './process.js';
import { listRecords, readPid, removePid, removeRecord, writePid, writeRecord } from './records.js';
import type { AttachMode } from '../dataplane/host.js';
import { TransitdChannel, assertTransitdBuilt, waitHealthy, type TransitdNet } from './transitd.js';
import { deleteUnderlay, removePort } from './underlay.js';

/** Once the last droplet of a prefix is gone, its underlay and run dir go too. */
export async function releasePrefixIfUnused(prefix: string): Promise<void> {
  if ((await listRecords(prefix)).length > 0) return;
  await deleteUnderlay(prefix);
  await rm(runDir(prefix), { recursive: true, force: true });
}

export abstract class BaseDroplet implements Droplet {
  abstract readonly backend: DropletBackend;
  abstract readonly netnsPath: string;
  readonly id: string;
  readonly prefix: string;
  readonly ip: string;
  readonly mac: string;
  readonly transitdAddress: string;
  readonly transitdTcpAddress: string | undefined;
  readonly metricsUrl: string | undefined;
  readonly underlayNs: string;
  readonly underlayPort: string;
  readonly pinRoot: string;
  readonly logPath: string;
  protected pid: number | undefined;
  protected readonly channel: TransitdChannel;
  private destroyed = false;

  constructor(protected readonly spec: DropletSpec) {
    this.id = spec.name;
    this.prefix = spec.prefix;
    this.ip = spec.ip;
    this.mac = spec.mac;
    this.transitdAddress = grpcAddress(spec.prefix, spec.name);
    this.transitdTcpAddress = spec.transitdTls ? `${spec.ip}:${spec.transitdTls.port}` : undefined;
    this.metricsUrl = spec.transitdMetricsPort ? `http://${spec.ip}:${spec.transitdMetricsPort}/metrics` : undefined;
    this.underlayNs = underlayNs(spec.prefix);
    this.underlayPort = portName(spec.name);
    this.pinRoot = pinRoot(spec.prefix, spec.name);
    this.logPath = logPath(spec.prefix, spec.name);
    this.channel = new TransitdChannel(this.transitdAddress);
  }

  get mode(): AttachMode { return this.spec.mode; }

  get endpointNamespace(): EndpointNamespaceMode { return this.spec.endpointNamespace ?? 'own'; }

  get transitdPid(): number | undefined {
    return this.pid;
  }

  /** Creates the droplet's namespace/container and its eth0 on the underlay. */
  async setup(): Promise<void> {
    await writeRecord(this.prefix, {
      name: this.id, backend: this.backend, index: this.spec.index, ip: this.ip, mac: this.mac, mode: this.spec.mode, mtu: this.spec.mtu,
      image: this.spec.image, transitdTls: this.spec.transitdTls, transitdMetricsPort: this.spec.transitdMetricsPort,
      ...(this.spec.sharedTransitd ? { transitd: 'shared' as const } : {}),
      ...(this.spec.endpointNamespace === 'shared' ? { endpointNamespace: 'shared' as const } : {}), ...this.recordExtra(),
    });
    await this.createHost();
  }

  /** Fields of the run-dir record only this backend has. */
  protected abstract recordExtra(): { ns?: string; container?: string };
  /** transitd's TCP listener (mutual TLS) and metrics endpoint, if the droplet was made with them, and its endpoint namespace mode. */
  protected get tcpListen(): TransitdNet {
    return { ip: this.ip, tls: this.spec.transitdTls, metricsPort: this.spec.transitdMetricsPort, endpointNamespace: this.endpointNamespace };
  }
  protected abstract createHost(): Promise<void>;
  /** Removes the namespace/container and whatever transitd made inside it. */
  protected abstract removeHost(): Promise<void>;
  /** Starts transitd detached (or, shared, in a host process); returns its pid on this machine (also for docker: we kill it from here). */
  protected abstract spawnTransitd(): Promise<number>;
  abstract run(cmd: string[], opts?: RunOptions): Promise<RunResult>;
  abstract netnsRun(ns: string, cmd: string[], opts?: RunOptions): Promise<RunResult>;
  abstract namespacePath(ns: string): string;

  capture(opts: DropletCaptureOptions = {}): Capture {
    this.assertAlive();
    if (opts.iface !== undefined) {
      if (opts.actions) throw invalid('actions: only for captures at the capture hook (leave out iface)');
      return new PcapCapture({
        iface: opts.iface, netnsPath: opts.netns ? this.namespacePath(opts.netns) : this.netnsPath,
        filter: opts.filter, snaplen: opts.snaplen, name: `${this.id}:${opts.iface}`,
      });
    }
    if (opts.netns) throw invalid('netns: only with iface');
    return new XdpCapture({
      hookPath: hookPath(this.pinRoot), actions: opts.actions, filter: opts.filter, snaplen: opts.snaplen,
      name: this.id, force: opts.force,
    });
  }

  /** openDroplets: takes over the transitd a pid file names, if it still runs. */
  async adoptTransitd(): Promise<void> {
    const pid = await readPid(this.prefix, this.id);
    if (pid !== undefined && (await cmdlineHas(pid, socketPath(this.prefix, this.id), true)) && !(await this.transitdGone(pid))) this.pid = pid;
  }

  /** Whether the transitd started as `pid` has ended (a backend whose transitds share a process says per droplet). */
  protected async transitdGone(pid: number): Promise<boolean> {
    return !(await isRunning(pid));
  }

  /** Stops the transitd started as `pid`, and waits until it is gone. */
  protected async endTransitd(pid: number): Promise<void> {
    // The socket path is in its command line, so a reused pid is never hit.
    await stopProcess(pid, socketPath(this.prefix, this.id));
  }

  async startTransitd(): Promise<void> {
    this.assertAlive();
    if (this.pid !== undefined && !(await this.transitdGone(this.pid))) return;
    assertTransitdBuilt();
    // A stale socket would answer nothing; a shared host may already serve a fresh one (it replaces any itself).
    if (!this.spec.sharedTransitd) await rm(socketPath(this.prefix, this.id), { force: true });
    const pid = await this.spawnTransitd();
    this.pid = pid;
    await writePid(this.prefix, this.id, pid);
    try {
      await waitHealthy(this.channel, this.prefix, this.id, () => this.transitdGone(pid), this.spec.transitdTimeoutMs);
    } catch (err) {
      await this.stopTransitd().catch(() => undefined);
      throw err;
    }
  }

  async stopTransitd(): Promise<void> {
    this.channel.close();
    const pid = this.pid;
    if (pid !== undefined) await this.endTransitd(pid);
    this.pid = undefined;
    await removePid(this.prefix, this.id);
  }

  async restartTransitd(): Promise<void> {
    await this.stopTransitd();
    await this.startTransitd();
  }

  async health(): Promise<HealthReply> {
    this.assertTransitd();
    return this.channel.health(5000);
  }

  async stats(): Promise<Record<string, number>> {
    this.assertTransitd();
    return this.channel.stats();
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.stopTransitd();
    await this.removeHost();
    await removePort(this.prefix, this.id);
    await rm(this.pinRoot, { recursive: true, force: true });
    for (const ext of ['sock', 'log', 'journal', 'fence']) await rm(`${runDir(this.prefix)}/${this.id}.${ext}`, { force: true });
    await removeRecord(this.prefix, this.id);
    await releasePrefixIfUnused(this.prefix);
  }

  private assertAlive(): void {
    if (this.destroyed) throw new XvpcError('FAILED_PRECONDITION', `droplet '${this.id}' was destroyed`);
  }

  private assertTransitd(): void {
    this.assertAlive();
    if (this.pid === undefined) throw new XvpcError('FAILED_PRECONDITION', `droplet '${this.id}': transitd is not running`);
  }
}

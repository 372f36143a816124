// The default backend: a droplet is network namespace `<prefix>-<name>` on
// this machine, and its transitd a host process entered into it, or one of
// the transitds of a host process shared with other droplets (shared-host.ts).
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { run } from '../util/exec.js';
import { openPrivateLog } from '../util/private-fs.js';
import { createNamespace, deleteNamespace, deleteNamespaces, inNs, listNamespaces, namedNetnsPath } from '../util/netns.js';
import { BaseDroplet } from './base.js';
import type { DropletSpec, RunOptions, RunResult } from './types.js';
import { dropletNs, logPath, ownerOf, socketPath } from './names.js';
import { listRecords } from './records.js';
import { askHost, sharedTransitdGone, spawnSharedHost, stopSharedTransitd, type SharedMember } from './shared-host.js';
import { transitdArgs, transitdArgv, transitdHostMain } from './transitd.js';
import { addPort } from './underlay.js';

/**
 * Namespaces of this droplet's endpoints (transitd names them
 * `<prefix>-<name>-e...`), never those of a droplet with a longer name.
 */
export async function endpointNamespaces(prefix: string, name: string, knownNames: string[]): Promise<string[]> {
  const own = dropletNs(prefix, name);
  const names = [...new Set([...knownNames, name])];
  return (await listNamespaces()).filter((ns) => ns.startsWith(`${own}-e`) && ownerOf(ns, prefix, names) === name);
}

export class NetnsDroplet extends BaseDroplet {
  readonly backend = 'netns' as const;
  readonly ns: string;
  readonly netnsPath: string;

  constructor(spec: DropletSpec) {
    super(spec);
    this.ns = dropletNs(spec.prefix, spec.name);
    this.netnsPath = namedNetnsPath(this.ns);
  }

  protected recordExtra() {
    return { ns: this.ns };
  }

  protected async createHost(): Promise<void> {
    await createNamespace(this.ns);
    await addPort(this.prefix, { netns: this.ns }, { name: this.id, ip: this.ip, mac: this.mac, mtu: this.spec.mtu, xdpPass: this.spec.mode !== 'tc' });
  }

  protected async removeHost(): Promise<void> {
    const known = (await listRecords(this.prefix)).map((r) => r.name);
    await deleteNamespaces(await endpointNamespaces(this.prefix, this.id, known));
    await deleteNamespace(this.ns);
  }

  /**
   * nsenter, not `ip netns exec`: the latter remounts /sys in a private mount
   * namespace, which hides /sys/fs/bpf where the pins must outlive transitd.
   */
  protected async spawnTransitd(): Promise<number> {
    if (this.spec.sharedTransitd) return this.startSharedTransitd();
    const log = openPrivateLog(logPath(this.prefix, this.id)); // 0600 whatever the umask
    try {
      const child = spawn('nsenter', [`--net=${this.netnsPath}`, '--', ...transitdArgv(this.prefix, this.id, this.spec.mode, this.tcpListen)], {
        detached: true, stdio: ['ignore', log, log],
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', reject);
      });
      child.unref();
      return pid;
    } finally {
      closeSync(log);
    }
  }

  /** What a shared transitd host needs to run this droplet's transitd. */
  sharedMember(): SharedMember {
    return {
      prefix: this.prefix, id: this.id, netnsPath: this.netnsPath, socket: socketPath(this.prefix, this.id),
      args: transitdArgs(this.prefix, this.id, this.spec.mode, this.tcpListen),
    };
  }

  /** createDroplets: the shared host it started for this droplet and others. */
  joinHost(pid: number): void {
    this.hostPid = pid;
    this.hostFresh = true;
  }

  private hostPid: number | undefined;
  /** The host was just started with this droplet in it: it starts its transitd by itself. */
  private hostFresh = false;

  /** Starts this droplet's transitd in its host, or, with the host gone, a host of its own. */
  private async startSharedTransitd(): Promise<number> {
    const socket = socketPath(this.prefix, this.id);
    const pid = this.hostPid ?? this.pid;
    if (this.hostFresh && pid !== undefined) {
      this.hostFresh = false;
      return pid;
    }
    if (pid !== undefined && (await askHost(pid, { op: 'start', name: this.id }, socket)) !== undefined) return pid;
    this.hostPid = await spawnSharedHost(transitdHostMain(), [this.sharedMember()]);
    return this.hostPid;
  }

  protected async transitdGone(pid: number): Promise<boolean> {
    return this.spec.sharedTransitd ? sharedTransitdGone(pid, this.id, socketPath(this.prefix, this.id)) : super.transitdGone(pid);
  }

  protected async endTransitd(pid: number): Promise<void> {
    if (this.spec.sharedTransitd) {
      this.hostPid = pid; // a start after this goes back to the same host (an adopted droplet never joined one)
      await stopSharedTransitd(pid, this.id, socketPath(this.prefix, this.id));
    }
    else await super.endTransitd(pid);
  }

  run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(inNs(this.ns, cmd), opts);
  }

  netnsRun(ns: string, cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(inNs(ns, cmd), opts);
  }

  namespacePath(ns: string): string {
    return namedNetnsPath(ns);
  }
}

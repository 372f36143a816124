// The default backend: a droplet is network namespace `<prefix>-<name>` on
// this machine, and its transitd a host process entered into it.
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { run } from '../util/exec.js';
import { openPrivateLog } from '../util/private-fs.js';
import { createNamespace, deleteNamespace, deleteNamespaces, inNs, listNamespaces } from '../util/netns.js';
import { BaseDroplet } from './base.js';
import type { DropletSpec, RunOptions, RunResult } from './types.js';
import { dropletNs, logPath, ownerOf } from './names.js';
import { listRecords } from './records.js';
import { transitdArgv } from './transitd.js';
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
    this.netnsPath = `/run/netns/${this.ns}`;
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

  run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(inNs(this.ns, cmd), opts);
  }

  netnsRun(ns: string, cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(inNs(ns, cmd), opts);
  }

  namespacePath(ns: string): string {
    return `/run/netns/${ns}`;
  }
}

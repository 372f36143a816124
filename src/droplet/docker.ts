// The docker backend: a droplet is a privileged container `<prefix>-<name>`
// from the buildbox image, with the repository and node mounted at the same
// paths as here, so the same transitd command line runs inside it.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { alreadyExists, XvpcError } from '../errors.js';
import { repoRoot } from '../dataplane/addon.js';
import { BaseDroplet } from './base.js';
import type { DropletSpec, RunOptions, RunResult } from './types.js';
import { logPath, runDir, socketPath } from './names.js';
import { privilegeConfig } from './privilege.js';
import { findProcesses } from './process.js';
import { transitdArgv } from './transitd.js';
import { addPort } from './underlay.js';

export const PREFIX_LABEL = 'xvpc.prefix';
export const NAME_LABEL = 'xvpc.droplet';

let client: Docker | undefined;
export function docker(): Docker {
  client ??= new Docker({ socketPath: '/var/run/docker.sock' });
  return client;
}

/** Whether dockerd answers (cleanup skips containers when it does not). */
export async function dockerRunning(): Promise<boolean> {
  try {
    await docker().ping();
    return true;
  } catch {
    return false;
  }
}

export const containerName = (prefix: string, name: string): string => `${prefix}-${name}`;

/** What createDroplets checks before it makes anything: dockerd, the image, free container names. */
export async function dockerPreflight(prefix: string, names: string[], image: string): Promise<void> {
  if (!(await dockerRunning())) {
    throw new XvpcError('FAILED_PRECONDITION', 'backend docker: dockerd does not answer on /var/run/docker.sock (start dockerd)');
  }
  try {
    await docker().getImage(image).inspect();
  } catch {
    throw new XvpcError('FAILED_PRECONDITION', `backend docker: image ${image} not found; build it with tools/build-buildbox.sh`);
  }
  const taken = new Set(
    (await docker().listContainers({ all: true })).flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))),
  );
  for (const name of names) {
    if (taken.has(containerName(prefix, name))) {
      throw alreadyExists(`container '${containerName(prefix, name)}' exists (left by an earlier run? cleanupAll('${prefix}') removes it)`);
    }
  }
}

/** Single-quotes one argument for sh. */
const shQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs cmd in a container through the Docker API; the in-container `timeout` bounds it (exit 124, like run()). */
export async function dockerExec(container: Docker.Container, cmd: string[], timeoutMs = 60_000): Promise<RunResult> {
  const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
  const exec = await container.exec({
    Cmd: ['timeout', '-k', '2', String(secs), ...cmd], AttachStdout: true, AttachStderr: true, AttachStdin: false,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (b: Buffer) => out.push(b));
  const stderr = new PassThrough().on('data', (b: Buffer) => err.push(b));
  docker().modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

export class DockerDroplet extends BaseDroplet {
  readonly backend = 'docker' as const;
  readonly container: string;
  private containerPid = 0;

  constructor(spec: DropletSpec) {
    super(spec);
    this.container = containerName(spec.prefix, spec.name);
  }

  /** The container's init pid namespace entry, valid while it runs. */
  get netnsPath(): string {
    return `/proc/${this.containerPid}/ns/net`;
  }

  protected recordExtra() {
    return { container: this.container };
  }

  protected async createHost(): Promise<void> {
    const root = repoRoot.replace(/\/$/, '');
    const c = await docker().createContainer({
      name: this.container,
      Image: this.spec.image,
      Cmd: ['sleep', 'infinity'],
      Hostname: this.id,
      Labels: { [PREFIX_LABEL]: this.prefix, [NAME_LABEL]: this.id },
      HostConfig: {
        ...(await privilegeConfig()),
        NetworkMode: 'none',
        Init: true, // reaps transitd after a stop, so it does not linger as a zombie
        Binds: [
          `${root}:${root}:ro`,
          `${process.execPath}:${process.execPath}:ro`,
          `${runDir(this.prefix)}:${runDir(this.prefix)}:rw`,
          // Pins live on the host's bpffs: they outlive a transitd restart, and cleanup finds them.
          '/sys/fs/bpf:/sys/fs/bpf:rw',
        ],
      },
    });
    await c.start();
    const info = await c.inspect();
    this.containerPid = info.State.Pid;
    if (!this.containerPid) throw new XvpcError('INTERNAL', `container ${this.container} has no pid after start`);
    await addPort(this.prefix, { pid: this.containerPid }, { name: this.id, ip: this.ip, mac: this.mac, mtu: this.spec.mtu, xdpPass: this.spec.mode !== 'tc' });
  }

  protected async removeHost(): Promise<void> {
    // The endpoints' namespaces live inside the container and go with it.
    try {
      await docker().getContainer(this.container).remove({ force: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  protected async spawnTransitd(): Promise<number> {
    const line = `${transitdArgv(this.prefix, this.id, this.spec.mode).map(shQuote).join(' ')} </dev/null >>${shQuote(logPath(this.prefix, this.id))} 2>&1 &`;
    const r = await dockerExec(docker().getContainer(this.container), ['sh', '-c', line], 10_000);
    if (r.code !== 0) throw new XvpcError('UNAVAILABLE', `transitd on ${this.id}: could not start it: ${r.stderr.trim()}`);
    // Its pid as seen from here, found by the socket path it was given (unique per droplet).
    for (let i = 0; i < 40; i++) {
      const pids = await findProcesses(socketPath(this.prefix, this.id), true);
      if (pids.length > 0) return Math.min(...pids);
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new XvpcError('UNAVAILABLE', `transitd on ${this.id} exited at once; see ${logPath(this.prefix, this.id)}`);
  }

  run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return dockerExec(docker().getContainer(this.container), cmd, opts.timeoutMs);
  }

  /** Endpoint namespaces are mounted under the container's /run/netns; its root is visible from here. */
  namespacePath(ns: string): string {
    return `/proc/${this.containerPid}/root/run/netns/${ns}`;
  }

  netnsRun(ns: string, cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return dockerExec(docker().getContainer(this.container), ['ip', 'netns', 'exec', ns, ...cmd], opts.timeoutMs);
  }
}

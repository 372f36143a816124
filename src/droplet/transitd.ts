// The droplet's side of its transitd: the command line it is started with,
// waiting for it to answer, and the gRPC calls a droplet makes itself
// (Health, GetStats). The controller talks to transitd on its own channel.
import * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { XvpcError } from '../errors.js';
import { repoRoot } from '../dataplane/addon.js';
import type { AttachMode } from '../dataplane/host.js';
import type { EndpointNamespaceMode } from '../transitd/shared-plumbing.js';
import { TransitClient, type HealthReply } from '../gen/transit.js';
import { DROPLET_IFACE, dropletNs, grpcAddress, logPath, pinRoot, socketPath } from './names.js';

/** What transitd serves besides its socket, at the droplet's underlay address `ip`. */
export interface TransitdNet {
  ip?: string; tls?: { port: number; dir: string }; metricsPort?: number;
  /** transitd --endpoint-namespace (default 'own', not passed) */
  endpointNamespace?: EndpointNamespaceMode;
}

export const transitdMain = (): string => `${repoRoot}dist/transitd/main.js`;
/** A shared transitd host: many netns droplets' transitds in one process (src/transitd/host.ts). */
export const transitdHostMain = (): string => `${repoRoot}dist/transitd/host.js`;

/** transitd's argv (node first). */
export function transitdArgv(prefix: string, name: string, mode: AttachMode, net: TransitdNet = {}): string[] {
  return [process.execPath, transitdMain(), ...transitdArgs(prefix, name, mode, net)];
}

/** transitd's own arguments. Endpoint namespaces become `<prefix>-<name>-e...`, so cleanup can find them. */
export function transitdArgs(prefix: string, name: string, mode: AttachMode, net: TransitdNet = {}): string[] {
  const tcp = net.tls;
  return [
    '--mode', mode,
    '--host', name,
    '--socket', socketPath(prefix, name),
    '--iface', DROPLET_IFACE,
    '--pin-root', pinRoot(prefix, name),
    '--ns-prefix', dropletNs(prefix, name),
    ...(tcp ? [
      '--listen', `${net.ip}:${tcp.port}`, '--tls-ca', `${tcp.dir}/ca.crt`,
      '--tls-cert', `${tcp.dir}/${name}.crt`, '--tls-key', `${tcp.dir}/${name}.key`,
    ] : []),
    ...(net.metricsPort ? ['--metrics', `${net.ip}:${net.metricsPort}`] : []),
    ...(net.endpointNamespace === 'shared' ? ['--endpoint-namespace', 'shared'] : []),
  ];
}

export function assertTransitdBuilt(): void {
  for (const main of [transitdMain(), transitdHostMain()]) {
    if (!existsSync(main)) throw new XvpcError('FAILED_PRECONDITION', `transitd: ${main} does not exist; run 'npm run build' first`);
  }
}

/** Last lines of a transitd log, for error messages. */
export async function logTail(prefix: string, name: string, lines = 20): Promise<string> {
  const text = await readFile(logPath(prefix, name), 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** One gRPC channel to one transitd; reconnects quickly so a restarted transitd is found at once. */
export class TransitdChannel {
  private client: TransitClient | undefined;

  constructor(readonly address: string) {}

  private get raw(): TransitClient {
    this.client ??= new TransitClient(this.address, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    return this.client;
  }

  health(timeoutMs = 2000): Promise<HealthReply> {
    return new Promise((resolve, reject) => {
      this.raw.health({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  async stats(timeoutMs = 10_000): Promise<Record<string, number>> {
    const reply = await new Promise<{ counters: Record<string, number> }>((resolve, reject) => {
      this.raw.getStats({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(reply.counters)) out[k] = Number(v);
    return out;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}

/**
 * Polls Health until transitd answers. `exited` reports a dead process so a
 * crash fails at once instead of after the timeout; either way the error
 * carries the tail of its log.
 */
export async function waitHealthy(
  channel: TransitdChannel, prefix: string, name: string,
  exited: () => Promise<boolean>, timeoutMs: number,
): Promise<HealthReply> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      return await channel.health(1000);
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (await exited()) {
      throw new XvpcError('UNAVAILABLE', `transitd on ${name} exited during start-up; log ${logPath(prefix, name)}:\n${await logTail(prefix, name)}`);
    }
    if (Date.now() > deadline) {
      throw new XvpcError('UNAVAILABLE',
        `transitd on ${name} did not answer at ${grpcAddress(prefix, name)} within ${timeoutMs} ms (${last}); log ${logPath(prefix, name)}:\n${await logTail(prefix, name)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

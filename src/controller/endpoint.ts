// Endpoint: what createSimpleEndpoint() returns; runs commands inside the
// endpoint's namespace on its host.
import { XvpcError } from '../errors.js';
import type { RunResult } from '../util/exec.js';
import type { TlsFiles } from '../transitd/tls.js';

/**
 * What the controller needs of a host: its name, underlay address and MAC,
 * and where its transitd answers (unix:// on this machine, or ADDR:PORT with
 * `transitdTls`, mutual TLS). Everything the controller does to a host goes
 * through that transitd. A Droplet provides it, and so does remoteHost()
 * (remote-host.ts) for a real machine. run/netnsRun are only for running
 * commands in endpoints (Endpoint.run, ping): hosts reached over the network
 * do not have them.
 */
export interface ControllerHost {
  readonly id: string;
  readonly ip: string;
  readonly mac: string;
  readonly transitdAddress: string;
  readonly transitdTls?: TlsFiles;
  run?(cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  netnsRun?(ns: string, cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Where its transitd puts endpoints (a Droplet's option; absent: a namespace each). */
  readonly endpointNamespace?: 'own' | 'shared';
}

export interface PingResult { ok: boolean; transmitted: number; received: number; rttMs?: number }

export function parsePing(out: string, code: number): PingResult {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(out);
  const transmitted = counts ? Number(counts[1]) : 0;
  const received = counts ? Number(counts[2]) : 0;
  return { ok: code === 0 && received > 0, transmitted, received, ...(rtt ? { rttMs: Number(rtt[1]) } : {}) };
}

export class Endpoint<H extends ControllerHost = ControllerHost> {
  constructor(
    readonly vni: number,
    readonly netId: number,
    readonly ip: string,
    readonly mac: string,
    readonly host: H | undefined,
    /** namespace holding veth0; '' for a host endpoint (it lives in the host's own) */
    readonly netns: string,
    /**
     * netns is the host's one namespace for all its endpoints (transitd
     * --endpoint-namespace shared): what runs as this endpoint must bind its
     * address (ping does: -I), else it is routed as none of them.
     */
    readonly sharedNamespace = false,
    /** a scaled endpoint's backends (their IPs); [] for others */
    readonly backends: readonly string[] = [],
  ) {}

  run(cmd: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    if (!this.host) throw new XvpcError('FAILED_PRECONDITION', `endpoint ${this.vni}/${this.ip} is scaled: it has no host to run on`);
    const h = this.host;
    if (!h.run || !h.netnsRun) throw new XvpcError('FAILED_PRECONDITION', `endpoint ${this.vni}/${this.ip}: host ${h.id} is reached over the network only; run commands on it there`);
    if (!this.netns) return h.run(cmd, opts);
    return h.netnsRun(this.netns, cmd, opts).then((r) => {
      // ip netns exec's own failure (255), not the command's: the endpoint was deleted (or moved) since this handle was made.
      if (r.code === 255 && /^Cannot open network namespace .*No such file or directory/m.test(r.stderr)) {
        throw new XvpcError('NOT_FOUND', `endpoint ${this.vni}/${this.ip}: its namespace ${this.netns} on ${h.id} is gone (the endpoint was deleted or moved)`);
      }
      return r;
    });
  }

  async ping(ip: string, opts: { count?: number; timeoutMs?: number } = {}): Promise<PingResult> {
    const count = opts.count ?? 3;
    const timeoutMs = opts.timeoutMs ?? 2000 + count * 1000;
    // In a namespace other endpoints' addresses share (a shared one, the host's own for a host endpoint) ping from this one's.
    const bind = this.sharedNamespace || !this.netns ? ['-I', this.ip] : [];
    const r = await this.run(['ping', '-n', '-c', String(count), '-i', '0.2', '-W', '1', ...bind, ip],
      { timeoutMs: timeoutMs + 2000 });
    return parsePing(r.stdout, r.code);
  }
}

// Endpoint: what createSimpleEndpoint() returns; runs commands inside the
// endpoint's namespace on its host.
import { XvpcError } from '../errors.js';
import type { RunResult } from '../util/exec.js';

/** What the controller needs of a host (a Droplet provides it). */
export interface ControllerHost {
  readonly id: string;
  readonly ip: string;
  readonly mac: string;
  readonly transitdAddress: string;
  run(cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  netnsRun(ns: string, cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
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
  ) {}

  run(cmd: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    if (!this.host) throw new XvpcError('FAILED_PRECONDITION', `endpoint ${this.vni}/${this.ip} is scaled: it has no host to run on`);
    return this.netns ? this.host.netnsRun(this.netns, cmd, opts) : this.host.run(cmd, opts);
  }

  async ping(ip: string, opts: { count?: number; timeoutMs?: number } = {}): Promise<PingResult> {
    const count = opts.count ?? 3;
    const timeoutMs = opts.timeoutMs ?? 2000 + count * 1000;
    const r = await this.run(['ping', '-n', '-c', String(count), '-i', '0.2', '-W', '1', ip],
      { timeoutMs: timeoutMs + 2000 });
    return parsePing(r.stdout, r.code);
  }
}

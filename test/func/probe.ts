// Handles on test/lib/probe.mjs processes: each one writes its pid to a file
// in its droplet prefix's run dir (/run/xvpc/<prefix>, which docker droplets
// mount too), so a test waits for exactly its own process to be ready and
// stops exactly that process, never another run's.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { runDir } from '../../src/droplet/names.js';
import type { RunResult } from '../../src/util/exec.js';

export const PROBE = fileURLToPath(new URL('../lib/probe.mjs', import.meta.url));

/** Where a probe runs: a droplet, or an endpoint on one. */
export interface ProbeHost {
  run(cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  readonly prefix?: string;
  readonly host?: unknown;
}

/** The droplet prefix that owns `where` (its run dir holds the pid files). */
function prefixOf(where: ProbeHost): string {
  const prefix = where.prefix ?? (where.host as { prefix?: string } | undefined)?.prefix;
  if (!prefix) throw new Error('a probe runs on a droplet or on an endpoint of one');
  return prefix;
}

export interface ProbeProcess {
  /** The pid file, as seen where the process runs. */
  readonly pidfile: string;
  /** Sends `signal` to this process only (through its pid file). */
  signal(signal: 'TERM' | 'USR2'): Promise<void>;
  /** A server marks the moment (SIGUSR2); resolves once it took the mark. */
  mark(): Promise<void>;
  /** SIGTERM to this process, then its result. */
  stop(): Promise<RunResult>;
  /** Its result once it exits by itself. */
  readonly done: Promise<RunResult>;
}

const pollMs = 100;

/**
 * Starts `node probe.mjs <args> --pidfile F` on `host` and resolves once the
 * probe wrote F (a server listens; a stream flows). If the probe exits first,
 * rejects with its output.
 */
export async function startProbe(host: ProbeHost, args: string[], timeoutMs: number): Promise<ProbeProcess> {
  const pidfile = `${runDir(prefixOf(host))}/probe-${randomBytes(6).toString('hex')}.pid`;
  let exited: RunResult | undefined;
  const done = host.run([process.execPath, PROBE, ...args, '--pidfile', pidfile], { timeoutMs })
    .then((r) => (exited = r));
  const signal = async (sig: 'TERM' | 'USR2') => {
    const r = await host.run(['sh', '-c', 'kill -s "$1" "$(cat "$2")"', 'sh', sig, pidfile]);
    if (r.code !== 0) throw new Error(`kill -s ${sig} via ${pidfile}: ${r.stderr.trim()}`);
  };
  /** Polls until `file` exists where the probe runs; throws if the probe exits first. */
  const appears = async (file: string, what: string) => {
    for (;;) {
      if (exited) throw new Error(`probe ${args.join(' ')} exited ${exited.code} before ${what}: ${exited.stderr.trim() || exited.stdout.trim()}`);
      if ((await host.run(['test', '-e', file])).code === 0) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  await appears(pidfile, 'it was ready');
  return {
    pidfile,
    signal,
    async mark() {
      await signal('USR2');
      await appears(`${pidfile}.mark`, 'it took the mark');
    },
    done,
    async stop() {
      if (!exited) await signal('TERM').catch(() => undefined); // it may have exited meanwhile
      return done;
    },
  };
}

/** An echo server (probe.mjs serve) on `port`, listening when this resolves. */
export function startServer(host: ProbeHost, proto: 'tcp' | 'udp' | 'http', port: number,
  opts: { seconds?: number; name?: string; bind?: string } = {}): Promise<ProbeProcess> {
  const seconds = opts.seconds ?? 30;
  return startProbe(host, ['serve', proto, String(port), String(seconds), ...(opts.name ? [opts.name] : []), ...(opts.bind ? ['--bind', opts.bind] : [])],
    (seconds + 10) * 1000);
}

export interface StreamReport {
  sent: { bytes: number; sha256: string };
  received: { bytes: number; sha256: string };
  /** Bytes the server received after its SIGUSR2 mark; null if it was never marked. */
  afterMark: number | null;
}

/** Parses a stream's output; throws with its stderr when it broke. */
export function streamReport(r: RunResult): StreamReport {
  if (r.code !== 0 || r.stderr !== '') throw new Error(`the TCP stream broke (exit ${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as StreamReport;
}

/** A TCP stream that runs `seconds` (or until stopped) and reports what was sent and what arrived; `bind`: its source address. */
export async function runStream(client: ProbeHost, ip: string, port: number, seconds: number, opts: { bind?: string } = {}): Promise<StreamReport> {
  return streamReport(await client.run([process.execPath, PROBE, 'stream', ip, String(port), String(seconds), ...(opts.bind ? ['--bind', opts.bind] : [])],
    { timeoutMs: (seconds + 20) * 1000 }));
}

// A real etcd (Debian's etcd-server) on 127.0.0.1 at free ports, with a
// temporary data dir; stop() kills it and removes the dir. The bench's etcd
// row and the etcd tests (test/lib/etcd.ts re-exports it) both start theirs here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ETCD = '/usr/bin/etcd';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TestEtcd {
  url: string;
  /** SIGSTOP (frozen: connections taken, nothing answered) or SIGCONT */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void;
  stop(): Promise<void>;
}

/** clientPort: where it serves clients (a test that points a controller at it before it runs); else a free port. */
export async function startEtcd(opts: { clientPort?: number } = {}): Promise<TestEtcd> {
  const [client, peer] = [opts.clientPort ?? await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'xvpc-etcd-'));
  const proc: ChildProcess = spawn(ETCD, [
    '--name', 'xt', '--data-dir', dir,
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `xt=http://127.0.0.1:${peer}`, '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGCONT'); // a frozen one dies only once it runs
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when its health endpoint answers.
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${client}/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not start: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `etcd://127.0.0.1:${client}`, signal: (sig) => { proc.kill(sig); }, stop };
}

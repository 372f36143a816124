// Running the bench's tools inside network namespaces: one-shot commands,
// background servers that are always reaped, and small waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { must, run, type RunResult } from '../dist/util/exec.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** argv run inside namespace `ns` (`ip netns exec`: the tools here need nothing of /sys). */
export const inNs = (ns: string, argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

export function nsRun(ns: string, argv: string[], timeoutMs = 60_000): Promise<RunResult> {
  return run(inNs(ns, argv), { timeoutMs });
}

export function nsMust(ns: string, argv: string[], timeoutMs = 60_000): Promise<string> {
  return must(inNs(ns, argv), { timeoutMs });
}

/** A process started in the background; every one is killed by killAll() at the latest. */
export class Background {
  private static readonly live = new Set<Background>();
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  private stdout = '';
  private stderr = '';
  private readonly child: ChildProcess;
  private readonly killTimer: NodeJS.Timeout;

  /** `maxMs`: the process is killed after this long whatever happens. */
  constructor(argv: string[], maxMs: number) {
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    Background.live.add(this);
    this.child.stdout!.on('data', (d) => { this.stdout += String(d); });
    this.child.stderr!.on('data', (d) => { this.stderr += String(d); });
    this.killTimer = setTimeout(() => this.kill(), maxMs);
    this.killTimer.unref();
    this.exited = new Promise((resolve) => {
      const done = (code: number | null) => {
        clearTimeout(this.killTimer);
        Background.live.delete(this);
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      };
      this.child.once('error', (err) => { this.stderr += String(err); done(null); });
      this.child.once('close', (code) => done(code));
    });
  }

  get output(): string { return this.stdout; }

  /** The process id (ip netns exec execs its command: the command's own pid, inside the namespace). */
  get pid(): number | undefined { return this.child.pid; }

  /** Resolves once stdout holds `text`; rejects if the process ends first or after `timeoutMs`. */
  async waitFor(text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.exited.then(() => { ended = true; });
    while (!this.stdout.includes(text)) {
      if (ended) throw new Error(`process ended before '${text}': ${this.stderr.trim() || this.stdout.trim()}`);
      if (Date.now() > deadline) throw new Error(`no '${text}' within ${timeoutMs} ms: ${this.stderr.trim()}`);
      await sleep(10);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  static killAll(): void {
    for (const b of Background.live) b.kill();
  }
}

/** Polls until something listens on TCP `port` in `ns`. */
export async function waitListening(ns: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await nsRun(ns, ['ss', '-Hltn', `sport = :${port}`], 5000);
    if (r.code === 0 && r.stdout.trim() !== '') return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} in ${ns} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** MTU of `dev` in `ns`. */
export async function linkMtu(ns: string, dev: string): Promise<number> {
  const [link] = JSON.parse(await must(['ip', '-n', ns, '-j', 'link', 'show', 'dev', dev])) as { mtu: number }[];
  return link.mtu;
}

// Running system commands (ip, ethtool, ping, ...) without a shell.
import { execFile, spawn } from 'node:child_process';
import { inCallerNetns } from '../dataplane/addon.js';

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs argv[0] with the rest as arguments; never throws for a non-zero exit. */
export function run(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Started inside the caller's netnsContext namespace, if any (a shared transitd host's droplet).
    const child = inCallerNetns(() => execFile(
      argv[0], argv.slice(1),
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        // A string code means the command could not start (ENOENT...);
        // anything else is an exit status or a signal, which callers judge.
        if (err && typeof err.code === 'string') {
          reject(new Error(`${argv[0]}: ${err.message}`));
          return;
        }
        const code = !err ? 0 : typeof err.code === 'number' ? err.code : err.killed ? 124 : 128;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    ));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run(), but a non-zero exit throws with the command and its stderr. */
export async function must(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`'${argv.join(' ')}' exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export { spawn };

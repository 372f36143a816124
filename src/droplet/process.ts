// Stopping a host process by pid: SIGTERM, a grace period, SIGKILL, and a
// wait until it is really gone. A pid is only signalled while its command line
// still names what we started (pids get reused).
import { readdir, readFile } from 'node:fs/promises';

/** True while the pid runs (a zombie counts as gone: it holds nothing any more). */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Whether one argument of pid's command line contains `needle` (or, exact, is it). */
export async function cmdlineHas(pid: number, needle: string, exact = false): Promise<boolean> {
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmd.split('\0').some((arg) => (exact ? arg === needle : arg.includes(needle)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Stops `pid` if it still runs and one of its arguments is `needle`.
 * Returns whether it had been running.
 */
export async function stopProcess(pid: number, needle: string, graceMs = 5000): Promise<boolean> {
  if (!(await isRunning(pid)) || !(await cmdlineHas(pid, needle, true))) return false;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  if (!(await waitGone(pid, graceMs))) {
    signal('SIGKILL');
    if (!(await waitGone(pid, 5000))) throw new Error(`process ${pid} survived SIGKILL`);
  }
  return true;
}

/** Processes on this machine (any pid namespace, no zombies) whose argv satisfies `match`. */
export async function findProcessesBy(match: (argv: string[]) => boolean): Promise<{ pid: number; argv: string[] }[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const out: { pid: number; argv: string[] }[] = [];
  for (const e of entries) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (match(argv) && (await isRunning(pid))) out.push({ pid, argv });
  }
  return out;
}

/** Pids with an argument containing (or, exact, equal to) `needle`. */
export async function findProcesses(needle: string, exact = false): Promise<number[]> {
  const found = await findProcessesBy((argv) => argv.some((arg) => (exact ? arg === needle : arg.includes(needle))));
  return found.map((p) => p.pid);
}

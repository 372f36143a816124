// The run file: what `up` made, so that down, pingall and exec (other
// processes, later) find it again: the plan and where every endpoint lives.
// Kept in the prefix's run dir (/run/xvpc/<P>/scenario/run.json), which
// cleanupAll(P) removes with the rest of the run.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { XvpcError } from '../errors.js';
import { runDir } from '../droplet/names.js';
import type { Plan } from './types.js';

export type RunState = 'starting' | 'up' | 'failed' | 'interrupted';

export interface RunEndpoint {
  name: string; vni: number; netId: number; ip: string; mac: string; host: string;
  /** the endpoint's namespace on its host ('' for a host endpoint) */
  netns: string;
  /** netns is its host's one namespace for all endpoints: commands run as it must bind ip (the checks do) */
  sharedNamespace?: boolean;
}

export interface RunHost { name: string; backend: 'netns' | 'docker'; ip: string; ns?: string; container?: string }

export interface RunFile {
  prefix: string;
  state: RunState;
  /** the `up` process (while state is 'starting') */
  pid: number;
  startedAt: string;
  scenarioFile: string;
  plan: Plan;
  hosts: RunHost[];
  endpoints: RunEndpoint[];
  /** where up wrote its report */
  report?: { json: string; html: string };
}

export const runFilePath = (prefix: string): string => `${runDir(prefix)}/scenario/run.json`;

export async function writeRunFile(run: RunFile): Promise<void> {
  const path = runFilePath(run.prefix);
  await mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, `${JSON.stringify(run)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path); // readers never see half a file
}

export async function readRunFile(prefix: string): Promise<RunFile | undefined> {
  let text: string;
  try {
    text = await readFile(runFilePath(prefix), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as RunFile;
  } catch (err) {
    throw new XvpcError('INTERNAL', `run file ${runFilePath(prefix)}: ${(err as Error).message}`);
  }
}

/** The run file of a prefix, or NOT_FOUND naming the prefix. */
export async function requireRun(prefix: string): Promise<RunFile> {
  const run = await readRunFile(prefix);
  if (!run) throw new XvpcError('NOT_FOUND', `prefix '${prefix}': no scenario is up (no ${runFilePath(prefix)}; start one with xvpc up FILE --prefix ${prefix})`);
  return run;
}

/** Whether the up process that wrote a 'starting' run is still alive. */
export function upAlive(run: RunFile): boolean {
  try {
    process.kill(run.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Refuses (an Error naming its pid) while the `up` making `run` still runs in another process: what `down` and `cleanup --prefix` ask unless --force. */
export function refuseWhileUpRuns(prefix: string, run: RunFile | undefined): void {
  if (run?.state === 'starting' && upAlive(run) && run.pid !== process.pid) {
    throw new Error(`prefix '${prefix}': its up (pid ${run.pid}) is still running; Ctrl-C it first, or give --force`);
  }
}

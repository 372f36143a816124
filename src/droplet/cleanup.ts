// cleanupAll: removes whatever droplet runs left behind (a crashed test, a
// killed demo). It only touches names of a prefix that has a run dir in
// /run/xvpc, or the prefix it is given: never an unrelated namespace.
import { readdir, rm } from 'node:fs/promises';
import { listNamespaces, deleteNamespaces } from '../util/netns.js';
import { docker, dockerRunning, PREFIX_LABEL } from './docker.js';
import { PIN_ROOT, PREFIX_RE, RUN_ROOT, runDir, socketPath, validatePrefix } from './names.js';
import { findProcessesBy, stopProcess } from './process.js';
import { readPid } from './records.js';
import { lockFilePrefix, removeStaleLock } from './lock.js';

export interface CleanupSummary {
  prefixes: string[];
  /** transitd pids stopped */
  processes: number[];
  namespaces: string[];
  containers: string[];
  pins: string[];
  runDirs: string[];
  /** lock files of runs killed while making droplets (a live run's lock stays) */
  locks: string[];
}

async function listDir(path: string): Promise<string[]> {
  return readdir(path).catch(() => [] as string[]);
}

/** transitds of a prefix: every process given `--socket /run/xvpc/<prefix>/...` (pid files may be gone). */
async function transitds(prefix: string): Promise<{ pid: number; socket: string }[]> {
  const dir = `${runDir(prefix)}/`;
  const socketOf = (argv: string[]) => argv[argv.indexOf('--socket') + 1] ?? '';
  const found = await findProcessesBy((argv) => argv.includes('--socket') && socketOf(argv).startsWith(dir));
  return found.map(({ pid, argv }) => ({ pid, socket: socketOf(argv) }));
}

/**
 * Removes every droplet run's leftovers: all prefixes with a run dir, or
 * just `prefix`. Stops transitds, removes containers labeled with the prefix,
 * namespaces named `<prefix>-...`, pins /sys/fs/bpf/xvpc/<prefix>-*, and the
 * run dir. Safe to call any time, twice, or with nothing to do.
 */
export async function cleanupAll(prefix?: string): Promise<CleanupSummary> {
  const summary: CleanupSummary = { prefixes: [], processes: [], namespaces: [], containers: [], pins: [], runDirs: [], locks: [] };
  const prefixes = new Set<string>();
  if (prefix !== undefined) prefixes.add(validatePrefix(prefix));
  else {
    for (const d of await listDir(RUN_ROOT)) {
      const p = lockFilePrefix(d) ?? d; // a run dir, or the lock of a run killed before it made one
      if (PREFIX_RE.test(p)) prefixes.add(p);
    }
  }

  // Containers first (without a prefix: every container we ever labeled).
  if (await dockerRunning()) {
    const filters = prefix !== undefined ? { label: [`${PREFIX_LABEL}=${prefix}`] } : { label: [PREFIX_LABEL] };
    for (const c of await docker().listContainers({ all: true, filters })) {
      const p = c.Labels?.[PREFIX_LABEL];
      if (p && PREFIX_RE.test(p)) prefixes.add(p);
      try {
        await docker().getContainer(c.Id).remove({ force: true });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
      summary.containers.push(c.Names[0]?.replace(/^\//, '') ?? c.Id);
    }
  }

  summary.prefixes = [...prefixes].sort();
  const namespaces = await listNamespaces();
  const pins = await listDir(PIN_ROOT);
  for (const p of summary.prefixes) {
    // Recorded pids first, then any transitd of the prefix whose pid file is gone.
    const recorded = await Promise.all((await listDir(runDir(p))).filter((f) => f.endsWith('.pid')).map(async (f) => {
      const name = f.slice(0, -'.pid'.length);
      return { pid: (await readPid(p, name)) ?? 0, socket: socketPath(p, name) };
    }));
    for (const { pid, socket } of [...recorded.filter((r) => r.pid > 0), ...(await transitds(p))]) {
      if (!summary.processes.includes(pid) && (await stopProcess(pid, socket))) summary.processes.push(pid);
    }
    // `<prefix>-` with the hyphen: prefixes are [a-z0-9] only, so "ab-" never matches prefix "a".
    const mine = namespaces.filter((n) => n.startsWith(`${p}-`));
    await deleteNamespaces(mine);
    summary.namespaces.push(...mine);
    for (const pin of pins.filter((n) => n.startsWith(`${p}-`))) {
      await rm(`${PIN_ROOT}/${pin}`, { recursive: true, force: true });
      summary.pins.push(`${PIN_ROOT}/${pin}`);
    }
    if ((await listDir(RUN_ROOT)).includes(p)) {
      await rm(runDir(p), { recursive: true, force: true });
      summary.runDirs.push(runDir(p));
    }
    const lock = await removeStaleLock(p);
    if (lock) summary.locks.push(lock);
  }
  return summary;
}

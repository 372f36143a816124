// What a run leaves in /run/xvpc/<prefix>: one <name>.json per droplet (so a
// later process, e.g. cleanupAll after a crash, knows what exists) and
// <name>.pid while its transitd runs.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { ensurePrivateDir } from '../util/private-fs.js';
import { RUN_ROOT, metaPath, pidPath, runDir } from './names.js';

export interface DropletRecord {
  name: string;
  backend: 'netns' | 'docker';
  index: number;
  ip: string;
  mac: string;
  /** netns backend: the droplet's namespace; docker backend: the container's name. */
  ns?: string;
  container?: string;
  /** how its transitd hooks the data path in (absent in records of older runs) */
  mode?: 'native' | 'generic' | 'tc';
  /** what openDroplets needs to make the same droplet object again (absent in records of older runs) */
  mtu?: number;
  image?: string;
  transitdTls?: { dir: string; port: number };
  transitdMetricsPort?: number;
  /** netns backend: its transitd runs in a shared host process (createDroplets' transitd: 'shared') */
  transitd?: 'shared';
  /** netns backend: all its endpoints in one namespace (createDroplets' endpointNamespace: 'shared') */
  endpointNamespace?: 'shared';
}

export async function ensureRunDir(prefix: string): Promise<void> {
  // Root-only: it holds transitd's socket, logs and journal.
  ensurePrivateDir(RUN_ROOT);
  ensurePrivateDir(runDir(prefix));
}

export async function writeRecord(prefix: string, rec: DropletRecord): Promise<void> {
  await writeFile(metaPath(prefix, rec.name), `${JSON.stringify(rec)}\n`, { mode: 0o600 });
}

export async function removeRecord(prefix: string, name: string): Promise<void> {
  await rm(metaPath(prefix, name), { force: true });
}

export async function listRecords(prefix: string): Promise<DropletRecord[]> {
  const files = await readdir(runDir(prefix)).catch(() => [] as string[]);
  const out: DropletRecord[] = [];
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    try {
      out.push(JSON.parse(await readFile(`${runDir(prefix)}/${f}`, 'utf8')) as DropletRecord);
    } catch {
      // A half-written record of a crashed run: cleanup still finds it by name.
    }
  }
  return out;
}

/** The `count` lowest indexes no recorded droplet of this prefix uses: 0..count-1 on a fresh prefix. */
export function freeIndexes(used: number[], count: number): number[] {
  const taken = new Set(used);
  const out: number[] = [];
  for (let i = 0; out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

export async function writePid(prefix: string, name: string, pid: number): Promise<void> {
  await writeFile(pidPath(prefix, name), `${pid}\n`, { mode: 0o600 });
}

export async function readPid(prefix: string, name: string): Promise<number | undefined> {
  const text = await readFile(pidPath(prefix, name), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export async function removePid(prefix: string, name: string): Promise<void> {
  await rm(pidPath(prefix, name), { force: true });
}

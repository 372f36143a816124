// One process at a time makes droplets in a prefix: two that start at once
// would both find the names free and then collide in `ip netns add`. The lock
// is a file made with O_EXCL holding its owner's pid; a lock whose owner died
// (kill -9) is taken over.
import { openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { XvpcError } from '../errors.js';
import { ensurePrivateDir } from '../util/private-fs.js';
import { RUN_ROOT } from './names.js';
import { isRunning } from './process.js';

const lockPath = (prefix: string) => `${RUN_ROOT}/${prefix}.lock`;

/** The prefix a lock file's name belongs to (`<prefix>.lock`), or undefined. */
export const lockFilePrefix = (file: string): string | undefined => (file.endsWith('.lock') ? file.slice(0, -'.lock'.length) : undefined);

async function ownerAlive(path: string): Promise<boolean> {
  const pid = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return false; // being written, or a torn write: judged on the next look
  return isRunning(pid);
}

/**
 * Removes the prefix's lock if its owner is gone (killed while making
 * droplets); a live owner's lock stays. Returns the path removed, if any.
 */
export async function removeStaleLock(prefix: string): Promise<string | undefined> {
  const path = lockPath(prefix);
  try {
    if (await ownerAlive(path)) return undefined;
  } catch {
    return undefined; // no lock
  }
  rmSync(path, { force: true });
  return path;
}

/** Runs fn holding the prefix's lock; waits up to timeoutMs for another process to let go. */
export async function withPrefixLock<T>(prefix: string, fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  ensurePrivateDir(RUN_ROOT);
  const path = lockPath(prefix);
  const deadline = Date.now() + timeoutMs;
  let emptySince: number | undefined;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let alive = true;
    try {
      alive = await ownerAlive(path);
      // An empty file for long is a holder killed between create and write.
      if (!alive && readFileSync(path, 'utf8').trim() === '') {
        emptySince ??= Date.now();
        alive = Date.now() - emptySince < 2000;
      }
    } catch {
      continue; // gone meanwhile: try again at once
    }
    if (!alive) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new XvpcError('UNAVAILABLE', `prefix '${prefix}': another process has been making droplets for ${timeoutMs} ms (lock ${path})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

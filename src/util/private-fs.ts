// Files and directories only root may read or enter, whatever the umask:
// transitd's socket answers every request of whoever can connect, and its
// logs and journal name the VPCs. Modes are set explicitly after creation
// (mkdir/open apply the umask, and an existing path keeps its old mode).
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { XvpcError } from '../errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates dir (and missing parents, also 0700) and sets it to 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * A directory given by the user (transitd's socket or journal, xvpc certs'
 * --dir): made 0700 when missing (parents too), while an existing one keeps
 * its mode (chmod of a shared /run or /tmp would break the system) but must be
 * trusted: this user's and writable by nobody else, or root's with the sticky
 * bit (/tmp: others may add files but not remove or rename this user's).
 * Elsewhere others could swap the files in it. FAILED_PRECONDITION says why.
 * opts.sticky false: a sticky directory is refused too, for files whose
 * content is trusted once there (a CA others could have put in /tmp first).
 */
export function ensureTrustedDir(dir: string, what: string, opts: { sticky?: boolean } = {}): void {
  if (!existsSync(dir)) {
    ensurePrivateDir(dir);
    return;
  }
  const st = lstatSync(dir);
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  if (!st.isDirectory()) throw new XvpcError('FAILED_PRECONDITION', `${what}: ${dir} is not a directory`);
  const own = st.uid === process.getuid!() && (st.mode & 0o022) === 0;
  const sticky = st.uid === 0 && (st.mode & 0o1000) !== 0 && opts.sticky !== false;
  if (!own && !sticky) {
    if (opts.sticky === false && (st.mode & 0o1000) !== 0) {
      throw new XvpcError('FAILED_PRECONDITION', `${what}: ${dir} (mode ${mode}) is shared (sticky): others may have put files there first; `
        + 'give a directory only this user may write, or one that does not exist yet (it is made 0700)');
    }
    throw new XvpcError('FAILED_PRECONDITION', `${what}: ${dir} (owner uid ${st.uid}, mode ${mode}) may be written by others: `
      + 'give a directory only this user may write (or a sticky one such as /tmp), or one that does not exist yet (it is made 0700)');
  }
}

/**
 * Runs fn (which creates files, such as a unix socket at bind) with umask 077:
 * what it makes is private from the start, not chmod-ed after a moment in
 * which others could open it.
 */
export async function withPrivateUmask<T>(fn: () => Promise<T>): Promise<T> {
  const old = process.umask(0o077);
  try {
    return await fn();
  } finally {
    process.umask(old);
  }
}

/**
 * Opens path for appending, created 0600 or set to 0600 if it existed; returns
 * the fd. A symlink there is not followed, and a file of another user (put in
 * a sticky directory first), a hard link or anything but a file is refused:
 * each would send the log elsewhere.
 */
export function openPrivateLog(path: string): number {
  // O_NONBLOCK: a FIFO put there would block the open before any check.
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, PRIVATE_FILE_MODE);
  try {
    const st = fstatSync(fd);
    // nlink 1: not a hard link another user made to one of this user's files.
    if (!st.isFile() || st.uid !== process.getuid!() || st.nlink !== 1) {
      throw new XvpcError('FAILED_PRECONDITION', `log ${path}: not a file of this user alone (owner uid ${st.uid}, ${st.nlink} links): remove it, or log elsewhere`);
    }
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Replaces path with data atomically and durably: written 0600 to a new sibling,
 * fsynced, renamed over path, then the directory fsynced so the rename
 * survives a power cut. A crash leaves either the old file or the new one.
 */
export function writePrivateFileDurably(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp`;
  // Made anew, never opened through what is there: in a sticky directory
  // others may have put a symlink at tmp (unlink removes the link itself).
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/**
 * The JSON a file of this process's own making holds (writePrivateFileDurably),
 * or undefined when there is none. Only a regular file of this user, 0600, is
 * believed; that, or a file that is not JSON, is FAILED_PRECONDITION naming
 * it (`what`: 'journal', 'fence') and telling to remove it to start anyway.
 */
export function readOwnPrivateJson(path: string, what: string): unknown {
  if (!existsSync(path)) return undefined;
  const st = lstatSync(path);
  if (!st.isFile() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) {
    throw new XvpcError('FAILED_PRECONDITION', `${what} ${path}: not a private file of this user (owner uid ${st.uid}, `
      + `mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}), so not one transitd wrote; inspect it, then remove it to start anyway`);
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new XvpcError('FAILED_PRECONDITION', `${what} ${path}: not readable (${(err as Error).message}); inspect it, then remove it to start anyway`);
  }
}

/** Makes a rename or unlink in dir durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

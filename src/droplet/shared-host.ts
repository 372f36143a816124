// createDroplets({ transitd: 'shared' }): the netns droplets of one call share
// one transitd host process (src/transitd/host.ts), each droplet's transitd
// served in it inside the droplet's namespace. Every droplet's pid file names the host's pid, and the host's
// command line holds each droplet's --socket, so stopTransitd, openDroplets
// and cleanupAll find it as they find a transitd of its own. One droplet's
// transitd is started, stopped and asked after through the host's control
// socket, whose path is in its command line too.
import { spawn } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { XvpcError } from '../errors.js';
import { hostArgs } from '../transitd/host-args.js';
import { hostRequest, type HostReply, type HostRequest } from '../transitd/host-control.js';
import { openPrivateLog } from '../util/private-fs.js';
import { hostControlPath, hostLogPath, logPath } from './names.js';
import { cmdlineHas, isRunning, stopProcess } from './process.js';

/** What the host needs of one droplet. */
export interface SharedMember { prefix: string; id: string; netnsPath: string; args: string[]; socket: string }

/** Starts one host process for `members` (detached: it outlives this process); returns its pid. */
export async function spawnSharedHost(hostMain: string, members: SharedMember[]): Promise<number> {
  const { prefix, id } = members[0];
  const argv = [hostMain, ...hostArgs(hostControlPath(prefix, id), members.map((m) => ({ netns: m.netnsPath, log: logPath(m.prefix, m.id), args: m.args })))];
  const log = openPrivateLog(hostLogPath(prefix, id)); // 0600 whatever the umask
  try {
    const child = spawn(process.execPath, argv, { detached: true, stdio: ['ignore', log, log] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', reject);
    });
    child.unref();
    await waitListening(pid, hostControlPath(prefix, id), hostLogPath(prefix, id));
    return pid;
  } finally {
    closeSync(log);
  }
}

/** Until the host listens on its control socket (it starts its transitds then); a host that exits first fails with its log. */
async function waitListening(pid: number, control: string, log: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(control)) {
    const tail = async () => (await readFile(log, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-20).join('\n');
    if (!(await isRunning(pid))) throw new XvpcError('UNAVAILABLE', `transitd host exited during start-up; log ${log}:\n${await tail()}`);
    if (Date.now() > deadline) {
      await stopProcess(pid, control);
      throw new XvpcError('UNAVAILABLE', `transitd host did not listen on ${control} within ${timeoutMs} ms; log ${log}:\n${await tail()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The control socket of the host `pid`, from its command line; undefined if pid is not a host. */
export async function hostControl(pid: number): Promise<string | undefined> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  const i = argv.indexOf('--control');
  return i > 0 ? argv[i + 1] : undefined;
}

/**
 * One request to the host `pid`. Undefined when the host is gone (or is no
 * host); a host that runs but does not answer is an error.
 */
export async function askHost(pid: number, req: HostRequest, socket: string, timeoutMs = 30_000): Promise<HostReply | undefined> {
  const control = await hostControl(pid);
  // Its command line names the droplet's socket: a reused pid is never asked.
  if (control === undefined || !(await isRunning(pid)) || !(await cmdlineHas(pid, socket, true))) return undefined;
  let reply: HostReply;
  try {
    reply = await hostRequest(control, req, timeoutMs);
  } catch (err) {
    if (!(await isRunning(pid))) return undefined; // exited meanwhile
    throw new XvpcError('UNAVAILABLE', `transitd host ${pid}: ${req.op} ${req.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!reply.ok) throw new XvpcError('INTERNAL', `transitd host ${pid}: ${req.op} ${req.name}: ${reply.error}`);
  return reply;
}

/** Whether droplet `name`'s transitd has ended (or its host). */
export async function sharedTransitdGone(pid: number, name: string, socket: string): Promise<boolean> {
  let r: HostReply | undefined;
  try {
    r = await askHost(pid, { op: 'status', name }, socket, STATUS_TIMEOUT_MS);
  } catch {
    return false; // it runs, busy loading another droplet's programs (they load on its one thread)
  }
  return r === undefined || r.state === 'stopped' || r.state === 'exited';
}

const STATUS_TIMEOUT_MS = 2000;
/** A stop may wait for the droplet's start-up in flight, behind others' on the host's one thread. */
const STOP_TIMEOUT_MS = 120_000;

/**
 * Stops droplet `name`'s transitd; the others keep serving. A host left with
 * none exits by itself: this waits until it is gone.
 */
export async function stopSharedTransitd(pid: number, name: string, socket: string): Promise<void> {
  const r = await askHost(pid, { op: 'stop', name }, socket, STOP_TIMEOUT_MS);
  if (r !== undefined && r.live === 0) await stopProcess(pid, socket);
}

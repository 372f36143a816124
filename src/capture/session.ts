// A running capture: an async iterator of decoded packets with stop().
//
//   XdpCapture   a host's data-path programs, through their capture hook
//                (xdpcap_hook, or tccap_hook on the TC build): one capture
//                program per chosen action, the tcpdump filter translated to
//                eBPF and run in the kernel, matches streamed through a ring buffer.
//   PcapCapture  an ordinary interface (an endpoint's veth0, the underlay
//                bridge) through libpcap, opened inside its network namespace,
//                the filter attached to the socket.
//
// Both poll without blocking on a short timer. The timer only keeps Node
// alive while someone awaits a packet, so a capture left open never holds a
// process (or a teardown) up; stop() detaches and closes everything.
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { XvpcError } from '../errors.js';
import type { Hook } from '../dataplane/host.js';
import { addon, type RawPcapLive, type RawRingBuffer } from '../dataplane/addon.js';
import { decodeCbpf, compileFilter } from './cbpf.js';
import { decodeFrame, type Frame } from './decode.js';
import { STAT_NAMES } from '../abi/index.js';
import type { CaptureInterface } from './pcap.js';
import {
  CaptureMaps, DEFAULT_SNAPLEN, MAX_SNAPLEN, XDP_ACTIONS, captureProgram, loadCaptureProgram, parseSample, ringBytes,
  type XdpAction,
} from './program.js';

export interface CapturedPacket extends Frame {
  /** The verdict the packet left the host's XDP program with (XDP captures). */
  action?: XdpAction;
  /** Interface the packet came in on (XDP captures: the ingress ifindex in the host's namespace). */
  ifindex?: number;
  /** Hook captures of drops: why the data path dropped it (a drop counter's name without drop_, e.g. 'spoofed'). */
  dropReason?: string;
  /** Index into the capture's `interfaces` (pcapng interface id). */
  interfaceId: number;
  /** Wall clock, ns since the epoch. */
  timestampNs: bigint;
  /** Length on the wire; `data` holds at most snaplen bytes of it. */
  length: number;
  data: Buffer;
}

interface RawPacket { interfaceId: number; timestampNs: bigint; length: number; data: Buffer; action?: XdpAction; ifindex?: number; dropReason?: string }

const DEFAULT_POLL_MS = 10;
const DEFAULT_MAX_QUEUE = 100_000;

export abstract class Capture implements AsyncIterableIterator<CapturedPacket> {
  /** Capture points: one per XDP action, or the one interface. */
  abstract readonly interfaces: CaptureInterface[];
  /** Packets taken from the kernel, and packets dropped because nobody read them (queue full). */
  readonly stats = { captured: 0, dropped: 0 };
  /** Why the capture ended by itself (e.g. its interface went away). */
  error?: Error;

  private readonly queue: CapturedPacket[] = [];
  private readonly waiters: ((r: IteratorResult<CapturedPacket>) => void)[] = [];
  private timer?: NodeJS.Timeout;
  private ended = false;

  protected constructor(private readonly pollMs = DEFAULT_POLL_MS, private readonly maxQueue = DEFAULT_MAX_QUEUE) {}

  /** Packets the kernel has for us now; throwing ends the capture with that error. */
  protected abstract pull(): RawPacket[];
  /** Detaches and closes; called once. */
  protected abstract release(): void;

  protected start(): void {
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
  }

  get stopped(): boolean { return this.ended; }

  private tick(): void {
    if (this.ended) return;
    try {
      for (const p of this.pull()) this.deliver(p);
    } catch (err) {
      this.error = err instanceof Error ? err : new Error(String(err));
      this.finish();
    }
  }

  private deliver(raw: RawPacket): void {
    this.stats.captured++;
    const pkt: CapturedPacket = { ...decodeFrame(raw.data), ...raw };
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter({ value: pkt, done: false });
      if (this.waiters.length === 0) this.timer?.unref();
    } else if (this.queue.length < this.maxQueue) {
      this.queue.push(pkt);
    } else {
      this.stats.dropped++;
    }
  }

  next(): Promise<IteratorResult<CapturedPacket>> {
    return this.wait() as Promise<IteratorResult<CapturedPacket>>;
  }

  /** The next packet, the end, or 'timeout' after timeoutMs (the waiter is withdrawn, so nothing is lost). */
  private wait(timeoutMs?: number): Promise<IteratorResult<CapturedPacket> | 'timeout'> {
    const pkt = this.queue.shift();
    if (pkt) return Promise.resolve({ value: pkt, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      let timeout: NodeJS.Timeout | undefined;
      const waiter = (r: IteratorResult<CapturedPacket>) => {
        clearTimeout(timeout);
        resolve(r);
      };
      this.waiters.push(waiter);
      this.timer?.ref();
      if (timeoutMs !== undefined) {
        timeout = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          if (this.waiters.length === 0) this.timer?.unref();
          resolve('timeout');
        }, Math.max(0, timeoutMs));
      }
    });
  }

  /** Leaving a for-await loop early stops the capture. */
  async return(): Promise<IteratorResult<CapturedPacket>> {
    await this.stop();
    this.queue.length = 0;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this { return this; }

  /**
   * Takes what the kernel still holds, detaches and closes. Packets already
   * taken can still be read from the iterator; then it ends. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.tick();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    try {
      this.release();
    } finally {
      for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    }
  }

  /**
   * Packets until `count` arrived or `timeoutMs` passed (default 2 s),
   * whichever is first; the capture keeps running.
   */
  async collect(opts: { count?: number; timeoutMs?: number } = {}): Promise<CapturedPacket[]> {
    const out: CapturedPacket[] = [];
    const deadline = Date.now() + (opts.timeoutMs ?? 2000);
    while (out.length < (opts.count ?? Infinity)) {
      const r = await this.wait(deadline - Date.now());
      if (r === 'timeout' || r.done) break;
      out.push(r.value);
    }
    return out;
  }
}

// --- XDP hook captures ---------------------------------------------------------

/** The pinned capture hook of a host whose maps are pinned under pinRoot: tccap_hook if it runs the TC build, else xdpcap_hook. */
export function hookPath(pinRoot: string): string {
  const dir = pinRoot.replace(/\/$/, '');
  return existsSync(`${dir}/tccap_hook`) ? `${dir}/tccap_hook` : `${dir}/xdpcap_hook`;
}

/** The build whose hook a pinned capture hook is. */
const hookOfPath = (path: string): Hook => (basename(path) === 'tccap_hook' ? 'tc' : 'xdp');

export interface XdpCaptureOptions {
  /** the host's pinned xdpcap_hook (hookPath(droplet.pinRoot)) */
  hookPath: string;
  /** which verdicts to capture; default all five */
  actions?: readonly XdpAction[];
  /** tcpdump expression, run in the kernel; default everything */
  filter?: string;
  /** bytes kept per packet, default 4096 (max 16384) */
  snaplen?: number;
  /** ring buffer size in bytes (rounded up to a power of two); default 4 MiB */
  ringBytes?: number;
  /** names the capture points in pcapng: `<name>:xdp:<action>` */
  name?: string;
  /** take the slots even if another live capture holds them */
  force?: boolean;
}

/** Slots held by captures of this process: `${mapId}/${slot}`. */
const heldSlots = new Set<string>();
const liveCaptures = new Set<Capture>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that exits without stop() still empties the slots it took.
  process.on('exit', () => {
    for (const c of [...liveCaptures]) void c.stop();
  });
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

export class XdpCapture extends Capture {
  readonly interfaces: CaptureInterface[];
  readonly actions: readonly XdpAction[];
  private hookFd: number;
  private reasonFd = -1;
  private readonly mapId: number;
  private maps?: CaptureMaps;
  private ring?: RawRingBuffer;
  private readonly progs: { slot: number; fd: number; id: number }[] = [];
  private readonly clockOffset = addon.clockOffsetNs();

  constructor(opts: XdpCaptureOptions) {
    super();
    const actions = [...new Set(opts.actions ?? XDP_ACTIONS)];
    if (actions.length === 0) throw new XvpcError('INVALID_ARGUMENT', 'actions: give at least one XDP action');
    for (const a of actions) {
      if (!XDP_ACTIONS.includes(a)) throw new XvpcError('INVALID_ARGUMENT', `actions: '${a}' is not one of ${XDP_ACTIONS.join(', ')}`);
    }
    this.actions = actions;
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 64 || snaplen > MAX_SNAPLEN) {
      throw new XvpcError('INVALID_ARGUMENT', `snaplen: ${snaplen} is not an integer in 64..${MAX_SNAPLEN}`);
    }
    let filter;
    try {
      filter = opts.filter?.trim() ? decodeCbpf(compileFilter(opts.filter, snaplen)) : undefined;
    } catch (err) {
      throw new XvpcError('INVALID_ARGUMENT', (err as Error).message);
    }
    const prefix = opts.name ? `${opts.name}:` : '';
    const hook = hookOfPath(opts.hookPath);
    this.interfaces = actions.map((a) => ({
      name: `${prefix}${hook}:${a}`, linktype: 1, snaplen,
      description: hook === 'xdp' ? `packets leaving XDP with XDP_${a.toUpperCase()}` : `packets leaving the TC data path with verdict ${a}`,
    }));

    try {
      this.hookFd = addon.objGet(opts.hookPath);
    } catch (err) {
      throw new XvpcError('FAILED_PRECONDITION',
        `no capture hook at ${opts.hookPath} (is the host's transitd running?): ${(err as Error).message.split('\n')[0]}`);
    }
    this.mapId = addon.mapInfo(this.hookFd).id;
    try {
      this.checkSlots(actions, opts.force ?? false);
      this.maps = new CaptureMaps(snaplen, ringBytes(opts.ringBytes ?? 4 << 20));
      // The data path's last drop reason per CPU (absent in pins of older builds: no reasons then).
      const reasonPin = `${dirname(opts.hookPath)}/drop_reason`;
      this.reasonFd = existsSync(reasonPin) ? addon.objGet(reasonPin) : -1;
      const name = `xcap_${process.pid}`;
      for (const action of actions) {
        const slot = XDP_ACTIONS.indexOf(action);
        const insns = captureProgram({
          action: slot, snaplen, ringbufFd: this.maps.ringbufFd, scratchFd: this.maps.scratchFd, filter, hook,
          dropReasonFd: this.reasonFd >= 0 ? this.reasonFd : undefined,
        });
        const fd = loadCaptureProgram(insns, name, hook);
        this.progs.push({ slot, fd, id: addon.progId(fd) });
      }
      this.ring = new addon.RingBuffer(this.maps.ringbufFd);
      for (const p of this.progs) {
        addon.mapUpdate(this.hookFd, u32(p.slot), u32(p.fd));
        heldSlots.add(`${this.mapId}/${p.slot}`);
      }
    } catch (err) {
      this.release();
      throw err;
    }
    liveCaptures.add(this);
    installExitHook();
    this.start();
  }

  /** Refuses slots a live capture holds; a dead capture's leftovers are taken over. */
  private checkSlots(actions: readonly XdpAction[], force: boolean): void {
    for (const action of actions) {
      const slot = XDP_ACTIONS.indexOf(action);
      const v = addon.mapLookup(this.hookFd, u32(slot));
      if (!v || force) continue;
      const id = v.readUInt32LE(0);
      const info = addon.progInfoById(id);
      if (!info) continue;
      const m = /^xcap_(\d+)$/.exec(info.name);
      const pid = m ? Number(m[1]) : undefined;
      const stale = pid !== undefined && (pid === process.pid ? !heldSlots.has(`${this.mapId}/${slot}`) : !pidAlive(pid));
      if (!stale) {
        throw new XvpcError('FAILED_PRECONDITION',
          `the ${action} slot of ${this.interfaces[0].name.split(':')[0] || 'this host'}'s capture hook is taken by program ${id} (${info.name}${pid ? `, pid ${pid}` : ''}); stop that capture first, or force`);
      }
    }
  }

  protected pull(): RawPacket[] {
    if (!this.ring) return [];
    return this.ring.consume(4096).map((buf) => {
      const s = parseSample(buf);
      const action = XDP_ACTIONS[s.action];
      const reason = s.dropReason !== undefined ? STAT_NAMES[s.dropReason] : undefined;
      return {
        interfaceId: Math.max(0, this.actions.indexOf(action)),
        timestampNs: s.ktimeNs + this.clockOffset,
        length: s.length,
        data: s.data,
        action,
        ifindex: s.ifindex,
        ...(reason?.startsWith('drop_') ? { dropReason: reason.slice('drop_'.length) } : {}),
      };
    });
  }

  protected release(): void {
    liveCaptures.delete(this);
    for (const p of this.progs) {
      // Only empty a slot that still holds our program.
      try {
        const v = addon.mapLookup(this.hookFd, u32(p.slot));
        if (v && v.readUInt32LE(0) === p.id) addon.mapDelete(this.hookFd, u32(p.slot));
      } catch {
        // the hook is gone with its host
      }
      heldSlots.delete(`${this.mapId}/${p.slot}`);
      addon.closeFd(p.fd);
    }
    this.progs.length = 0;
    if (this.reasonFd >= 0) addon.closeFd(this.reasonFd);
    this.reasonFd = -1;
    this.ring?.close();
    this.ring = undefined;
    this.maps?.close();
    this.maps = undefined;
    if (this.hookFd >= 0) addon.closeFd(this.hookFd);
    this.hookFd = -1;
  }
}

// --- libpcap captures ------------------------------------------------------------

export interface PcapCaptureOptions {
  iface: string;
  /** network namespace the interface lives in (a path, e.g. /run/netns/NAME); default ours */
  netnsPath?: string;
  filter?: string;
  /** default 262144 */
  snaplen?: number;
  promisc?: boolean;
  /** names the capture point in pcapng; default the interface */
  name?: string;
}

export class PcapCapture extends Capture {
  readonly interfaces: CaptureInterface[];
  private handle?: RawPcapLive;

  constructor(opts: PcapCaptureOptions) {
    super();
    const snaplen = opts.snaplen ?? 262144;
    if (!Number.isInteger(snaplen) || snaplen < 64 || snaplen > 262144) {
      throw new XvpcError('INVALID_ARGUMENT', `snaplen: ${snaplen} is not an integer in 64..262144`);
    }
    try {
      this.handle = new addon.PcapLive(opts.iface, {
        netns: opts.netnsPath, snaplen, promisc: opts.promisc ?? true, filter: opts.filter?.trim() || undefined,
      });
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new XvpcError(e.code === 'EFILTER' ? 'INVALID_ARGUMENT' : 'FAILED_PRECONDITION', e.message);
    }
    this.interfaces = [{
      name: opts.name ?? opts.iface, description: opts.netnsPath ? `${opts.iface} in ${opts.netnsPath}` : opts.iface,
      linktype: this.handle.datalink, snaplen: this.handle.snaplen,
    }];
    liveCaptures.add(this);
    installExitHook();
    this.start();
  }

  protected pull(): RawPacket[] {
    if (!this.handle) return [];
    return this.handle.dispatch(1024).map((p) => ({
      interfaceId: 0, timestampNs: BigInt(p.sec) * 1_000_000_000n + BigInt(p.nsec), length: p.len, data: p.data,
    }));
  }

  protected release(): void {
    liveCaptures.delete(this);
    this.handle?.close();
    this.handle = undefined;
  }
}

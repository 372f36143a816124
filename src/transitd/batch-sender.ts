// Sends many endpoint records to one transitd as PutEndpoints calls of
// `chunk` records, `window` of them in flight. The calling thread only packs
// records into shared memory, in the compact form the wire carries
// (src/abi/batch-compact.ts; no allocation per chunk); a worker thread
// (batch-sender-worker.ts) encodes and sends them. Why: every 64 MB of new
// Buffers makes V8 run a full garbage collection of the caller's heap, and a
// Controller that holds a million records has a heap of hundreds of MB; the
// worker's heap stays small, so its collections cost milliseconds.
// Each chunk is its own PutEndpoints call: checked and applied all or nothing
// by transitd; on the first refused chunk (or a record that cannot be packed)
// the rest are not sent, and chunks sent before stay applied (as with one
// PutEndpoints call per chunk). Putting the same records again is harmless.
import { Worker } from 'node:worker_threads';
import { ENDPOINT_KEY as EK, ENDPOINT_VALUE_HEAD_SIZE, MAX_BACKENDS, packEndpointsCompactInto, type EndpointRecord } from '../abi/index.js';
import { XvpcError, invalid, type XvpcErrorCode } from '../errors.js';
import type { TlsFiles } from './tls.js';

export interface BatchSenderOptions {
  /** records per PutEndpoints call (default 30,000: 1.1 MB on the wire; per slot 1.1 MB of shared memory, and 1.9 MB more that only scaled endpoints' backends touch) */
  chunk?: number;
  /** calls in flight at once (default 2) */
  window?: number;
  timeoutMs?: number;
  tls?: TlsFiles;
}

/** What the worker is started with. */
export interface SenderWorkerData {
  name: string; address: string; timeoutMs: number; tls?: TlsFiles;
  /** per slot: shared memory for chunk records' keys, value heads and backends (compact form) */
  slots: SenderSlotMemory[];
}
export interface SenderSlotMemory { keys: SharedArrayBuffer; heads: SharedArrayBuffer; backends: SharedArrayBuffer }
/** To the worker: send slot `slot`'s first `count` records and `backendBytes` of backends (count 0: a Health call). From it: the answer. */
export interface SenderRequest { id: number; slot: number; count: number; backendBytes: number }
export interface SenderReply { id: number; error?: { code: XvpcErrorCode; message: string } }

export class EndpointBatchSender {
  private readonly worker: Worker;
  private readonly slots: { keys: Buffer; heads: Buffer; backends: Buffer }[];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;
  private readonly chunk: number;
  private readonly window: number;

  constructor(readonly name: string, address: string, opts: BatchSenderOptions = {}) {
    this.chunk = opts.chunk ?? 30_000;
    this.window = opts.window ?? 2;
    if (!Number.isInteger(this.chunk) || this.chunk < 1) throw invalid(`chunk: ${this.chunk} is not a positive whole number`);
    if (!Number.isInteger(this.window) || this.window < 1) throw invalid(`window: ${this.window} is not a positive whole number`);
    // Backends at their most (a chunk of scaled endpoints with MAX_BACKENDS each): pages no record writes are never touched.
    const shared: SenderSlotMemory[] = Array.from({ length: this.window }, () => ({
      keys: new SharedArrayBuffer(this.chunk * EK.size), heads: new SharedArrayBuffer(this.chunk * ENDPOINT_VALUE_HEAD_SIZE),
      backends: new SharedArrayBuffer(this.chunk * MAX_BACKENDS * 4),
    }));
    this.slots = shared.map((s) => ({ keys: Buffer.from(s.keys), heads: Buffer.from(s.heads), backends: Buffer.from(s.backends) }));
    const workerData: SenderWorkerData = { name, address, timeoutMs: opts.timeoutMs ?? 120_000, tls: opts.tls, slots: shared };
    this.worker = new Worker(new URL('./batch-sender-worker.js', import.meta.url), { workerData });
    this.worker.on('message', (r: SenderReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.error) p?.reject(new XvpcError(r.error.code, r.error.message));
      else p?.resolve();
    });
    this.worker.on('error', (err) => this.failAll(new XvpcError('INTERNAL', `${name}: batch sender: ${err.message}`)));
    this.worker.on('exit', () => {
      this.closed = true;
      this.failAll(new XvpcError('UNAVAILABLE', `${name}: batch sender closed`));
    });
  }

  private failAll(err: XvpcError): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private send(slot: number, count: number, backendBytes = 0): Promise<void> {
    if (this.closed) return Promise.reject(new XvpcError('UNAVAILABLE', `${this.name}: batch sender closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, slot, count, backendBytes } satisfies SenderRequest);
    });
  }

  /** Resolves once the worker runs and its transitd answers Health (the connection is up). */
  ready(): Promise<void> {
    return this.send(0, 0);
  }

  /** Puts every record; resolves with their count once transitd applied all, or throws the first refusal. */
  async put(records: readonly EndpointRecord[]): Promise<number> {
    if (this.closed) throw new XvpcError('UNAVAILABLE', `${this.name}: batch sender closed`);
    let next = 0;
    let failed: unknown;
    // One lane per slot: pack the next chunk into the slot, send it, wait for its answer.
    const lane = async (slot: number) => {
      const { keys, heads, backends } = this.slots[slot];
      while (next < records.length && failed === undefined) {
        const from = next;
        next = Math.min(records.length, from + this.chunk);
        let packed: { count: number; backendBytes: number };
        try {
          packed = packEndpointsCompactInto(records, from, next, keys, heads, backends);
        } catch (err) {
          failed ??= err;
          break;
        }
        try {
          await this.send(slot, packed.count, packed.backendBytes);
        } catch (err) {
          // Say which call: transitd's record index counts from the start of the chunk.
          failed ??= err instanceof XvpcError
            ? new XvpcError(err.code, `records ${from}..${next - 1} (one PutEndpoints call, refused whole): ${err.message}`) : err;
        }
      }
    };
    await Promise.all(this.slots.map((_, slot) => lane(slot)));
    if (failed !== undefined) throw failed;
    return records.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}

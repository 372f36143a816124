// Sends many endpoint records to one transitd as PutEndpoints calls of
// `chunk` records, `window` of them in flight. The calling thread only packs
// records into one of `window` reused buffers (no allocation per chunk) and
// hands it to a worker thread (batch-sender-worker.ts), which encodes and
// sends it and hands it back: moved (postMessage's transfer list), never
// copied, and not shared memory, whose fills and copies V8 does byte by
// byte with atomic stores (a third of the worker's CPU and a tenth of the
// packing's, measured at 1M records). Why a worker: every 64 MB of new
// Buffers makes V8 run a full garbage collection of the caller's heap, and a
// Controller that holds a million records has a heap of hundreds of MB; the
// worker's heap stays small, so its collections cost milliseconds.
// Each chunk is its own PutEndpoints call: checked and applied all or nothing
// by transitd; on the first refused chunk (or a record that cannot be packed)
// the rest are not sent, and chunks sent before stay applied (as with one
// PutEndpoints call per chunk). Putting the same records again is harmless.
import { Worker } from 'node:worker_threads';
import { ENDPOINT_KEY as EK, ENDPOINT_VALUE as EV, packEndpointsInto, type EndpointRecord } from '../abi/index.js';
import { XvpcError, invalid, type XvpcErrorCode } from '../errors.js';
import type { TlsFiles } from './tls.js';

export interface BatchSenderOptions {
  /** records per PutEndpoints call (default 30,000: 3 MB) */
  chunk?: number;
  /** calls in flight at once (default 2) */
  window?: number;
  timeoutMs?: number;
  tls?: TlsFiles;
}

/** What the worker is started with. */
export interface SenderWorkerData { name: string; address: string; timeoutMs: number; tls?: TlsFiles }
/** A slot's memory: chunk records' keys and values, owned by one thread at a time. */
export interface SenderSlot { keys: ArrayBuffer; values: ArrayBuffer }
/**
 * To the worker: send the first `count` records of `slot` (moved to it), or
 * with no slot a Health call. From it: the answer, with the slot moved back.
 */
export interface SenderRequest { id: number; count: number; slot?: SenderSlot }
export interface SenderReply { id: number; slot?: SenderSlot; error?: { code: XvpcErrorCode; message: string } }

export class EndpointBatchSender {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (slot?: SenderSlot) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** Slot memory between put() calls (a slot the worker never gave back is made anew). */
  private readonly spare: SenderSlot[] = [];
  private closed = false;
  private readonly chunk: number;
  private readonly window: number;

  constructor(readonly name: string, address: string, opts: BatchSenderOptions = {}) {
    this.chunk = opts.chunk ?? 30_000;
    this.window = opts.window ?? 2;
    if (!Number.isInteger(this.chunk) || this.chunk < 1) throw invalid(`chunk: ${this.chunk} is not a positive whole number`);
    if (!Number.isInteger(this.window) || this.window < 1) throw invalid(`window: ${this.window} is not a positive whole number`);
    const workerData: SenderWorkerData = { name, address, timeoutMs: opts.timeoutMs ?? 120_000, tls: opts.tls };
    this.worker = new Worker(new URL('./batch-sender-worker.js', import.meta.url), { workerData });
    this.worker.on('message', (r: SenderReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.error) p?.reject(new SenderError(r.error.code, r.error.message, r.slot));
      else p?.resolve(r.slot);
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

  /** Sends `count` records of `slot` (moved to the worker; the answer brings it back), or a Health call without one. */
  private send(count: number, slot?: SenderSlot): Promise<SenderSlot | undefined> {
    if (this.closed) return Promise.reject(new XvpcError('UNAVAILABLE', `${this.name}: batch sender closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, count, slot } satisfies SenderRequest, slot ? [slot.keys, slot.values] : []);
    });
  }

  /** Resolves once the worker runs and its transitd answers Health (the connection is up). */
  async ready(): Promise<void> {
    await this.send(0);
  }

  /** Puts every record; resolves with their count once transitd applied all, or throws the first refusal. */
  async put(records: readonly EndpointRecord[]): Promise<number> {
    if (this.closed) throw new XvpcError('UNAVAILABLE', `${this.name}: batch sender closed`);
    let next = 0;
    let failed: unknown;
    // One lane per slot: pack the next chunk into the slot, send it, wait for its answer (and the slot).
    const lane = async () => {
      let slot: SenderSlot | undefined = this.spare.pop() ?? { keys: new ArrayBuffer(this.chunk * EK.size), values: new ArrayBuffer(this.chunk * EV.size) };
      try {
        while (slot && next < records.length && failed === undefined) {
          const from = next;
          next = Math.min(records.length, from + this.chunk);
          let count: number;
          try {
            count = packEndpointsInto(records, from, next, Buffer.from(slot.keys), Buffer.from(slot.values));
          } catch (err) {
            failed ??= err;
            break;
          }
          const sent = slot;
          slot = undefined; // the worker's until it answers
          try {
            slot = await this.send(count, sent);
          } catch (err) {
            if (err instanceof SenderError) slot = err.slot;
            // Say which call: transitd's record index counts from the start of the chunk.
            failed ??= err instanceof XvpcError
              ? new XvpcError(err.code, `records ${from}..${next - 1} (one PutEndpoints call, refused whole): ${err.message}`) : err;
          }
        }
      } finally {
        if (slot) this.spare.push(slot);
      }
    };
    await Promise.all(Array.from({ length: this.window }, lane));
    if (failed !== undefined) throw failed;
    return records.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}

/** A refusal from the worker, with the slot it gives back. */
class SenderError extends XvpcError {
  constructor(code: XvpcErrorCode, message: string, readonly slot?: SenderSlot) { super(code, message); }
}

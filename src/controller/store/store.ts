// The Controller's desired state on disk (or in etcd): a keyed-object store.
// Objects are JSON values named by (kind, key); the store knows nothing of
// what a kind means (src/controller/stored-model.ts does), so a new kind of
// object (security groups, ...) needs no change here.
//
// Every commit is checked against the version the controller last saw: a
// controller whose picture is stale (another process wrote since) gets
// StaleStoreError, reloads, and tries again.

import type { FenceToken } from '../../transitd/client.js';

export interface StoredObject { kind: string; key: string; value: unknown }

/** One write of a commit: `value` undefined deletes the object. */
export interface StoreChange { kind: string; key: string; value?: unknown }

export interface StoreSnapshot { objects: StoredObject[]; version: number }

export interface Store {
  /** 'memory', 'sqlite:<path>' or 'etcd://...': for status and errors */
  readonly description: string;
  /**
   * What this store's controllers send hosts (src/transitd/fence.ts), which
   * remember the store that programs them and refuse the controllers of
   * another: the embedded store's epoch (drawn when its file was made) with
   * term 1 (its controllers take no turns). etcd's comes with its leadership
   * (Leadership.fence). Undefined: not fenced (memory).
   */
  readonly fence?: FenceToken;
  /** Everything, with the version it was read at. */
  load(): Promise<StoreSnapshot>;
  /** The version now: bumped by every commit, by any process. */
  version(): Promise<number>;
  /**
   * Applies `changes` in order, only if the store is still at `expect`
   * (else StaleStoreError, nothing written); returns the new version.
   */
  commit(changes: StoreChange[], expect: number): Promise<number>;
  close(): Promise<void>;
}

/** The store moved on since the controller read it: reload and retry. */
export class StaleStoreError extends Error {
  constructor(readonly description: string) { super(`${description}: changed by another controller`); }
}

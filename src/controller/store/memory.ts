// A store in this process's memory only: for controllers without a droplet
// prefix to keep their state with (remote hosts, unit tests), as before
// stores existed.
import { StaleStoreError, type Store, type StoreChange, type StoreSnapshot, type StoredObject } from './store.js';

const id = (kind: string, key: string) => `${kind}\0${key}`;

export class MemoryStore implements Store {
  readonly description = 'memory';
  private readonly objects = new Map<string, StoredObject>();
  private current = 0;

  async load(): Promise<StoreSnapshot> {
    return { objects: [...this.objects.values()].map((o) => structuredClone(o)), version: this.current };
  }

  async version(): Promise<number> { return this.current; }

  async commit(changes: StoreChange[], expect: number): Promise<number> {
    if (expect !== this.current) throw new StaleStoreError(this.description);
    for (const c of changes) {
      if (c.value === undefined) this.objects.delete(id(c.kind, c.key));
      else this.objects.set(id(c.kind, c.key), { kind: c.kind, key: c.key, value: structuredClone(c.value) });
    }
    return ++this.current;
  }

  async close(): Promise<void> {}
}

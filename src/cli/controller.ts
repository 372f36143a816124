// A Controller for one CLI command: the droplets of --prefix (openDroplets),
// with the store of --store (default: the embedded one kept with the prefix).
import { Controller } from '../controller/controller.js';
import { storeOpener } from '../controller/store/open.js';
import { openDroplets, type Droplet } from '../droplet/index.js';
import { UsageError, checkPrefix, required } from './args.js';

export const CONTROLLER_OPTIONS = { prefix: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } } as const;

/** --store as the CLI takes it (checked before anything is shown or opened): usage errors name it. */
export function checkStoreOption(store: string | undefined): void {
  if (store === undefined) return;
  // A store that lives as long as this command holds nothing: listing it shows nothing, and a change
  // through it would make every host match nothing but that change.
  if (store === 'memory') throw new UsageError("--store memory: a CLI command's memory store is empty and dies with the command; use the prefix's own store (the default), sqlite:PATH or etcd://");
  try {
    storeOpener(store, []);
  } catch (err) {
    throw new UsageError(`--store: ${(err as Error).message.replace(/^store: /, '')}`);
  }
}

export async function withController<T>(values: { prefix?: string; store?: string }, fn: (c: Controller<Droplet>) => Promise<T>): Promise<T> {
  const prefix = checkPrefix(required(values.prefix, 'prefix'));
  checkStoreOption(values.store);
  const droplets = await openDroplets({ prefix });
  const c = new Controller(droplets, values.store !== undefined ? { store: values.store } : {});
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

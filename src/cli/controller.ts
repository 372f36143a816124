// A Controller for one CLI command: the droplets of --prefix (openDroplets),
// with the store of --store (default: the embedded one kept with the prefix).
import { Controller } from '../controller/controller.js';
import { openDroplets, type Droplet } from '../droplet/index.js';
import { checkPrefix, required } from './args.js';

export const CONTROLLER_OPTIONS = { prefix: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } } as const;

export async function withController<T>(values: { prefix?: string; store?: string }, fn: (c: Controller<Droplet>) => Promise<T>): Promise<T> {
  const prefix = checkPrefix(required(values.prefix, 'prefix'));
  const droplets = await openDroplets({ prefix });
  const c = new Controller(droplets, values.store !== undefined ? { store: values.store } : {});
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

// transitd --capacity NAME=N,...: smaller (or larger) maps than the data
// path's defaults. Preallocated maps (the LRUs: conntrack, ep_host_cache,
// scaled_flows) take their whole size in kernel memory on every host, and the
// endpoints hash its bucket array (16 bytes a slot), so many emulated hosts on
// one machine want them small (docs/emulation.md "Memory").
import { invalid } from '../errors.js';
import { CAPACITY_NAMES, MAX_CAPACITY } from '../abi/limits.js';
import type { Capacities } from '../dataplane/host.js';

/** 'conntrack=16384,endpoints=65536' -> { conntrack: 16384, endpoints: 65536 }; '' -> {}. */
export function parseCapacities(text: string, field = 'capacity'): Capacities {
  const out: Capacities = {};
  if (text.trim() === '') return out;
  for (const item of text.split(',')) {
    const m = /^\s*([a-z_]+)=(\d+)\s*$/.exec(item);
    if (!m) throw invalid(`${field}: '${item}' is not NAME=N`);
    const [, name, raw] = m;
    if (!(CAPACITY_NAMES as readonly string[]).includes(name)) throw invalid(`${field}: no map '${name}' (maps: ${CAPACITY_NAMES.join(', ')})`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CAPACITY) throw invalid(`${field}: ${name}=${raw} is outside 1..${MAX_CAPACITY}`);
    if (out[name as keyof Capacities] !== undefined) throw invalid(`${field}: ${name} is given twice`);
    out[name as keyof Capacities] = n;
  }
  return out;
}

/** Maps transitd may preallocate (--preallocate): the endpoints hash only (see endpointsMapFlags in dataplane/host.ts). */
export const PREALLOCATABLE = ['endpoints'] as const;

/** --preallocate NAME (or env XVPC_TRANSITD_PREALLOCATE): 'endpoints' -> true; '' -> false (the default, allocation per record). */
export function parsePreallocate(text: string, field = 'preallocate'): boolean {
  const name = text.trim();
  if (name === '') return false;
  if (!(PREALLOCATABLE as readonly string[]).includes(name)) throw invalid(`${field}: '${name}' cannot be preallocated (only: ${PREALLOCATABLE.join(', ')})`);
  return true;
}

// The kernel's ARP table is one for the whole machine, shared by every
// network namespace, and its hard limit (net.ipv4.neigh.default.gc_thresh3)
// is 1,024 entries by default. Emulated endpoints are namespaces on one
// machine, each with an entry per peer it talks to on its network: near a
// thousand endpoints the table overflows ("neighbor table overflow" in the
// kernel log) and a packet whose next hop has no entry is dropped before any
// ARP request, so first packets go missing while every xvpc counter stays
// still. Droplets raise the limits (never lower them) when they are made.
import { readFile, writeFile } from 'node:fs/promises';

const SYSCTL_DIR = '/proc/sys/net/ipv4/neigh/default';

/** The floors droplets keep: ~300 bytes an entry, so the hard limit costs at most ~40 MB, only when used. */
export const NEIGHBOUR_LIMITS = { gc_thresh2: 65_536, gc_thresh3: 131_072 } as const;

/** Which limits to write, to what, given the current values: only those below their floor (thresh3 first: thresh2 may not pass it). */
export function neighbourLimitWrites(current: Record<keyof typeof NEIGHBOUR_LIMITS, number>): [keyof typeof NEIGHBOUR_LIMITS, number][] {
  const order = ['gc_thresh3', 'gc_thresh2'] as const;
  return order.filter((k) => !(current[k] >= NEIGHBOUR_LIMITS[k])).map((k) => [k, NEIGHBOUR_LIMITS[k]]);
}

/** Raises the machine's ARP table limits to NEIGHBOUR_LIMITS where they are lower; returns what it wrote. */
export async function raiseNeighbourLimits(): Promise<Record<string, number>> {
  const read = async (k: string) => Number((await readFile(`${SYSCTL_DIR}/${k}`, 'utf8')).trim());
  const current = { gc_thresh2: await read('gc_thresh2'), gc_thresh3: await read('gc_thresh3') };
  const writes = neighbourLimitWrites(current);
  for (const [k, v] of writes) await writeFile(`${SYSCTL_DIR}/${k}`, `${v}\n`);
  return Object.fromEntries(writes);
}

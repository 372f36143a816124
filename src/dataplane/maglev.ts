// Maglev consistent hashing (Eisenbud et al., NSDI '16): a lookup table whose
// slots name members, built so that adding or removing one member moves only
// about 1/n of the slots. The XDP programs pick `table[flowhash % SIZE]`.
import { createHash } from 'node:crypto';

export const MAGLEV_SIZE = 251; // XVPC_MAGLEV_SIZE in native/bpf/xvpc.h (prime)
export const MAX_MEMBERS = 16;  // XVPC_MAX_SWITCHES

function hash32(text: string, salt: string): number {
  return createHash('sha256').update(salt).update(text).digest().readUInt32BE(0);
}

/**
 * Builds the table for `members` (identified by name, e.g. an IPv4 string).
 * Each slot holds an index into `members`. The result does not depend on the
 * members' order beyond that indexing: preferences come from the names alone.
 */
export function maglevTable(members: readonly string[], size = MAGLEV_SIZE): Uint8Array {
  const table = new Uint8Array(size);
  if (members.length === 0) return table;
  const offsets = members.map((m) => hash32(m, 'offset') % size);
  const skips = members.map((m) => (hash32(m, 'skip') % (size - 1)) + 1);
  const next = new Array<number>(members.length).fill(0);
  const filled = new Int16Array(size).fill(-1);
  // Members take turns claiming their next preferred free slot; visiting them
  // in name order keeps the table independent of the order they were given in.
  const turnOrder = members.map((_, i) => i).sort((a, b) => (members[a] < members[b] ? -1 : 1));
  let placed = 0;
  while (placed < size) {
    for (const i of turnOrder) {
      let slot: number;
      do {
        slot = (offsets[i] + next[i] * skips[i]) % size;
        next[i]++;
      } while (filled[slot] >= 0);
      filled[slot] = i;
      table[slot] = i;
      if (++placed === size) break;
    }
  }
  return table;
}

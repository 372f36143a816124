// The consistent-hash slot table the XDP programs pick switches and routers
// from: `members[table[flowhash % SLOT_TABLE_SIZE]]` (the `slots` field of
// struct xvpc_members in native/bpf/xvpc.h).
//
// Each slot goes to the member with the highest score hash(member, slot)
// (rendezvous hashing, slot by slot). A slot's owner therefore changes only
// when the winner itself joins or leaves: adding a member moves only the
// slots it wins (about 1/n of the flows), removing one moves only its own.
// Maglev's fill gives a more even table but also moves slots between
// surviving members on removal. The price here is balance: with 251 slots the
// busiest of 5 members gets up to ~1.4x its fair share (bench it if it matters).
import { createHash } from 'node:crypto';
import { fmix32 } from '../util/hash.js';
import { SLOT_TABLE_SIZE } from './limits.js';

const memberSeed = (name: string): number => createHash('sha256').update(name).digest().readUInt32BE(0);

/**
 * Builds the table for `members` (identified by name, e.g. an IPv4 string).
 * Each slot holds an index into `members`; who wins a slot depends on the
 * names alone, never on their order or on the other members.
 */
export function slotTable(members: readonly string[], size = SLOT_TABLE_SIZE): Uint8Array {
  const table = new Uint8Array(size);
  const seeds = members.map(memberSeed);
  for (let slot = 0; slot < size; slot++) {
    const slotMix = fmix32(Math.imul(slot + 1, 0x9e3779b1));
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i < seeds.length; i++) {
      const score = fmix32(seeds[i] ^ slotMix);
      // Ties (vanishingly rare) go to the smaller name, so order never matters.
      if (score > bestScore || (score === bestScore && members[i] < members[best])) {
        best = i;
        bestScore = score;
      }
    }
    table[slot] = best;
  }
  return table;
}

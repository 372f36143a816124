// Shared by the packet-level data-path tests: a HostDataplane on a private pin
// directory, test runs that report the counters they moved, the flow hash of
// native/bpf/flowhash.h re-implemented independently, and the underlay hosts
// the tests talk about.
//
// Every test here runs twice (vitest.config.ts): on the XDP build, and with
// XVPC_TEST_HOOK=tc on the TC build of the same packet logic. Expectations
// are written as XDP verdicts; a TC return is read back as one (see verdictOf).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { HostDataplane, type Hook } from '../../src/dataplane/host.js';
import { slotTable } from '../../src/abi/index.js';
import type { Stats, StatName } from '../../src/abi/index.js';
import { uniquePrefix } from '../lib/names.js';
import { ipNum } from '../lib/packets.js';

export const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
const TC_ACT = { OK: 0, SHOT: 2, REDIRECT: 7 } as const;

/** The build under test. */
export const HOOK: Hook = process.env.XVPC_TEST_HOOK === 'tc' ? 'tc' : 'xdp';

/** What the program under test returns for an XDP verdict (TC: TX and REDIRECT are both a redirect). */
export function retvalOf(verdict: number): number {
  if (HOOK === 'xdp') return verdict;
  if (verdict === XDP.PASS) return TC_ACT.OK;
  if (verdict === XDP.TX || verdict === XDP.REDIRECT) return TC_ACT.REDIRECT;
  return TC_ACT.SHOT;
}

/**
 * A program's return as an XDP verdict. On TC "back out where it came in"
 * and "out of another interface" are both TC_ACT_REDIRECT; the program's own
 * verdict counter (`prog`_tx or `prog`_redirect, which every test also
 * checks exactly) tells them apart.
 */
function verdictOf(retval: number, moved: Partial<Stats>, prog: 'transit' | 'agent'): number {
  if (HOOK === 'xdp') return retval;
  if (retval === TC_ACT.OK) return XDP.PASS;
  if (retval === TC_ACT.SHOT) return XDP.DROP;
  if (retval === TC_ACT.REDIRECT) return moved[`${prog}_tx`] ? XDP.TX : XDP.REDIRECT;
  return -1 - retval; // no XDP meaning: fails any expectation
}

/** lo: present in every namespace, so the devmap accepts it and test runs may name it as ingress. */
export const LO = 1;

export interface TestHost { ip: string; mac: string }

/** This host (the one whose programs run) and the underlay hosts around it. */
export const THIS_HOST: TestHost = { ip: '192.168.50.10', mac: '0a:58:c0:a8:32:0a' };
export const hostN = (n: number): TestHost => ({
  ip: `192.168.50.${n}`,
  mac: `0a:58:c0:a8:32:${n.toString(16).padStart(2, '0')}`,
});

export function ensureBpffs(): void {
  try {
    execFileSync('mountpoint', ['-q', '/sys/fs/bpf']);
  } catch {
    execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  }
}

/** A fresh data plane on its own pins; `close()` unloads it and removes the pins. */
export function openDataplane(tag: string, endpoints = 1024): { dp: HostDataplane; pinRoot: string; close(): void } {
  ensureBpffs();
  const pinRoot = `/sys/fs/bpf/xvpc/${uniquePrefix('u')}-${tag}`;
  let dp: HostDataplane;
  try {
    dp = HostDataplane.open(pinRoot, { endpoints, networks: 256, vpcs: 64, substrate: 256, agent_meta: 64, ep_host_cache: 64 }, { hook: HOOK });
  } catch (err) {
    rmSync(pinRoot, { recursive: true, force: true }); // a refused load still made the pin directory
    throw err;
  }
  return {
    dp,
    pinRoot,
    close() {
      dp.close();
      rmSync(pinRoot, { recursive: true, force: true });
    },
  };
}

/** Makes the data plane this test host: THIS_HOST's address, eth0 played by lo (also a redirect target). */
export function beThisHost(dp: HostDataplane): void {
  dp.setHostConfig({ ip: THIS_HOST.ip, mac: THIS_HOST.mac, ifindex: LO });
  dp.addInterface(LO);
}

/** Hex of a buffer: whole-buffer comparisons that print a readable diff. */
export const hex = (b: Buffer): string => b.toString('hex');

export interface Outcome {
  verdict: number;
  out: Buffer;
  /** every counter that moved, with how much */
  moved: Partial<Stats>;
}

export function statsDelta(before: Stats, after: Stats): Partial<Stats> {
  const moved: Partial<Stats> = {};
  for (const k of Object.keys(after) as StatName[]) {
    if (after[k] !== before[k]) moved[k] = after[k] - before[k];
  }
  return moved;
}

/**
 * Whether BPF_PROG_TEST_RUN takes the frame on this hook. For TC it builds a
 * real skb and refuses (EINVAL) an IPv4 frame shorter than Ethernet + 20
 * bytes, though such a frame can reach TC ingress from a peer; XDP takes any.
 */
export function testRunTakes(pkt: Buffer): boolean {
  return HOOK === 'xdp' || pkt.length >= 34 || pkt.readUInt16BE(12) !== 0x0800;
}

/** One test run of the transit program (as if received on eth0, played by lo). */
export function runTransit(dp: HostDataplane, packet: Buffer): Outcome {
  const before = dp.stats();
  const r = dp.transitProgram.testRun(packet, { ingressIfindex: LO });
  const moved = statsDelta(before, dp.stats());
  return { verdict: verdictOf(r.retval, moved, 'transit'), out: r.data, moved };
}

/** One test run of the agent program, received on the veth whose agent_meta key is `ingress`. */
export function runAgent(dp: HostDataplane, packet: Buffer, ingress = LO): Outcome {
  const before = dp.stats();
  const r = dp.agentProgram.testRun(packet, { ingressIfindex: ingress });
  const moved = statsDelta(before, dp.stats());
  return { verdict: verdictOf(r.retval, moved, 'agent'), out: r.data, moved };
}

// ---- flow hash (native/bpf/flowhash.h), written again from its definition ----

function fmix(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Inner-flow hash: ports only for TCP/UDP that is not a fragment (callers pass 0 otherwise). */
export function flowHash(saddr: string, daddr: string, proto: number, sport = 0, dport = 0): number {
  let h = fmix((ipNum(saddr) ^ 0x9e3779b9) >>> 0);
  h = fmix((h ^ ipNum(daddr)) >>> 0);
  h = fmix((h ^ (((sport << 16) | dport) >>> 0)) >>> 0);
  return fmix((h ^ proto) >>> 0);
}

const tables = new Map<string, Uint8Array>();

/** The member the slot table built from `members` gives hash `h`. */
export function slotPick(members: readonly string[], h: number): string {
  const key = members.join(',');
  let table = tables.get(key);
  if (!table) tables.set(key, (table = slotTable(members)));
  return members[table[h % 251]];
}

/** Outer UDP source port the agent derives from the flow hash. */
export const sportOf = (h: number): number => 49152 + (h & 0x3fff);

// What xvpc needs from the machine before it touches anything: privilege
// (root, or the three capabilities), bpffs at /sys/fs/bpf, and the addon
// loaded (its libbpf/libpcap shared libraries present). Every entry point
// (CLI, createDroplets, HostDataplane.open, transitd) calls
// checkPrerequisites() first, so a missing one is one line saying what to do
// instead of EACCES or EPERM from deep inside.
import { readFileSync } from 'node:fs';
import { addonLoadProblem } from '../dataplane/addon.js';
import { XvpcError } from '../errors.js';

/** Capabilities xvpc needs, by number (linux/capability.h). */
export const REQUIRED_CAPABILITIES: ReadonlyArray<{ name: string; bit: number }> = [
  { name: 'CAP_NET_ADMIN', bit: 12 }, // links, namespaces' routes, XDP/TC attach
  { name: 'CAP_BPF', bit: 39 }, // programs and maps (kernel 5.8+)
  { name: 'CAP_SYS_ADMIN', bit: 21 }, // network namespaces, bpffs pins
];

export const BPFFS_PATH = '/sys/fs/bpf';

/** The effective capability set from /proc/<pid>/status text (its CapEff line). */
export function parseCapEff(status: string): bigint {
  const hex = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status)?.[1];
  if (hex === undefined) throw new Error('no CapEff line in /proc/self/status');
  return BigInt(`0x${hex}`);
}

const has = (capEff: bigint, bit: number): boolean => (capEff & (1n << BigInt(bit))) !== 0n;

/**
 * Names of the required capabilities absent from `capEff`. CAP_BPF counts as
 * held where the kernel has none (before 5.8, cap_last_cap < 39) and where
 * CAP_SYS_ADMIN is held: the kernel grants BPF to either (bpf_capable()), and
 * docker's "all capabilities" predates CAP_BPF.
 */
export function missingCapabilities(capEff: bigint, capLastCap: number): string[] {
  const sysAdmin = has(capEff, 21);
  return REQUIRED_CAPABILITIES
    .filter(({ name, bit }) => !has(capEff, bit) && !(name === 'CAP_BPF' && (bit > capLastCap || sysAdmin)))
    .map(({ name }) => name);
}

/** Whether /proc/self/mountinfo text shows a bpf filesystem at `at` (the last mount there: it hides those below). */
export function bpffsMounted(mountinfo: string, at = BPFFS_PATH): boolean {
  // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super options>"
  const fsTypes = mountinfo.split('\n')
    .map((line) => line.split(' - '))
    .filter(([left]) => left?.split(' ')[4] === at)
    .map(([, right]) => right?.split(' ')[0]);
  return fsTypes.at(-1) === 'bpf';
}

export interface MachineFacts {
  uid: number;
  capEff: bigint;
  capLastCap: number;
  bpffs: boolean;
  /** Why the addon did not load, or undefined when it did. */
  addonProblem: string | undefined;
}

/** Every missing prerequisite as one line saying what to do, or undefined when none is missing. */
export function prerequisiteProblem(facts: MachineFacts): string | undefined {
  const problems: string[] = [];
  const missing = missingCapabilities(facts.capEff, facts.capLastCap);
  if (missing.length) {
    const who = facts.uid === 0 ? 'root here' : `uid ${facts.uid}`;
    problems.push(`xvpc needs root (or ${REQUIRED_CAPABILITIES.map((c) => c.name).join('+')}) and ${who} lacks `
      + `${missing.join(', ')}: run it as root (sudo)`);
  }
  if (!facts.bpffs) problems.push(`no BPF filesystem at ${BPFFS_PATH}: mount -t bpf bpf ${BPFFS_PATH} (./bootstrap.sh does)`);
  if (facts.addonProblem) problems.push(facts.addonProblem);
  return problems.length ? problems.join('; ') : undefined;
}

/** The facts of this process and machine. */
export function machineFacts(): MachineFacts {
  return {
    uid: process.getuid?.() ?? -1,
    capEff: parseCapEff(readFileSync('/proc/self/status', 'utf8')),
    capLastCap: Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()),
    bpffs: bpffsMounted(readFileSync('/proc/self/mountinfo', 'utf8')),
    addonProblem: addonLoadProblem(),
  };
}

let satisfied = false;

/** Throws XvpcError FAILED_PRECONDITION naming every missing prerequisite; once met, later calls cost nothing. */
export function checkPrerequisites(): void {
  if (satisfied) return;
  const problem = prerequisiteProblem(machineFacts());
  if (problem) throw new XvpcError('FAILED_PRECONDITION', problem);
  satisfied = true;
}

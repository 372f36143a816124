// How a droplet container gets "privileged": `Privileged: true` asks for every
// capability, and runc fails ("unable to apply caps") when this machine's own
// bounding set lacks one (some sandboxes drop CAP_SYS_RESOURCE). Then the
// container gets all it can have instead: every capability we hold, no
// seccomp/AppArmor confinement, unmasked /proc.
import { readFile } from 'node:fs/promises';

/** Capability names by number (linux/capability.h). */
const CAP_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

export interface PrivilegeConfig {
  Privileged?: boolean;
  CapAdd?: string[];
  CapDrop?: string[];
  SecurityOpt?: string[];
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
}

/** Capabilities (by name) the kernel has but our bounding set lacks. */
export async function missingCapabilities(): Promise<string[]> {
  const status = await readFile('/proc/self/status', 'utf8');
  const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  const last = Number((await readFile('/proc/sys/kernel/cap_last_cap', 'utf8')).trim());
  const missing: string[] = [];
  for (let i = 0; i <= last; i++) {
    if (!(bnd & (1n << BigInt(i)))) missing.push(CAP_NAMES[i] ?? `CAP_${i}`);
  }
  return missing;
}

export async function privilegeConfig(): Promise<PrivilegeConfig> {
  const missing = await missingCapabilities();
  if (missing.length === 0) return { Privileged: true };
  return {
    CapAdd: ['ALL'],
    // Only names dockerd can know; unknown numbers were never in its ALL.
    CapDrop: missing.filter((m) => !m.startsWith('CAP_')),
    SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
    // What the CLI's `systempaths=unconfined` means: /proc/sys etc. writable (sysctls).
    MaskedPaths: [],
    ReadonlyPaths: [],
  };
}

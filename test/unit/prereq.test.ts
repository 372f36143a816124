// Prerequisite checks as pure logic (no root, no kernel): CapEff parsing, the
// capabilities named as missing, bpffs in mountinfo, and the one line each
// problem becomes.
import { describe, expect, it } from 'vitest';
import { explainLoadFailure } from '../../src/dataplane/addon.js';
import { bpffsMounted, missingCapabilities, parseCapEff, prerequisiteProblem, type MachineFacts } from '../../src/util/prereq.js';

const status = (capEff: string) => `Name:\tnode\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;
const bit = (n: number) => 1n << BigInt(n);
const NET_ADMIN = bit(12), SYS_ADMIN = bit(21), BPF = bit(39);

describe('CapEff', () => {
  it('reads the effective set as a number', () => {
    expect(parseCapEff(status('000001ffffffffff'))).toBe((1n << 41n) - 1n);
    expect(parseCapEff(status('0000000000000000'))).toBe(0n);
    expect(parseCapEff(status('0000008000201000'))).toBe(NET_ADMIN | SYS_ADMIN | BPF);
  });

  it('refuses text without a CapEff line', () => {
    expect(() => parseCapEff('Name:\tnode\nCapPrm:\t0\n')).toThrow(/no CapEff line/);
  });
});

describe('missing capabilities', () => {
  it('names none when all three are there, whatever else is missing', () => {
    expect(missingCapabilities(NET_ADMIN | SYS_ADMIN | BPF, 40)).toEqual([]);
  });

  it('names each one that is absent, in a fixed order', () => {
    expect(missingCapabilities(0n, 40)).toEqual(['CAP_NET_ADMIN', 'CAP_BPF', 'CAP_SYS_ADMIN']);
    expect(missingCapabilities(BPF | SYS_ADMIN, 40)).toEqual(['CAP_NET_ADMIN']);
    expect(missingCapabilities(NET_ADMIN | BPF, 40)).toEqual(['CAP_SYS_ADMIN']);
  });

  it('does not ask for CAP_BPF on a kernel that has none (before 5.8, cap_last_cap 37)', () => {
    expect(missingCapabilities(NET_ADMIN | SYS_ADMIN, 37)).toEqual([]);
    expect(missingCapabilities(0n, 37)).toEqual(['CAP_NET_ADMIN', 'CAP_SYS_ADMIN']);
  });

  it('takes CAP_SYS_ADMIN for CAP_BPF, as the kernel does (a docker container\'s root may lack CAP_BPF)', () => {
    expect(missingCapabilities(NET_ADMIN | SYS_ADMIN, 40)).toEqual([]);
    expect(missingCapabilities(NET_ADMIN | BPF, 40)).toEqual(['CAP_SYS_ADMIN']);
    expect(missingCapabilities(NET_ADMIN, 40)).toEqual(['CAP_BPF', 'CAP_SYS_ADMIN']);
  });
});

describe('bpffs in mountinfo', () => {
  const sysfs = '22 27 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw';
  const bpffs = '45 22 0:40 / /sys/fs/bpf rw,relatime shared:20 - bpf bpf rw';
  const tmpfsOver = '99 45 0:77 / /sys/fs/bpf rw,relatime - tmpfs none rw';

  it('sees a bpf filesystem at /sys/fs/bpf', () => {
    expect(bpffsMounted([sysfs, bpffs].join('\n'))).toBe(true);
  });

  it('sees none when nothing or something else is mounted there', () => {
    expect(bpffsMounted(sysfs)).toBe(false);
    expect(bpffsMounted('45 22 0:40 / /sys/fs/bpf2 rw - bpf bpf rw')).toBe(false);
    expect(bpffsMounted([sysfs, bpffs, tmpfsOver].join('\n'))).toBe(false); // hidden by the later mount
  });
});

describe('the one line', () => {
  const ok: MachineFacts = { uid: 0, capEff: NET_ADMIN | SYS_ADMIN | BPF, capLastCap: 40, bpffs: true, addonProblem: undefined };

  it('is nothing when every prerequisite is met, root or not', () => {
    expect(prerequisiteProblem(ok)).toBeUndefined();
    expect(prerequisiteProblem({ ...ok, uid: 1000 })).toBeUndefined();
  });

  it('says root is needed and which capabilities are missing', () => {
    const line = prerequisiteProblem({ ...ok, uid: 65534, capEff: 0n })!;
    expect(line).toBe('xvpc needs root (or CAP_NET_ADMIN+CAP_BPF+CAP_SYS_ADMIN) and uid 65534 lacks '
      + 'CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN: run it as root (sudo)');
    expect(prerequisiteProblem({ ...ok, capEff: NET_ADMIN | BPF })).toMatch(/root here lacks CAP_SYS_ADMIN:/);
  });

  it('says how to mount bpffs, and joins several problems on one line', () => {
    expect(prerequisiteProblem({ ...ok, bpffs: false })).toBe('no BPF filesystem at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf (./bootstrap.sh does)');
    const line = prerequisiteProblem({ ...ok, uid: 5, capEff: 0n, bpffs: false, addonProblem: 'the xvpc addon cannot load libbpf.so.1' })!;
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/^xvpc needs root .*; no BPF filesystem .*; the xvpc addon cannot load libbpf\.so\.1$/);
  });
});

describe('an addon that does not load', () => {
  it('names the shared library and the package to install', () => {
    const err = new Error('libbpf.so.1: cannot open shared object file: No such file or directory');
    expect(explainLoadFailure(err)).toBe('the xvpc addon cannot load libbpf.so.1 (cannot open shared object file: No such file or directory): '
      + 'apt-get install libbpf1 libpcap0.8 libelf1 zlib1g (or run ./bootstrap.sh)');
    expect(explainLoadFailure(new Error('libpcap.so.0.8: file too short'))).toMatch(/cannot load libpcap\.so\.0\.8 \(file too short\)/);
  });

  it('says to build when the binary is not there', () => {
    const err = Object.assign(new Error("Cannot find module '/x/build/Release/xvpc.node'"), { code: 'MODULE_NOT_FOUND' });
    expect(explainLoadFailure(err)).toMatch(/^the xvpc addon is not built \(.*build\/Release\/xvpc\.node is missing\): run npm run build$/);
  });

  it('falls back to the loader\'s first line', () => {
    expect(explainLoadFailure(new Error('undefined symbol: bpf_xdp_attach\nmore'))).toBe(
      'the xvpc addon failed to load (undefined symbol: bpf_xdp_attach): run ./bootstrap.sh');
  });
});

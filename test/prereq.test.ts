// A missing prerequisite, for real: every entry point run as an unprivileged
// user (setpriv to nobody), then as root with libbpf unloadable or bpffs
// hidden (each in a private mount namespace of its own, so nothing else on
// the machine sees it). Each must fail up front with one line saying what to do.
import { describe, expect, it } from 'vitest';
import { addonPath, repoRoot } from '../src/dataplane/addon.js';
import { must, run } from '../src/util/exec.js';

const CLI = `${repoRoot}dist/cli/main.js`;
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const NEEDS_ROOT = /^xvpc needs root \(or CAP_NET_ADMIN\+CAP_BPF\+CAP_SYS_ADMIN\) and uid 65534 lacks CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN: run it as root \(sudo\)$/;

/** stderr as lines, without blank ones. */
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/** Runs a module snippet against the built library; it prints `code: message` of what it throws. */
const libraryCall = (call: string) => [process.execPath, '--input-type=module', '-e', `
  import * as xvpc from '${repoRoot}dist/index.js';
  try { await ${call}; console.log('no error'); } catch (err) { console.log(err.code + ': ' + err.message); }`];

describe('not root', () => {
  it('the CLI says in one line that xvpc needs root and names the missing capabilities', async () => {
    const r = await run([...NOBODY, process.execPath, CLI, 'stats', '--prefix', 'xnoroot']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim().replace(/^xvpc stats: /, '')).toMatch(NEEDS_ROOT);
    // What needs no privilege still works.
    const version = await run([...NOBODY, process.execPath, CLI, '--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('createDroplets and HostDataplane.open throw FAILED_PRECONDITION before touching anything', async () => {
    const droplets = await run([...NOBODY, ...libraryCall("xvpc.createDroplets(['a'], { prefix: 'xnr' })")]);
    expect(droplets.stdout.trim()).toMatch(new RegExp(`^FAILED_PRECONDITION: ${NEEDS_ROOT.source.slice(1)}`));
    const host = await run([...NOBODY, ...libraryCall("xvpc.HostDataplane.open('/sys/fs/bpf/xvpc/xnr-a')")]);
    expect(host.stdout.trim()).toMatch(new RegExp(`^FAILED_PRECONDITION: ${NEEDS_ROOT.source.slice(1)}`));
  });

  it('transitd says so in one line and exits 1', async () => {
    const r = await run([...NOBODY, process.execPath, `${repoRoot}dist/transitd/main.js`, '--host', 'a', '--socket', '/tmp/xvpc-noroot.sock']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim().replace(/^transitd: /, '')).toMatch(NEEDS_ROOT);
  });
});

describe('as root, with a piece of the machine missing (private mount namespace)', () => {
  /** The CLI inside a mount namespace of its own where `setup` (shell) ran first. */
  const cliWith = (setup: string) =>
    run(['unshare', '--mount', 'sh', '-c', `mount --make-rprivate / && ${setup} && exec "$0" "$@"`, process.execPath, CLI, 'stats', '--prefix', 'xnoprq']);

  it('libbpf that will not load: names the library and the package to install', async () => {
    const ldd = await must(['ldd', addonPath]);
    const libbpf = /libbpf\.so\.\d+ => (\S+)/.exec(ldd)?.[1];
    expect(libbpf).toMatch(/^\//);
    const r = await cliWith(`mount --bind /dev/null ${libbpf}`);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(
      /^xvpc stats: the xvpc addon cannot load libbpf\.so\.\d+ \(.+\): apt-get install libbpf1 .*\(or run \.\/bootstrap\.sh\)$/)]);
  });

  it('no bpffs at /sys/fs/bpf: says how to mount it', async () => {
    const r = await cliWith('mount -t tmpfs xvpc-not-bpffs /sys/fs/bpf');
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(['xvpc stats: no BPF filesystem at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf (./bootstrap.sh does)']);
  });

  it('with everything there, the same command gets past the check', async () => {
    const r = await run([process.execPath, CLI, 'stats', '--prefix', 'xnoprq']);
    expect(r.stderr.trim()).toBe("xvpc stats: no droplets in prefix 'xnoprq'");
  });
});

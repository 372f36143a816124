// transitd refuses what it is given wrong before it touches the data path
// (no pin root made, no program attached), in one line naming the flag: a
// socket directory others may write (never chmod-ed), a listen or metrics address that
// is no address or not this host's, a TLS key that is no key or not the
// certificate's. And a goal-state journal is believed only when transitd
// could have written it (this user's, 0600).
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/dataplane/addon.js';
import { GoalStateJournal } from '../src/transitd/journal.js';
import { ensureCa, issueCert } from '../src/util/certs.js';
import { ensureTrustedDir } from '../src/util/private-fs.js';
import { run } from '../src/util/exec.js';
import { uniquePrefix } from './lib/names.js';

const tmp = mkdtempSync(join(tmpdir(), 'xvpc-targs-'));
const pinRoot = `/sys/fs/bpf/${uniquePrefix('ta')}`;
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(pinRoot, { recursive: true, force: true });
});

const transitd = (...args: string[]) =>
  run([process.execPath, `${repoRoot}dist/transitd/main.js`, '--host', 'ta', '--iface', 'lo', '--pin-root', pinRoot, ...args], { timeoutMs: 30_000 });

/** Exit 1, one line naming what is wrong, and nothing of the data path made. */
async function refused(args: string[], message: RegExp): Promise<void> {
  const r = await transitd(...args);
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(existsSync(pinRoot)).toBe(false);
}

describe('transitd checks its arguments before the data path', () => {
  const sock = join(tmp, 'run', 't.sock');

  it('a socket directory others may write is refused and keeps its mode; a sticky one (/tmp) is taken as it is', async () => {
    const open = join(tmp, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await refused(['--socket', join(open, 't.sock')], /--socket: .*open \(owner uid 0, mode 0777\) may be written by others/);
    expect(statSync(open).mode & 0o7777).toBe(0o777);
    // others may add files to a sticky directory but not remove or rename root's: trusted, never chmod-ed
    const sticky = join(tmp, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    expect(() => ensureTrustedDir(sticky, '--socket')).not.toThrow();
    expect(statSync(sticky).mode & 0o7777).toBe(0o1777);
    // a missing one is made 0700
    ensureTrustedDir(join(tmp, 'new', 'deeper'), '--socket');
    expect(statSync(join(tmp, 'new', 'deeper')).mode & 0o7777).toBe(0o700);
  });

  it('listen and metrics addresses: no address, an octet past 255, not this host\'s', async () => {
    const pki = join(tmp, 'pki');
    await ensureCa(pki);
    await issueCert(pki, 'ta', 'host');
    const tls = ['--tls-ca', `${pki}/ca.crt`, '--tls-cert', `${pki}/ta.crt`, '--tls-key', `${pki}/ta.key`];
    await refused(['--socket', sock, '--listen', '999.1.1.1:7443', ...tls], /--listen: '999\.1\.1\.1:7443' is not ADDR:PORT/);
    await refused(['--socket', sock, '--metrics', 'notanaddr'], /--metrics: 'notanaddr' is not ADDR:PORT/);
    await refused(['--socket', sock, '--metrics', '10.99.99.99:47464'], /--metrics 10\.99\.99\.99:47464: cannot listen there \(EADDRNOTAVAIL\)/);
    // a key that is no key, and one that is another certificate's
    writeFileSync(join(pki, 'garbage.key'), 'not a key\n', { mode: 0o600 });
    await refused(['--socket', sock, '--listen', '127.0.0.1:0', ...tls.slice(0, 4), '--tls-key', join(pki, 'garbage.key')],
      /tls-key: '.*garbage\.key' is not a PEM private key/);
    await issueCert(pki, 'other', 'host');
    await refused(['--socket', sock, '--listen', '127.0.0.1:0', ...tls.slice(0, 4), '--tls-key', `${pki}/other.key`],
      /tls-key: '.*other\.key' is not the key of tls-cert '.*ta\.crt'/);
  });
});

describe('the goal-state journal', () => {
  it('is believed only when this user wrote it privately', () => {
    const path = join(tmp, 'j.journal');
    const doc = JSON.stringify({ format: 'xvpc-goal-journal/1', entries: [] });
    writeFileSync(path, doc, { mode: 0o600 });
    expect(new GoalStateJournal(path).pending()).toEqual([]);
    chownSync(path, 65534, 65534); // written by nobody
    expect(() => new GoalStateJournal(path).pending()).toThrow(/not a private file of this user \(owner uid 65534, mode 0600\)/);
    chownSync(path, 0, 0);
    chmodSync(path, 0o644);
    expect(() => new GoalStateJournal(path).pending()).toThrow(/mode 0644/);
  });
});

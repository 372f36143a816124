// transitd refuses what it is given wrong before it touches the data path
// (no pin root made, no program attached), in one line naming the flag: a
// socket directory others may write (never chmod-ed), a listen or metrics address that
// is no address or not this host's, a TLS key that is no key or not the
// certificate's, an expired one, a CA that is none, a socket path too long,
// a socket a live process serves; and a pin root another transitd holds. A
// goal-state journal is believed only when transitd could have written it
// (this user's, 0600), and private files never follow a planted symlink.
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addon, repoRoot } from '../src/dataplane/addon.js';
import { GoalStateJournal } from '../src/transitd/journal.js';
import { ensureCa, issueCert } from '../src/util/certs.js';
import { ensureTrustedDir, openPrivateLog, writePrivateFileDurably } from '../src/util/private-fs.js';
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
    // a CA that is none, a certificate of another CA, an expired one: every handshake would fail, so start does
    await refused(['--socket', sock, '--listen', '127.0.0.1:0', '--tls-ca', `${pki}/ta.crt`, ...tls.slice(2)], /tls-ca: '.*ta\.crt' is not a CA certificate/);
    const rogue = join(tmp, 'rogue');
    await ensureCa(rogue, { name: 'rogue-ca' });
    await issueCert(rogue, 'ta', 'host');
    await refused(['--socket', sock, '--listen', '127.0.0.1:0', tls[0], tls[1], '--tls-cert', `${rogue}/ta.crt`, '--tls-key', `${rogue}/ta.key`],
      /tls-cert: '.*rogue\/ta\.crt' is not signed by tls-ca '.*pki\/ca\.crt' \(issuer CN=rogue-ca\)/);
    const csr = join(tmp, 'exp.csr');
    const signed = await run(['sh', '-c', `openssl req -new -key ${pki}/ta.key -subj /CN=ta -out ${csr} && `
      + `openssl x509 -req -in ${csr} -CA ${pki}/ca.crt -CAkey ${pki}/ca.key -days -1 -out ${join(tmp, 'exp.crt')}`]);
    expect(signed.code, signed.stderr).toBe(0);
    await refused(['--socket', sock, '--listen', '127.0.0.1:0', tls[0], tls[1], '--tls-cert', join(tmp, 'exp.crt'), tls[4], tls[5]],
      /tls-cert: '.*exp\.crt' expired on /);
    // --listen and --metrics on one port
    await refused(['--socket', sock, '--listen', '127.0.0.1:47467', ...tls, '--metrics', '127.0.0.1:47467'],
      /--metrics 127\.0\.0\.1:47467: cannot listen there \(EADDRINUSE; or another flag names the same port\)/);
  });

  it('a host name that is none, a count that is none, a socket path too long, a directory, or one a live process serves', async () => {
    await refused(['--socket', sock, '--host', '../../x'], /--host: '\.\.\/\.\.\/x' is not a host name/);
    await refused(['--socket', sock, '--max-endpoints', 'abc'], /--max-endpoints must be an integer in 1\.\.2147483647, not 'abc'/);
    await refused(['--socket', sock, '--max-endpoints', '0'], /--max-endpoints must be an integer/);
    await refused(['--socket', join(tmp, 'x'.repeat(120))], /--socket: '.*' is 1\d\d bytes; a unix socket path holds at most 107/);
    mkdirSync(join(tmp, 'adir'));
    await refused(['--socket', join(tmp, 'adir')], /--socket: '.*adir' is a directory/);
    const live = join(tmp, 'live.sock');
    const server = createServer().listen(live);
    await new Promise((r) => server.once('listening', r));
    try {
      await refused(['--socket', live], /--socket: another process \(a transitd\?\) serves '.*live\.sock'/);
      expect(statSync(live).isSocket()).toBe(true); // left to its owner
    } finally {
      server.close();
    }
  });

  it('a pin root another transitd holds is refused before anything is loaded; the lock goes with its holder', async () => {
    mkdirSync(pinRoot, { recursive: true });
    const held = addon.lockDir(pinRoot);
    expect(held).toBeGreaterThanOrEqual(0);
    try {
      expect(addon.lockDir(pinRoot)).toBe(-1); // a second open file: refused
      const r = await transitd('--socket', sock);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/--pin-root .*: another transitd runs over these maps: stop it first/);
      expect(readdirSync(pinRoot)).toEqual([]); // no map pinned
    } finally {
      addon.closeFd(held);
    }
    const again = addon.lockDir(pinRoot);
    expect(again).toBeGreaterThanOrEqual(0);
    addon.closeFd(again);
    rmSync(pinRoot, { recursive: true, force: true });
  });
});

describe('private files', () => {
  it('a symlink planted where a private file is written is replaced, its target untouched', async () => {
    const victim = join(tmp, 'victim');
    writeFileSync(victim, 'root only\n', { mode: 0o600 });
    const path = join(tmp, 'p.journal');
    symlinkSync(victim, `${path}.tmp`);
    writePrivateFileDurably(path, 'new');
    expect(readFileSync(victim, 'utf8')).toBe('root only\n');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o7777).toBe(0o600);
    // a log path that is a symlink, or another user's file, is refused
    const log = join(tmp, 'l.log');
    symlinkSync(victim, log);
    expect(() => openPrivateLog(log)).toThrow(/ELOOP/);
    const theirs = join(tmp, 'theirs.log');
    writeFileSync(theirs, '', { mode: 0o666 });
    chownSync(theirs, 65534, 65534);
    expect(() => openPrivateLog(theirs)).toThrow(/log .*theirs\.log: not a file of this user alone \(owner uid 65534, 1 links\)/);
    // a hard link to one of root's files, and a FIFO (which would block the open itself)
    const linked = join(tmp, 'linked.log');
    linkSync(victim, linked);
    expect(() => openPrivateLog(linked)).toThrow(/not a file of this user alone \(owner uid 0, 2 links\)/);
    const fifo = join(tmp, 'fifo.log');
    const made = await run(['mkfifo', fifo]);
    expect(made.code, made.stderr).toBe(0);
    expect(() => openPrivateLog(fifo)).toThrow(/ENXIO/); // refused at once (no reader), never a blocked open
    expect(readFileSync(victim, 'utf8')).toBe('root only\n');
  });

  it('certificates are never made in a shared (sticky) directory: a CA found there could be anyone\'s', async () => {
    const shared = join(tmp, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    await expect(ensureCa(shared)).rejects.toThrow(/dir: .*shared \(mode 1777\) is shared \(sticky\)/);
    expect(readdirSync(shared)).toEqual([]);
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

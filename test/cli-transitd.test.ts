// `xvpc transitd --print-systemd-unit` and `xvpc certs`: the unit's command
// line is one transitd accepts, and the certificates chain to their CA.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const exec = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'xvpc-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('xvpc transitd --print-systemd-unit', () => {
  it('prints a unit whose ExecStart transitd parses (it then fails on the missing TLS file, not the flags)', async () => {
    const { stdout } = await exec(process.execPath, [CLI, 'transitd', '--print-systemd-unit', '--host', 'node1', '--iface', 'lo',
      '--listen', '127.0.0.1:7443', '--tls-dir', join(tmp, 'nopki'), '--metrics', '127.0.0.1:9464']);
    expect(stdout).toContain('RuntimeDirectoryPreserve=yes');
    expect(stdout).toContain('UMask=0077');
    const exec0 = /^ExecStart=(.*)$/m.exec(stdout)![1].split(' ');
    expect(exec0).toEqual(expect.arrayContaining(['--host', 'node1', '--iface', 'lo', '--listen', '127.0.0.1:7443', '--metrics', '127.0.0.1:9464']));
    const r = await exec(exec0[0], exec0.slice(1)).then(() => ({ stderr: '', code: 0 }), (e) => ({ stderr: String(e.stderr), code: e.code }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tls-ca: cannot read '${join(tmp, 'nopki')}/ca.crt'`);
  });

  it('hardens the service, and refuses values the unit would only fail on at start', async () => {
    const { stdout } = await exec(process.execPath, [CLI, 'transitd', '--print-systemd-unit', '--host', 'node1', '--iface', 'lo']);
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=full', 'ProtectHome=read-only']) expect(stdout).toContain(line);
    const refusal = (extra: string[]) => exec(process.execPath, [CLI, 'transitd', '--print-systemd-unit', '--iface', 'lo', ...extra])
      .then(() => ({ code: 0, stderr: '' }), (e) => ({ code: e.code as number, stderr: String(e.stderr) }));
    expect(await refusal(['--host', '../../evil'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/host: '\.\.\/\.\.\/evil' is not a host name/) });
    expect(await refusal(['--host', 'a..b'])).toMatchObject({ code: 2 });
    expect(await refusal(['--host', 'n', '--metrics', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--metrics: 'x' is not ADDR:PORT/) });
    expect(await refusal(['--host', 'n', '--listen', 'nonsense', '--tls-dir', '/etc/xvpc/pki'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--listen: 'nonsense'/) });
  });

  it('refuses --listen without --tls-dir', async () => {
    const r = await exec(process.execPath, [CLI, 'transitd', '--print-systemd-unit', '--host', 'n', '--iface', 'lo', '--listen', '1.2.3.4:1'])
      .then(() => 0, (e) => e.code);
    expect(r).toBe(2);
  });
});

describe('xvpc certs', () => {
  it('makes a CA and host/controller certificates that verify against it; keys 0600', async () => {
    const dir = join(tmp, 'pki');
    await exec(process.execPath, [CLI, 'certs', '--dir', dir, '--host', 'node1=10.0.0.11', '--controller', 'ctl']);
    for (const name of ['node1', 'ctl']) {
      const v = await exec('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, `${name}.crt`)]);
      expect(v.stdout.trim()).toBe(`${join(dir, `${name}.crt`)}: OK`);
      expect(statSync(join(dir, `${name}.key`)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    const text = (await exec('openssl', ['x509', '-in', join(dir, 'node1.crt'), '-noout', '-ext', 'subjectAltName'])).stdout;
    expect(text).toMatch(/DNS:node1, IP Address:10\.0\.0\.11/);
    const bad = await exec(process.execPath, [CLI, 'certs', '--dir', dir, '--host', 'node2=10.0.0.300']).then(() => 0, (e) => e.code);
    expect(bad).toBe(2);
    // a host's certificate serves, a controller's connects: neither can stand in for the other
    const eku = async (name: string) => (await exec('openssl', ['x509', '-in', join(dir, `${name}.crt`), '-noout', '-ext', 'extendedKeyUsage'])).stdout;
    expect(await eku('node1')).toMatch(/TLS Web Server Authentication\s*$/);
    expect(await eku('ctl')).toMatch(/TLS Web Client Authentication\s*$/);
    expect(statSync(join(dir, 'node1.crt')).mode & 0o777).toBe(0o644);
  });

  it('keeps a CA whose key is away, refuses to sign without it, and never touches an existing directory\'s mode', async () => {
    const dir = join(tmp, 'offline');
    await exec(process.execPath, [CLI, 'certs', '--dir', dir, '--host', 'n1']);
    const ca = readFileSync(join(dir, 'ca.crt'));
    renameSync(join(dir, 'ca.key'), join(tmp, 'ca.key.away'));
    const r = await exec(process.execPath, [CLI, 'certs', '--dir', dir, '--host', 'n2']).then(() => ({ code: 0, stderr: '' }), (e) => e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no CA in .* to sign with/);
    expect(readFileSync(join(dir, 'ca.crt')).equals(ca)).toBe(true);
    // a directory others may write (and replace files in) is refused and keeps its mode
    const shared = join(tmp, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const s = await exec(process.execPath, [CLI, 'certs', '--dir', shared, '--host', 'n3']).then(() => ({ code: 0, stderr: '' }), (e) => e);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toMatch(/may be written by others/);
    expect(statSync(shared).mode & 0o7777).toBe(0o777);
    // one name twice is refused before anything is made
    const t = await exec(process.execPath, [CLI, 'certs', '--dir', join(tmp, 'twice'), '--host', 'x', '--controller', 'x']).then(() => 0, (e) => e.code);
    expect(t).toBe(2);
    expect(existsSync(join(tmp, 'twice'))).toBe(false);
  });
});

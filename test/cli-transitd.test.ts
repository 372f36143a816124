// `xvpc transitd --print-systemd-unit` and `xvpc certs`: the unit's command
// line is one transitd accepts, and the certificates chain to their CA.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
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
  });
});

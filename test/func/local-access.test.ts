// Local access is root-only whatever the umask: a droplet and its transitd are
// started under umask 0, and still the run directory is 0700, the socket,
// logs and records 0600, and a non-root user (nobody, via setpriv) can neither
// connect nor change anything.
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Droplet } from '../../src/droplet/index.js';
import { RUN_ROOT, logPath, runDir, socketPath } from '../../src/droplet/names.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { run } from '../../src/util/exec.js';
import { destroyDroplets, expectFailedCalls, makeDroplets } from './lib.js';

const CLIENT = fileURLToPath(new URL('../../dist/transitd/client.js', import.meta.url));
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];

/** As nobody: a raw connect to the socket, then a CreateVpc through gRPC; prints what happened. */
const probe = (sock: string) => `
const net = require('node:net');
const s = net.connect(${JSON.stringify(sock)});
s.on('connect', () => { console.log('connect: ok'); s.destroy(); grpcTry(); });
s.on('error', (e) => { console.log('connect: ' + e.code); grpcTry(); });
async function grpcTry() {
  const { connectTransitd } = await import(${JSON.stringify(CLIENT)});
  const c = connectTransitd('x', 'unix://' + ${JSON.stringify(sock)}, 5000);
  try { await c.createVpc({ vni: 4242, routers: [] }); console.log('grpc: ok'); }
  catch (e) { console.log('grpc: ' + e.code + ' ' + e.message); }
  c.close();
}`;

describe('transitd under umask 0', () => {
  let droplets: Record<string, Droplet>;
  let d: Droplet;

  beforeAll(async () => {
    const old = process.umask(0);
    try {
      droplets = await makeDroplets(['um'], 'um');
      d = droplets.um;
    } finally {
      process.umask(old);
    }
  });

  afterAll(async () => {
    if (droplets) await destroyDroplets(droplets);
  });

  it('run directories are 0700; socket, log and records 0600', () => {
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect(mode(RUN_ROOT)).toBe('700');
    expect(mode(runDir(d.prefix))).toBe('700');
    expect(statSync(socketPath(d.prefix, d.id)).isSocket()).toBe(true);
    expect(mode(socketPath(d.prefix, d.id))).toBe('600');
    expect(mode(logPath(d.prefix, d.id))).toBe('600');
    const files = readdirSync(runDir(d.prefix));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect(mode(`${runDir(d.prefix)}/${f}`), f).toBe('600');
  });

  it('nobody is refused, by the directory and by the socket itself, and changes nothing', async () => {
    const sock = socketPath(d.prefix, d.id);
    const asNobody = () => run([...NOBODY, process.execPath, '-e', probe(sock)], { timeoutMs: 30_000 });
    let r = await asNobody();
    expect(r.stdout).toContain('connect: EACCES');
    expect(r.stdout).toMatch(/grpc: UNAVAILABLE .*EACCES/);

    // With the directory opened for traversal, the socket's own mode still refuses.
    chmodSync(runDir(d.prefix), 0o711);
    try {
      r = await asNobody();
    } finally {
      chmodSync(runDir(d.prefix), 0o700);
    }
    expect(r.stdout).toContain('connect: EACCES');
    expect(r.stdout).toMatch(/grpc: UNAVAILABLE .*EACCES/);

    // Root still gets in, and nobody's CreateVpc never happened.
    const c = connectTransitd(d.id, d.transitdAddress);
    try {
      expect((await c.health({})).host).toBe(d.id);
      expectFailedCalls(d, 1); // this NOT_FOUND is the proof
      await expect(c.getVpc({ vni: 4242 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      c.close();
    }
  });
});

// The switch scenario driven by a Controller that reaches every host only by
// address: each droplet's transitd listens on TCP with mutual TLS inside its
// namespace, and the Controller runs in another droplet ('ctl') on the
// underlay, given each host's name, address and TLS material (remoteHost()).
// A Controller holding a certificate of another CA gets nowhere.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Endpoint } from '../../src/controller/endpoint.js';
import { createDroplets, destroyDroplets, type Droplet } from '../../src/droplet/index.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { ensureCa, issueCert } from '../../src/util/certs.js';
import { delta, expectEcho, expectPing, shortPrefix, snapshot } from './lib.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const HOSTS = ['left', 'right', 'switch'];

/** Runs in 'ctl': builds the scenario through remote hosts only and prints the endpoints' namespaces (or the error). */
const SCRIPT = `
import { Controller } from ${JSON.stringify(`${DIST}controller/controller.js`)};
import { remoteHost } from ${JSON.stringify(`${DIST}controller/remote-host.js`)};
const cfg = JSON.parse(process.argv[2]);
try {
  const hosts = {};
  for (const h of cfg.hosts) hosts[h.name] = await remoteHost({ name: h.name, address: h.address, tls: cfg.tls });
  const c = new Controller(hosts);
  await c.createVpc({ vni: 3, cidr: '10.0.0.0/16', routers: [], directPath: false });
  await c.createNetwork({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });
  const left = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.2', host: 'left' });
  const right = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.3', host: 'right' });
  await c.close();
  console.log(JSON.stringify({ left: { netns: left.netns, mac: left.mac }, right: { netns: right.netns, mac: right.mac }, ips: Object.fromEntries(Object.values(hosts).map((h) => [h.id, h.ip])) }));
} catch (err) {
  console.log(JSON.stringify({ error: err.message, code: err.code }));
}
`;

describe('Controller reaching hosts over mutual TLS only', () => {
  let droplets: Record<string, Droplet>;
  let tmp: string;
  let script: string;

  /** A controller process with the controller certificate of tlsDir, trusting caDir's CA (by default the hosts'). */
  const controllerIn = async (tlsDir: string, caDir = join(tmp, 'pki')) => {
    const cfg = {
      hosts: HOSTS.map((name) => ({ name, address: droplets[name].transitdTcpAddress })),
      tls: { ca: join(caDir, 'ca.crt'), cert: join(tlsDir, 'controller.crt'), key: join(tlsDir, 'controller.key') },
    };
    const r = await droplets.ctl.run([process.execPath, script, JSON.stringify(cfg)], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout.trim());
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'xvpc-remote-'));
    script = join(tmp, 'controller.mjs');
    writeFileSync(script, SCRIPT);
    const pki = join(tmp, 'pki');
    await ensureCa(pki);
    for (const name of [...HOSTS, 'ctl']) await issueCert(pki, name, 'host');
    await issueCert(pki, 'controller', 'controller');
    await ensureCa(join(tmp, 'rogue'), { name: 'rogue-ca' });
    await issueCert(join(tmp, 'rogue'), 'controller', 'controller');
    droplets = await createDroplets([...HOSTS, 'ctl'], { prefix: shortPrefix('rc'), transitdTls: { dir: pki, port: 7443 } });
  });

  afterAll(async () => {
    if (droplets) await destroyDroplets(droplets);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a controller with another CA\'s certificate is refused and changes nothing', async () => {
    // Another PKI whole (its CA, its certificate): the hosts refuse it in the handshake.
    const out = await controllerIn(join(tmp, 'rogue'), join(tmp, 'rogue'));
    expect(out.code).toBe('UNAVAILABLE');
    // Its certificate with the hosts' CA: a certificate that CA did not sign is said before any connection.
    const mixed = await controllerIn(join(tmp, 'rogue'));
    expect(mixed).toMatchObject({ code: 'INVALID_ARGUMENT', error: expect.stringMatching(/tls-cert: .*rogue\/controller\.crt' is not signed by tls-ca/) });
    for (const name of HOSTS) {
      const c = connectTransitd(name, droplets[name].transitdAddress); // the test's own look, through the local socket
      try {
        await expect(c.getVpc({ vni: 3 }), name).rejects.toMatchObject({ code: 'NOT_FOUND' });
      } finally { c.close(); }
    }
  });

  it('builds the switch scenario over TCP+mTLS; traffic flows through the switch', async () => {
    const out = await controllerIn(join(tmp, 'pki'));
    expect(out.error).toBeUndefined();
    // What Health told the controller is each droplet's underlay address.
    for (const name of HOSTS) expect(out.ips[name]).toBe(droplets[name].ip);
    const left = new Endpoint(3, 1, '10.0.0.2', out.left.mac, droplets.left, out.left.netns);
    const right = new Endpoint(3, 1, '10.0.0.3', out.right.mac, droplets.right, out.right.netns);
    const before = await snapshot([droplets.switch]);
    await expectPing(left, right.ip, 3);
    await expectEcho('tcp', left, right, 7100);
    const after = await snapshot([droplets.switch]);
    expect(delta(before[0], after[0], 'switch_fwd')).toBeGreaterThanOrEqual(6);
  });
});

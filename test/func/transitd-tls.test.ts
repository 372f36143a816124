// transitd on TCP with mutual TLS, and what a hostile client can and cannot do:
// without a certificate of transitd's CA (none, another CA's, plaintext) no
// call is served; undecodable requests are INVALID_ARGUMENT; oversized
// messages, floods of calls and stalled connections neither crash transitd
// nor change its state; a call whose client gives up while it waits behind
// others is never started.
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDroplets, destroyDroplets, type Droplet } from '../../src/droplet/index.js';
import { socketPath } from '../../src/droplet/names.js';
import { TransitService } from '../../src/gen/transit.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { DEFAULT_LIMITS } from '../../src/transitd/limits.js';
import { ensureCa, issueCert } from '../../src/util/certs.js';
import { shortPrefix } from './lib.js';

const CLIENT = fileURLToPath(new URL('../../dist/transitd/client.js', import.meta.url));
const PORT = 7443;

/** A node script, run inside the droplet, that makes one call with the given credentials and prints the outcome. */
const caller = (address: string, creds: { ca?: string; cert?: string; key?: string } | 'plaintext') => `
const grpc = require('@grpc/grpc-js');
(async () => {
  const { TransitClient } = await import(${JSON.stringify(CLIENT.replace('/transitd/client.js', '/gen/transit.js'))});
  const fs = require('node:fs');
  const c = ${JSON.stringify(creds)};
  const credentials = c === 'plaintext' ? grpc.credentials.createInsecure()
    : grpc.credentials.createSsl(fs.readFileSync(c.ca), c.key ? fs.readFileSync(c.key) : null, c.cert ? fs.readFileSync(c.cert) : null);
  const client = new TransitClient(${JSON.stringify(address)}, credentials, { 'grpc.ssl_target_name_override': 'tl', 'grpc.default_authority': 'tl' });
  client.createVpc({ vni: 4242, routers: [] }, new grpc.Metadata(), { deadline: Date.now() + 8000 }, (err) => {
    console.log(JSON.stringify(err ? { code: err.code, details: err.details } : { code: 0 }));
    client.close();
  });
})();`;

describe('transitd over mutual TLS, and hostile clients', () => {
  let droplets: Record<string, Droplet>;
  let d: Droplet;
  let pki: string;
  let rogue: string;

  const local = () => connectTransitd(d.id, d.transitdAddress, 30_000);
  const fingerprint = async () => {
    const c = local();
    try {
      return createHash('sha256').update(JSON.stringify(await c.dump({}))).digest('hex');
    } finally { c.close(); }
  };
  const callFrom = async (creds: Parameters<typeof caller>[1]) => {
    const r = await d.run([process.execPath, '-e', caller(d.transitdTcpAddress!, creds)], { timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout.trim()) as { code: number; details?: string };
  };

  beforeAll(async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'xvpc-tls-'));
    pki = join(tmp, 'pki');
    rogue = join(tmp, 'rogue');
    await ensureCa(pki);
    await issueCert(pki, 'tl', 'host');
    await issueCert(pki, 'other', 'host');
    await issueCert(pki, 'controller', 'controller');
    await ensureCa(rogue, { name: 'rogue-ca' });
    await issueCert(rogue, 'controller', 'controller');
    droplets = await createDroplets(['tl'], { prefix: shortPrefix('tl'), transitdTls: { dir: pki, port: PORT } });
    d = droplets.tl;
  });

  afterAll(async () => {
    if (droplets) await destroyDroplets(droplets);
    if (pki) rmSync(join(pki, '..'), { recursive: true, force: true });
  });

  it('a client with a certificate of its CA is served', async () => {
    const r = await callFrom({ ca: `${pki}/ca.crt`, cert: `${pki}/controller.crt`, key: `${pki}/controller.key` });
    expect(r).toEqual({ code: 0 });
    const c = local();
    try {
      expect(await c.getVpc({ vni: 4242 })).toMatchObject({ vni: 4242 });
      await c.deleteVpc({ vni: 4242 });
    } finally { c.close(); }
  });

  it('no certificate, another CA\'s certificate, a host\'s certificate, or plaintext: refused before any call is served', async () => {
    const before = await fingerprint();
    const outcomes = {
      none: await callFrom({ ca: `${pki}/ca.crt` }),
      rogue: await callFrom({ ca: `${pki}/ca.crt`, cert: `${rogue}/controller.crt`, key: `${rogue}/controller.key` }),
      // another host's certificate, of this CA: it serves TLS, it does not drive transitds
      host: await callFrom({ ca: `${pki}/ca.crt`, cert: `${pki}/other.crt`, key: `${pki}/other.key` }),
      plaintext: await callFrom('plaintext'),
    };
    for (const [who, r] of Object.entries(outcomes)) expect(r.code, `${who}: ${r.details}`).toBe(grpc.status.UNAVAILABLE);
    expect(await fingerprint()).toBe(before); // CreateVpc 4242 never ran
  });

  it('undecodable requests are INVALID_ARGUMENT on every method, and change nothing', async () => {
    const before = await fingerprint();
    const raw = new grpc.Client(`unix://${socketPath(d.prefix, d.id)}`, grpc.credentials.createInsecure());
    const send = (path: string, bytes: Buffer) => new Promise<number>((resolve) => {
      raw.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), { deadline: Date.now() + 10_000 },
        (err) => resolve(err ? err.code : grpc.status.OK));
    });
    // Bytes no message decodes: wire type 7, a length past the end, a cut varint.
    const garbage = [Buffer.from([0x0f]), Buffer.from([0x0a, 0xff, 0x01]), Buffer.from([0x08, 0xff])];
    const codes: Record<string, number[]> = {};
    try {
      for (const [name, m] of Object.entries(TransitService)) {
        codes[name] = [];
        for (const g of garbage) codes[name].push(await send(m.path, g));
      }
    } finally { raw.close(); }
    const methods = Object.keys(codes);
    expect(methods.length).toBeGreaterThan(20);
    for (const name of methods) expect(codes[name], name).toEqual(garbage.map(() => grpc.status.INVALID_ARGUMENT));
    expect(await fingerprint()).toBe(before);
  });

  it('a message over the size limit is refused; a flood of calls and stalled connections do not take transitd down', async () => {
    const before = await fingerprint();
    const raw = new grpc.Client(`unix://${socketPath(d.prefix, d.id)}`, grpc.credentials.createInsecure(),
      { 'grpc.max_send_message_length': -1 });
    const send = (path: string, bytes: Buffer) => new Promise<number>((resolve) => {
      raw.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), { deadline: Date.now() + 60_000 },
        (err) => resolve(err ? err.code : grpc.status.OK));
    });
    // Stalled connections: a partial HTTP/2 preface, then silence.
    const stalled = Array.from({ length: 50 }, () => {
      const s = connect(socketPath(d.prefix, d.id));
      s.on('error', () => undefined);
      s.write('PRI * HTTP/2.0\r\n');
      return s;
    });
    try {
      const huge = Buffer.alloc(DEFAULT_LIMITS.maxMessageBytes + 1024, 0);
      expect(await send(TransitService.applyGoalState.path, huge)).toBe(grpc.status.RESOURCE_EXHAUSTED);

      // 300 calls at once (re-loading the transit program: serialized, and a no-op for state):
      // each is served or told RESOURCE_EXHAUSTED, nothing else.
      const c = local();
      try {
        const results = await Promise.all(Array.from({ length: 300 }, () =>
          c.loadTransit({ interface: 'eth0', mode: '' }, { timeoutMs: 120_000 }).then(() => 'OK', (e) => String(e.code))));
        for (const r of results) expect(['OK', 'UNAVAILABLE']).toContain(r);
        expect(results).toContain('OK');
        expect((await c.health({})).transitLoaded).toBe(true);
      } finally { c.close(); }
    } finally {
      raw.close();
      for (const s of stalled) s.destroy();
    }
    expect(await fingerprint()).toBe(before);
    expect((await d.health()).host).toBe('tl');
  }, 180_000);

  it('a call whose deadline passes while it waits behind other mutations is not started, and is reported', async () => {
    const c = local();
    // Fewer than the 32 streams one connection may hold, so CreateVpc reaches transitd at once.
    const slow = Array.from({ length: 24 }, (_, i) => `10.77.0.${10 + i}`);
    try {
      const before = (await c.getFailedCalls({})).total;
      // 24 endpoint attachments (netns, veth, addresses: several processes each) hold the
      // mutation queue for far longer than the 100 ms the CreateVpc below waits.
      const head = slow.map((ip, i) => c.attachEndpoint({
        vni: 77, netId: 1, ip, mac: `02:00:00:77:00:${(0x10 + i).toString(16)}`, cidr: '10.77.0.0/24',
        gatewayIp: '10.77.0.1', hostEndpoint: false, mtu: 0, vpcCidr: '',
      }, { timeoutMs: 120_000 }));
      await expect(c.createVpc({ vni: 7777, routers: [] }, { timeoutMs: 100 }))
        .rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/deadline exceeded/i) });
      await Promise.all(head);
      const failed = await c.getFailedCalls({});
      expect(failed.total - before).toBe(1);
      expect(failed.last.at(-1)).toMatchObject({ method: 'createVpc', code: 'CANCELLED' });
      // Had it run after its client left, VPC 7777 would exist now.
      await expect(c.getVpc({ vni: 7777 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      for (const ip of slow) await c.detachEndpoint({ vni: 77, ip }).catch(() => undefined);
      c.close();
    }
  }, 180_000);
});

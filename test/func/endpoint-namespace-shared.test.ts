// createDroplets({ endpointNamespace: 'shared' }): every endpoint of a droplet
// in one namespace `<prefix>-<name>-eps` (src/transitd/shared-plumbing.ts),
// routed by its source address through its own veth. Two endpoints on one
// droplet reach each other through the data plane (its agent counters move;
// a capture in the shared namespace sees the echo requests leave the sender's
// device and arrive on the receiver's, none on lo), not inside the namespace; across droplets too; a TCP stream with bound
// addresses arrives byte for byte (an unbound one reaches no other endpoint
// inside the namespace; 127.0.0.1 works); an address already used there by another
// VPC's endpoint is refused with nothing changed; another network is reached
// through a router (the gateway route); a scaled endpoint with a backend
// there and a security group on an endpoint work as between namespaces; a
// host endpoint stays in its
// droplet's namespace (and its deletion leaves the source rule of another
// VPC's endpoint with its address alone); a deleted endpoint leaves no veth or rule; a restarted
// transitd and a resumed controller find the endpoints again; destroying the
// droplets leaves nothing of the prefix. Once with a transitd process per
// droplet, once with one shared transitd host.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { Endpoint } from '../../src/controller/endpoint.js';
import { cleanupAll, createDroplets, destroyDroplets, openDroplets, type Droplet } from '../../src/droplet/index.js';
import { XvpcError } from '../../src/errors.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { endpointNames } from '../../src/transitd/plumbing.js';
import { endpointTable, sourceRule } from '../../src/transitd/shared-plumbing.js';
import { run } from '../../src/util/exec.js';
import { listNamespaces } from '../../src/util/netns.js';
import { delta, expectNoPing, expectPing, shortPrefix } from './lib.js';
import { runStream, startServer } from './probe.js';

const ip = async (args: string[]): Promise<string> => {
  const r = await run(['ip', ...args]);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
};

/** Links of a namespace, by name. */
const links = async (ns: string): Promise<string[]> =>
  (JSON.parse(await ip(['-j', '-n', ns, 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

/** tcpdump (-e: with `-i any`, each line names its device and direction) in a namespace until stop(): the lines it printed. */
function tcpdump(netns: string, iface: string, filter: string): { ready: Promise<void>; stop: () => Promise<string[]> } {
  const p = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', 'tcpdump', '-i', iface, '-n', '-l', '-e', '--immediate-mode', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  const ready = new Promise<void>((resolve) => {
    p.stderr.on('data', (b: Buffer) => { if (b.toString().includes('listening on')) resolve(); });
    setTimeout(resolve, 3000);
  });
  return {
    ready,
    stop: () => new Promise((resolve) => {
      p.once('exit', () => resolve(out.split('\n').filter((l) => l.length > 0)));
      setTimeout(() => p.kill('SIGINT'), 300);
    }),
  };
}

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function sharedSuite(transitd: true | 'shared', tag: string) {
  describe(`endpoints sharing one namespace per droplet (transitd ${transitd === 'shared' ? 'shared host' : 'per droplet'})`, () => {
    const prefix = shortPrefix(tag);
    let droplets: Record<string, Droplet>;
    let c: Controller<Droplet>;
    let a1: Endpoint<Droplet>;
    let a2: Endpoint<Droplet>;
    let b1: Endpoint<Droplet>;
    const epsA = `${prefix}-a-eps`;

    beforeAll(async () => {
      droplets = await createDroplets(['a', 'b', 'sw'], { prefix, transitd, endpointNamespace: 'shared' });
      c = new Controller(droplets);
      await c.createVpc({ vni: 51, cidr: '10.51.0.0/16', routers: [], directPath: false });
      await c.createNetwork({ vni: 51, netId: 1, cidr: '10.51.1.0/24', switches: ['sw'] });
      a1 = await c.createSimpleEndpoint({ vni: 51, netId: 1, ip: '10.51.1.2', host: 'a' });
      a2 = await c.createSimpleEndpoint({ vni: 51, netId: 1, ip: '10.51.1.3', host: 'a' });
      b1 = await c.createSimpleEndpoint({ vni: 51, netId: 1, ip: '10.51.1.4', host: 'b' });
    }, 120_000);

    afterAll(async () => {
      await c?.close();
      await cleanupAll(prefix);
    }, 60_000);

    it('puts both endpoints of droplet a in one namespace, each with its device, /32, source rule and table', async () => {
      expect(a1.netns).toBe(epsA);
      expect(a2.netns).toBe(epsA);
      expect(a1.sharedNamespace && a2.sharedNamespace && b1.sharedNamespace).toBe(true);
      const ns = (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`)).sort();
      expect(ns).toEqual([`${prefix}-a`, epsA, `${prefix}-b`, `${prefix}-b-eps`, `${prefix}-sw`, `${prefix}-ul`].sort());
      const n1 = endpointNames(`${prefix}-a`, 51, a1.ip, false, 'shared');
      expect(await links(epsA)).toEqual(expect.arrayContaining(['lo', n1.peer, endpointNames(`${prefix}-a`, 51, a2.ip, false, 'shared').peer]));
      expect(await ip(['-n', epsA, '-4', 'addr', 'show', 'dev', n1.peer])).toContain(`inet ${a1.ip}/32`);
      const rules = await ip(['-n', epsA, 'rule', 'show']);
      expect(rules).toMatch(new RegExp(`^100:\\s+from ${a1.ip} iif lo lookup ${endpointTable(a1.ip)}`, 'm'));
      expect(rules).toMatch(/^32000:\s+from all lookup local/m);
      expect(rules).not.toMatch(/^0:/m);
      // ARP per device, and no forwarding (an unbound packet looped back is dropped, not routed around the data plane).
      const sysctl = await run(['nsenter', `--net=/run/netns/${epsA}`, '--', 'sysctl', '-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.ip_forward']);
      expect(sysctl.stdout.trim().split('\n')).toEqual(['1', '2', '0']);
      const table = await ip(['-n', epsA, 'route', 'show', 'table', String(endpointTable(a1.ip))]);
      expect(table).toContain(`default via 10.51.1.1 dev ${n1.peer}`);
      expect(table).toContain(`10.51.1.0/24 dev ${n1.peer}`);
    });

    it('a1 -> a2 (one namespace) crosses the data plane: agent counters move, the requests leave a1\'s device and arrive on a2\'s, none on lo', async () => {
      const a = droplets.a;
      const dev1 = endpointNames(`${prefix}-a`, 51, a1.ip, false, 'shared').peer;
      const dev2 = endpointNames(`${prefix}-a`, 51, a2.ip, false, 'shared').peer;
      // Every device of the shared namespace: delivered inside it, the requests would go over lo.
      const cap = tcpdump(epsA, 'any', `icmp and src ${a1.ip} and dst ${a2.ip}`);
      await cap.ready;
      await new Promise((r) => setTimeout(r, 1000)); // "listening" is printed a moment before packets are taken
      const before = await a.stats();
      await expectPing(a1, a2.ip, 5);
      const after = await a.stats();
      const seen = await cap.stop();
      const requests = (where: string) => seen.filter((l) => l.includes(` ${where} `) && l.includes('ICMP echo request')).length;
      // 5 echo requests from a1's veth and 5 replies from a2's, each seen by its agent.
      expect(delta(before, after, 'agent_rx'), 'packets the agents on droplet a saw').toBeGreaterThanOrEqual(10);
      expect(seen.filter((l) => / lo /.test(l)), 'on lo').toEqual([]);
      expect(requests(`${dev1} Out`), `out of ${dev1}:\n${seen.join('\n')}`).toBe(5);
      expect(requests(`${dev2} In`), `into ${dev2}:\n${seen.join('\n')}`).toBe(5);
    });

    it('a1 <-> b1 across droplets', async () => {
      await expectPing(a1, b1.ip, 3);
      await expectPing(b1, a1.ip, 3);
      await expectPing(a2, b1.ip, 3);
    });

    it('xvpc capture --endpoint without -i listens on the endpoint\'s own device in the shared namespace', async () => {
      const cli = spawn(process.execPath, [CLI, 'capture', '--prefix', prefix, '--host', 'a', '--endpoint', `51/${a1.ip}`, '-c', '2', 'icmp'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      const exited = new Promise<number>((resolve) => cli.on('exit', (code) => resolve(code ?? 1)));
      try {
        await new Promise<void>((resolve, reject) => {
          cli.stderr.on('data', (d: Buffer) => { stderr += d.toString(); if (stderr.includes('listening on')) resolve(); });
          void exited.then((code) => reject(new Error(`capture exited ${code}: ${stderr}`)));
        });
        await expectPing(a1, b1.ip, 1);
        expect(await exited, stderr).toBe(0);
      } finally {
        cli.kill('SIGINT');
      }
      const dev1 = endpointNames(`${prefix}-a`, 51, a1.ip, false, 'shared').peer;
      expect(stderr).toContain(`a ${dev1} in ${epsA}`);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(stdout).toContain(a1.ip);
    });

    it('TCP streams with bound addresses arrive byte for byte (a1 -> a2 in one namespace, a2 -> b1)', async () => {
      for (const [from, to, port] of [[a1, a2, 7621], [a2, b1, 7622]] as const) {
        const server = await startServer(to, 'tcp', port, { bind: to.ip });
        try {
          const s = await runStream(from, to.ip, port, 1, { bind: from.ip });
          expect(s.sent.bytes).toBeGreaterThan(1e6);
          expect(s.received, `${from.ip} -> ${to.ip}: bytes and sha256 the server received`).toEqual(s.sent);
        } finally {
          await server.stop();
        }
      }
    });

    it('an unbound command is routed as no endpoint: another endpoint\'s address is not reached inside the namespace (no bypass of the data plane); 127.0.0.1 still is', async () => {
      const unbound = await a1.run(['ping', '-n', '-c', '1', '-W', '1', a2.ip]);
      expect(unbound.code, `unbound ping ${a2.ip} in ${epsA}:\n${unbound.stdout}${unbound.stderr}`).not.toBe(0);
      const server = await startServer(a2, 'tcp', 7623, { bind: a2.ip });
      try {
        const connect = await a1.run(['bash', '-c', `exec 3<>/dev/tcp/${a2.ip}/7623`], { timeoutMs: 5000 });
        expect(connect.code, `unbound connect to ${a2.ip}:7623`).not.toBe(0);
      } finally {
        await server.stop();
      }
      const local = await a1.run(['ping', '-n', '-c', '1', '-W', '1', '127.0.0.1']);
      expect(local.code, local.stdout).toBe(0);
      await expectPing(a1, a2.ip, 2); // bound: through the data plane as before
    });

    it('a scaled endpoint with a backend in the shared namespace: a2 reaches both backends (a1 beside it, b1), answers from the scaled IP', async () => {
      const vip = await c.createScaledEndpoint({ vni: 51, netId: 1, ip: '10.51.1.100', backends: [a1, b1] });
      const servers = await Promise.all([a1, b1].map((b) => startServer(b, 'http', 7631, { name: b.ip, bind: b.ip })));
      try {
        const answeredBy = new Set<string>();
        for (let i = 0; i < 16 && answeredBy.size < 2; i++) {
          const r = await a2.run(['curl', '-sS', '--max-time', '3', '--interface', a2.ip, `http://${vip.ip}:7631/q${i}`], { timeoutMs: 10_000 });
          expect(r.stdout.trim(), r.stderr).toMatch(new RegExp(`^pong:q${i}@`));
          answeredBy.add(r.stdout.trim().split('@')[1]);
        }
        expect([...answeredBy].sort()).toEqual([a1.ip, b1.ip].sort());
      } finally {
        for (const s of servers) await s.stop();
        await c.deleteSimpleEndpoint({ vni: 51, netId: 1, ip: vip.ip });
      }
    });

    it('a security group on a2 polices a1 beside it in the shared namespace as any other peer (by a2\'s own veth)', async () => {
      await c.createSecurityGroup({ vni: 51, name: 'tcp7632', ingress: [{ protocol: 'tcp', ports: '7632' }], egress: [] });
      await c.attachSecurityGroup({ vni: 51, ip: a2.ip, name: 'tcp7632' });
      try {
        await expectNoPing(a1, a2.ip, 2);
        const server = await startServer(a2, 'tcp', 7632, { bind: a2.ip });
        try {
          const s = await runStream(a1, a2.ip, 7632, 1, { bind: a1.ip });
          expect(s.received, 'bytes and sha256 the server received').toEqual(s.sent);
        } finally {
          await server.stop();
        }
      } finally {
        await c.detachSecurityGroup({ vni: 51, ip: a2.ip, name: 'tcp7632' });
        await c.deleteSecurityGroup({ vni: 51, name: 'tcp7632' });
      }
      await expectPing(a1, a2.ip, 2);
    });

    it('refuses an endpoint whose address another VPC\'s endpoint has on that droplet, changing nothing', async () => {
      await c.createVpc({ vni: 52, cidr: '10.51.0.0/16', routers: [], directPath: false });
      await c.createNetwork({ vni: 52, netId: 1, cidr: '10.51.1.0/24', switches: ['sw'] });
      const [linksBefore, rulesBefore] = [await links(epsA), await ip(['-n', epsA, 'rule', 'show'])];
      const err = await c.createSimpleEndpoint({ vni: 52, netId: 1, ip: a1.ip, host: 'a' }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(XvpcError);
      expect((err as XvpcError).code).toBe('FAILED_PRECONDITION');
      // The controller refuses it before any host is told.
      expect((err as Error).message).toContain(`ip: endpoint 52/${a1.ip}: endpoint 51/${a1.ip} on a has the same address`);
      expect(await links(epsA)).toEqual(linksBefore);
      expect(await ip(['-n', epsA, 'rule', 'show'])).toBe(rulesBefore);
      expect(await c.listEndpoints({ vni: 52 })).toEqual([]);
      // transitd refuses it by itself too (a client other than this controller), changing nothing.
      const t = connectTransitd('a', droplets.a.transitdAddress);
      try {
        const direct = await t.attachEndpoint({ vni: 52, netId: 1, ip: a1.ip, mac: '0e:34:0a:33:01:02', cidr: '10.51.1.0/24', gatewayIp: '10.51.1.1',
          hostEndpoint: false, mtu: 0, vpcCidr: '' }).then(() => undefined, (e: unknown) => e);
        expect(direct).toMatchObject({ code: 'FAILED_PRECONDITION' });
        expect((direct as Error).message).toContain(`endpoint 52/${a1.ip}: endpoint 51/${a1.ip} on a has the same address`);
        // One call with a new address twice (two VPCs): refused whole, nothing made for either.
        const req = (vni: number) => ({ vni, netId: 1, ip: '10.51.1.77', mac: `0e:${vni.toString(16)}:0a:33:01:4d`, cidr: '10.51.1.0/24', gatewayIp: '10.51.1.1',
          hostEndpoint: false, mtu: 0, vpcCidr: '' });
        const batch = await t.attachEndpoints({ endpoints: [req(51), req(52)] }).then(() => undefined, (e: unknown) => e);
        expect(batch).toMatchObject({ code: 'FAILED_PRECONDITION' });
        expect((batch as Error).message).toContain('endpoint 52/10.51.1.77: endpoint 51/10.51.1.77 on a has the same address');
      } finally {
        t.close();
      }
      expect(await links(epsA)).toEqual(linksBefore);
      expect(await ip(['-n', epsA, 'rule', 'show'])).toBe(rulesBefore);
      // The same address in the other VPC on another droplet is fine.
      const other = await c.createSimpleEndpoint({ vni: 52, netId: 1, ip: a1.ip, host: 'b' });
      await expectPing(a1, a2.ip, 2);
      await c.deleteSimpleEndpoint({ vni: 52, netId: 1, ip: other.ip });
    });

    it('another network of the VPC through a router: the default route via the gateway (its ARP answered by the agent)', async () => {
      await c.addRouter({ vni: 51, router: 'sw' });
      await c.createNetwork({ vni: 51, netId: 2, cidr: '10.51.2.0/24', switches: ['sw'] });
      const b2 = await c.createSimpleEndpoint({ vni: 51, netId: 2, ip: '10.51.2.5', host: 'b' });
      await expectPing(a1, b2.ip, 3);
      await expectPing(b2, a2.ip, 3);
      const dev1 = endpointNames(`${prefix}-a`, 51, a1.ip, false, 'shared').peer;
      expect(await ip(['-n', epsA, 'neigh', 'show', 'dev', dev1])).toMatch(/^10\.51\.1\.1 lladdr /m);
      await c.deleteSimpleEndpoint({ vni: 51, netId: 2, ip: b2.ip });
    });

    it('a host endpoint stays in its droplet\'s own namespace and reaches the shared ones', async () => {
      const h = await c.createHostEndpoint({ vni: 51, netId: 1, ip: '10.51.1.20', host: 'b' });
      expect(h).toMatchObject({ netns: '', sharedNamespace: false });
      await expectPing(a1, h.ip, 2);
      await expectPing(h, a2.ip, 2);
      const veth = endpointNames(`${prefix}-b`, 51, h.ip, true).veth;
      await c.deleteSimpleEndpoint({ vni: 51, netId: 1, ip: h.ip });
      expect((await run(['ip', '-n', `${prefix}-b`, 'link', 'show', veth])).code).not.toBe(0);
    });

    it('deleting a host endpoint with a1\'s address in another VPC leaves a1\'s source rule alone', async () => {
      // VPC 52 (10.51.1.0/24, switch sw) is made by the refusal test above. A host endpoint does not
      // hold its address in the shared namespace, so the same address there is allowed.
      const h = await c.createHostEndpoint({ vni: 52, netId: 1, ip: a1.ip, host: 'a' });
      expect(h).toMatchObject({ netns: '', sharedNamespace: false });
      const rule = new RegExp(`^100:\\s+from ${a1.ip} iif lo lookup ${endpointTable(a1.ip)}`, 'm');
      await c.deleteSimpleEndpoint({ vni: 52, netId: 1, ip: h.ip });
      expect((await run(['ip', '-n', `${prefix}-a`, 'link', 'show', endpointNames(`${prefix}-a`, 52, h.ip, true).veth])).code).not.toBe(0);
      expect(await ip(['-n', epsA, 'rule', 'show']), 'a1\'s source rule').toMatch(rule);
      await expectPing(a1, b1.ip, 2);
    });

    it('deleting a2 removes its veth and its rule; a1 still reaches b1', async () => {
      const n2 = endpointNames(`${prefix}-a`, 51, a2.ip, false, 'shared');
      await c.deleteSimpleEndpoint({ vni: 51, netId: 1, ip: a2.ip });
      expect(await links(epsA)).not.toContain(n2.peer);
      expect((await run(['ip', '-n', `${prefix}-a`, 'link', 'show', n2.veth])).code).not.toBe(0);
      expect(await ip(['-n', epsA, 'rule', 'show'])).not.toContain(`from ${a2.ip} `);
      await expectPing(a1, b1.ip, 2);
      // Its source rule left behind (a transitd stopped between the veth's delete and the rule's):
      // the next attach of the address replaces it at the first try.
      await ip(['-n', epsA, 'rule', 'add', ...sourceRule(a2.ip).split(' ')]);
      a2 = await c.createSimpleEndpoint({ vni: 51, netId: 1, ip: a2.ip, host: 'a' });
      expect((await ip(['-n', epsA, 'rule', 'show'])).split('\n').filter((l) => l.includes(`from ${a2.ip} `))).toHaveLength(1);
      await expectPing(a1, a2.ip, 2);
    });

    it('a restarted transitd, and a controller resumed from the store over openDroplets, find the endpoints again', async () => {
      await droplets.a.restartTransitd();
      expect(await c.reconcile()).toMatchObject({ repaired: 0 });
      await expectPing(a1, a2.ip, 3);
      await c.close();
      // Not attached by this controller: the endpoint learns its namespace from the droplet's record.
      const again = await openDroplets({ prefix });
      expect(again.a.endpointNamespace).toBe('shared');
      c = new Controller(again);
      const eps = await c.listEndpoints({ vni: 51 });
      const r1 = eps.find((e) => e.ip === a1.ip)!;
      expect(r1).toMatchObject({ netns: epsA, sharedNamespace: true });
      await expectPing(r1, a2.ip, 3);
      await expectPing(r1, b1.ip, 3);
    });

    it('destroying the droplets leaves no namespace or veth of the prefix', async () => {
      await c.close();
      await destroyDroplets(droplets);
      expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
      const veths = (JSON.parse(await ip(['-j', 'link', 'show'])) as { ifname: string }[]).filter((l) => l.ifname.startsWith(`${prefix}`));
      expect(veths).toEqual([]);
    });
  });
}

sharedSuite(true, 'ep');
sharedSuite('shared', 'eh');

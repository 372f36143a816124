// `xvpc demo`: three emulated hosts, one VPC, one network with its switch on
// a third host, two endpoints that ping each other through the data plane
// (the droplets' default hook, or --xdp); a security group that lets one TCP
// port in and not another, with the bytes hashed on both ends and the
// counters that show the denial; then every host's counters, and everything
// torn down again.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Controller } from '../controller/controller.js';
import type { Endpoint } from '../controller/endpoint.js';
import { createDroplets, destroyDroplets, type Droplet } from '../droplet/index.js';
import { UsageError, checkPrefix } from './args.js';

const say = (text: string) => console.log(text);

/** The demo's TCP ends (demo-tcp.ts), run with this node inside the endpoints' namespaces. */
const DEMO_TCP = fileURLToPath(new URL('./demo-tcp.js', import.meta.url));
const ALLOWED_PORT = 8080;
const DENIED_PORT = 8081;
const SEND_BYTES = 1 << 20;
/** SYN retransmissions of the client's namespace during the denied attempt: it gives up in seconds, not minutes. */
const SYN_RETRIES = 1;

type Json = Record<string, unknown>;

/** TCP segments the endpoint's namespace has sent, retransmissions included (/proc/net/snmp OutSegs + RetransSegs). */
async function tcpOutSegs(ep: Endpoint): Promise<number> {
  const r = await ep.run(['cat', '/proc/net/snmp']);
  const [names, values] = r.stdout.split('\n').filter((l) => l.startsWith('Tcp:')).map((l) => l.split(/\s+/));
  const out = names?.indexOf('OutSegs') ?? -1, re = names?.indexOf('RetransSegs') ?? -1;
  if (r.code !== 0 || out < 0 || re < 0 || !values) throw new Error(`no TCP counters in ${ep.netns}: ${r.stderr.trim()}`);
  return Number(values[out]) + Number(values[re]);
}
const lastJson = (out: string): Json | undefined => {
  const line = out.trim().split('\n').pop();
  try { return line ? JSON.parse(line) as Json : undefined; } catch { return undefined; }
};

/**
 * Step 5: group "web" on the server lets TCP ALLOWED_PORT in and nothing else. A connection
 * to each port (the server listens on both); true when the allowed one delivered the same
 * bytes (sha256 on both ends), the denied one failed, and the server's host counted exactly
 * the denied SYNs (drop_sg_ingress) and one tracked connection (sg_ct_new).
 */
async function securityGroupStep(controller: Controller<Droplet>, serverHost: Droplet, client: Endpoint, server: Endpoint): Promise<boolean> {
  say(`\n5. Security group "web" on ${server.ip}: ingress allows TCP port ${ALLOWED_PORT} only. Every other`);
  say(`   packet to it is dropped by the data plane on "${serverHost.id}"; replies of allowed connections pass.`);
  await controller.createSecurityGroup({ vni: 3, name: 'web', ingress: [{ protocol: 'tcp', ports: String(ALLOWED_PORT) }], egress: [] });
  await controller.attachSecurityGroup({ vni: 3, ip: server.ip, name: 'web' });
  const listening = server.run([process.execPath, DEMO_TCP, 'serve', `${ALLOWED_PORT},${DENIED_PORT}`, '1', '30'], { timeoutMs: 40_000 });
  for (let i = 0; ; i++) {
    const ss = await server.run(['ss', '-Htln']);
    if (ss.stdout.includes(`:${ALLOWED_PORT} `) && ss.stdout.includes(`:${DENIED_PORT} `)) break;
    if (i > 100) throw new Error(`the demo's server in ${server.netns} did not listen: ${ss.stdout.trim()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`   ${server.ip} listens on ${ALLOWED_PORT} and ${DENIED_PORT}.`);
  const sysctl = await client.run(['sysctl', '-qw', `net.ipv4.tcp_syn_retries=${SYN_RETRIES}`]);
  if (sysctl.code !== 0) throw new Error(`sysctl tcp_syn_retries in ${client.netns}: ${sysctl.stderr.trim()}`);
  const before = await serverHost.stats();
  const segs = await tcpOutSegs(client);
  const send = async (port: number) => lastJson((await client.run([process.execPath, DEMO_TCP, 'send', server.ip, String(port), String(SEND_BYTES)], { timeoutMs: 30_000 })).stdout);
  const denied = await send(DENIED_PORT);
  const syns = (await tcpOutSegs(client)) - segs; // the client's namespace sent nothing else meanwhile
  say(`   ${client.ip} -> ${server.ip}:${DENIED_PORT}  ${denied?.ok === false ? `denied: ${String(denied.error)} (no answer to the ${syns} SYNs it sent)` : `NOT denied: ${JSON.stringify(denied)}`}`);
  const sent = await send(ALLOWED_PORT);
  const got = lastJson((await listening).stdout);
  const delivered = sent?.ok === true && got?.port === ALLOWED_PORT && got.bytes === sent.bytes && got.sha256 === sent.sha256;
  const hash = (x: Json | undefined) => String(x?.sha256 ?? '-').slice(0, 16);
  say(`   ${client.ip} -> ${server.ip}:${ALLOWED_PORT}  ${delivered ? 'allowed' : 'NOT delivered'}: ${String(sent?.bytes ?? sent?.error ?? '-')} bytes sent, `
    + `${String(got?.bytes ?? 0)} received; sha256 sent ${hash(sent)}…, received ${hash(got)}…`);
  const after = await serverHost.stats();
  const drops = after.drop_sg_ingress - before.drop_sg_ingress;
  const tracked = after.sg_ct_new - before.sg_ct_new;
  say(`   Counters on "${serverHost.id}": drop_sg_ingress +${drops} (the ${syns} SYNs to ${DENIED_PORT}), sg_ct_new +${tracked} (the ${ALLOWED_PORT} connection, tracked)`);
  return denied?.ok === false && delivered && drops === syns && tracked === 1;
}

function counterTable(rows: [string, Record<string, number>][]): string {
  const names = [...new Set(rows.flatMap(([, c]) => Object.keys(c).filter((k) => c[k] > 0)))];
  const width = Math.max(...names.map((n) => n.length), 8);
  const header = `  ${'counter'.padEnd(width)}  ${rows.map(([h]) => h.padStart(8)).join('  ')}`;
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${rows.map(([, c]) => String(c[n] ?? 0).padStart(8)).join('  ')}`);
  return [header, ...lines].join('\n');
}

export async function runDemo(args: string[]): Promise<number> {
  const backend = args.includes('--docker') ? 'docker' : 'netns';
  const mode = args.includes('--xdp') ? 'native' : undefined;
  const at = args.indexOf('--prefix');
  if (at >= 0 && !args[at + 1]) throw new UsageError('--prefix needs a value');
  const prefix = at >= 0 ? checkPrefix(args[at + 1]) : `demo${randomBytes(1).toString('hex')}`;
  say(`xvpc demo (${backend} droplets, prefix ${prefix})\n`);
  say('1. Creating three hosts ("droplets") on one underlay bridge: left, right and switch.');
  say('   Each runs transitd, which loads the transit program on its eth0.');
  let droplets: Record<string, Droplet> | undefined;
  let creating: Promise<Record<string, Droplet>> | undefined;
  let controller: Controller<Droplet> | undefined;
  // Ctrl-C (or SIGTERM) tears the demo down as its end would: its droplets, once made (a
  // create that fails removes what it made); a second one quits at once.
  let interrupts = 0;
  let stopping: Promise<never> | undefined;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    say(`\nInterrupted: tearing down (again to quit at once; then xvpc cleanup --prefix ${prefix} removes what is left).`);
    stopping = (async () => {
      await controller?.close().catch(() => undefined);
      const made = droplets ?? (await creating?.catch(() => undefined));
      if (made) await destroyDroplets(made).catch((err: Error) => say(`   teardown: ${err.message}`));
      say('   Done.');
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    creating = createDroplets(['left', 'right', 'switch'], { prefix, backend, mode });
    droplets = await creating;
    const hook = droplets.left.mode === 'tc' ? 'TC' : 'XDP';
    say(`   The programs run on the ${hook} hook (${hook === 'TC' ? 'keeps GSO over veths; --xdp for XDP' : 'native XDP'}).`);
    for (const d of Object.values(droplets)) say(`   - ${d.id.padEnd(6)} ${d.ip}  ${d.mac}`);
    controller = new Controller(droplets);

    say('\n2. Creating VPC 3 (10.0.0.0/16) and network 1 in it, switched by the host "switch".');
    await controller.createVpc({ vni: 3, cidr: '10.0.0.0/16', routers: [] });
    await controller.createNetwork({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });

    say('\n3. Creating two endpoints: 10.0.0.2 on "left" and 10.0.0.3 on "right".');
    say(`   Each gets its own namespace and a veth whose host side runs the transit agent (${hook}),`);
    say('   which wraps its packets in Geneve (VNI 3) and sends them to the switch.');
    const left = await controller.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.2', host: 'left' });
    const right = await controller.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.3', host: 'right' });

    say('\n4. Pinging both ways.');
    const there = await left.ping(right.ip, { count: 5 });
    say(`   10.0.0.2 -> 10.0.0.3: ${there.received}/${there.transmitted} answered, average ${there.rttMs ?? '-'} ms`);
    const back = await right.ping(left.ip, { count: 5 });
    say(`   10.0.0.3 -> 10.0.0.2: ${back.received}/${back.transmitted} answered, average ${back.rttMs ?? '-'} ms`);

    const guarded = await securityGroupStep(controller, droplets.right, left, right);

    say(`\n6. The data-plane counters of each host (${hook}; packets, summed over CPUs):`);
    const rows = await Promise.all(Object.values(droplets).map(async (d) => [d.id, await d.stats()] as [string, Record<string, number>]));
    say(counterTable(rows));
    say('\n   encap: the agent wrapped a packet in Geneve; switch_fwd: the switch sent it on to the');
    say(`   destination host; decap: that host unwrapped it into the endpoint; arp_reply: ARP answered in ${hook};`);
    say('   sg_ct_new: a connection tracked for a security group; drop_sg_ingress: a packet no rule let in.');

    const pinged = there.ok && back.ok && there.received === there.transmitted && back.received === back.transmitted;
    say(pinged ? `\nBoth endpoints reached each other through the ${hook} data plane.` : '\nSome pings went unanswered: see the counters above.');
    say(guarded ? `The security group let port ${ALLOWED_PORT} in and kept port ${DENIED_PORT} out.` : 'The security group step did not go as shown above.');
    return pinged && guarded ? 0 : 1;
  } finally {
    if (stopping) await stopping; // the signal's handler tears down, then exits
    else {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      say('\n7. Tearing down: endpoints, namespaces, bridges and pinned maps.');
      await controller?.close();
      if (droplets) await destroyDroplets(droplets);
      say('   Done; nothing of the demo is left on this machine.');
    }
  }
}

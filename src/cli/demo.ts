// `xvpc demo`: three emulated hosts, one VPC, one network with its switch on
// a third host, two endpoints that ping each other through the data plane
// (the droplets' default hook, or --xdp); then every host's counters, and
// everything torn down again.
import { randomBytes } from 'node:crypto';
import { Controller } from '../controller/controller.js';
import { createDroplets, destroyDroplets, type Droplet } from '../droplet/index.js';

const say = (text: string) => console.log(text);

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
  const prefix = `demo${randomBytes(1).toString('hex')}`;
  say(`xvpc demo (${backend} droplets, prefix ${prefix})\n`);
  say('1. Creating three hosts ("droplets") on one underlay bridge: left, right and switch.');
  say('   Each runs transitd, which loads the transit program on its eth0.');
  let droplets: Record<string, Droplet> | undefined;
  let controller: Controller<Droplet> | undefined;
  try {
    droplets = await createDroplets(['left', 'right', 'switch'], { prefix, backend, mode });
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

    say(`\n5. The data-plane counters of each host (${hook}; packets, summed over CPUs):`);
    const rows = await Promise.all(Object.values(droplets).map(async (d) => [d.id, await d.stats()] as [string, Record<string, number>]));
    say(counterTable(rows));
    say('\n   encap: the agent wrapped a packet in Geneve; switch_fwd: the switch sent it on to the');
    say(`   destination host; decap: that host unwrapped it into the endpoint; arp_reply: ARP answered in ${hook}.`);

    const ok = there.ok && back.ok && there.received === there.transmitted && back.received === back.transmitted;
    say(ok ? `\nBoth endpoints reached each other through the ${hook} data plane.` : '\nSome pings went unanswered: see the counters above.');
    return ok ? 0 : 1;
  } finally {
    say('\n6. Tearing down: endpoints, namespaces, bridges and pinned maps.');
    await controller?.close();
    if (droplets) await destroyDroplets(droplets);
    say('   Done; nothing of the demo is left on this machine.');
  }
}

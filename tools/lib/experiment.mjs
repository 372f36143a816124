// Shared by the tools/*-experiment scripts: the bench's basic topology (VPC 3,
// switch on a third host, endpoints 10.0.0.2 on left and 10.0.0.3 on right)
// and one iperf3 run between two endpoints. Needs `npm run build` first.
import { Controller } from '../../dist/controller/controller.js';
import { createDroplets, destroyDroplets } from '../../dist/droplet/index.js';

/** Builds the topology (on XDP droplets: the experiments vary the XDP path), runs fn with it, and always tears it down. */
export async function withSwitchTopology(prefix, fn) {
  const droplets = await createDroplets(['left', 'right', 'switch'], { prefix, mode: 'native' });
  const c = new Controller(droplets);
  try {
    await c.createVpc({ vni: 3, cidr: '10.0.0.0/16', routers: [] });
    await c.createNetwork({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });
    const left = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.2', host: 'left' });
    const right = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.3', host: 'right' });
    await left.ping(right.ip, { count: 1 });
    return await fn({ droplets, left, right });
  } finally {
    await c.close();
    await destroyDroplets(droplets);
  }
}

/** One iperf3 run from client to server (extra args as given); its JSON "end" section. */
export async function iperf(client, server, args) {
  const serving = server.run(['iperf3', '-s', '-1'], { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 400));
  const out = await client.run(['iperf3', '-c', server.ip, '-t', '5', '-J', ...args], { timeoutMs: 30_000 });
  await serving;
  return JSON.parse(out.stdout).end;
}

export const gbits = (end) => `${(end.sum_received.bits_per_second / 1e9).toFixed(2)} Gbit/s (${end.sum_sent.retransmits} retransmits)`;

// `xvpc demo`: for now, load the counter program on a veth between two fresh
// namespaces, ping across it and print how many packets XDP saw.
import { randomBytes } from 'node:crypto';
import { BpfObject, bpfObjectPath, sumPerCpuU64, xdpDetach } from '../dataplane/bpf.js';
import { must, run } from '../util/exec.js';
import { createNamespace, deleteNamespace, inNs, linkIndex } from '../util/netns.js';

export async function runDemo(_args: string[]): Promise<number> {
  const prefix = `xd${randomBytes(2).toString('hex')}`;
  const [a, b] = [`${prefix}-a`, `${prefix}-b`];
  try {
    console.log(`creating namespaces ${a} and ${b}, joined by a veth pair`);
    await createNamespace(a);
    await createNamespace(b);
    await must(['ip', '-n', a, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', b]);
    await must(inNs(a, ['ip', 'addr', 'add', '10.251.0.1/30', 'dev', 'veth0']));
    await must(inNs(b, ['ip', 'addr', 'add', '10.251.0.2/30', 'dev', 'veth1']));
    await must(inNs(a, ['ip', 'link', 'set', 'veth0', 'up']));
    await must(inNs(b, ['ip', 'link', 'set', 'veth1', 'up']));
    const ifindex = await linkIndex(a, 'veth0');
    const obj = BpfObject.load(bpfObjectPath('counter'));
    try {
      obj.program('xdp_count').attachXdp(ifindex, 'native', a);
      console.log(`attached XDP program xdp_count to ${a}/veth0 (native mode)`);
      const ping = await run(inNs(b, ['ping', '-c', '3', '-i', '0.2', '10.251.0.1']));
      console.log(ping.stdout.trim().split('\n').slice(-2).join('\n'));
      const seen = sumPerCpuU64(obj.map('packets').lookup(Buffer.alloc(4))!);
      console.log(`XDP counted ${seen} packets on ${a}/veth0`);
      xdpDetach(ifindex, 'native', a);
      return ping.code === 0 && seen >= 3n ? 0 : 1;
    } finally {
      obj.close();
    }
  } finally {
    await deleteNamespace(a);
    await deleteNamespace(b);
    console.log('removed both namespaces');
  }
}

// The XDP-mode lever, measured: TCP and 64-byte UDP through xvpc (switch on a
// third host) with every program in native mode (the default, with xdp_pass on
// the veths that receive XDP frames), then with every program moved to
// generic (skb) mode and the xdp_pass programs removed, which generic XDP_TX
// and redirects do not need. Run as root after `npm run build`:
//   node tools/generic-xdp-experiment/run.mjs
//
// Measured here (6.18, 2 cores, 9000-byte underlay), three runs:
//   native:  TCP 6.35 / 6.42 / 6.69 Gbit/s, UDP 99 / 101 / 104 kpps
//   generic: TCP 7.82 / 7.56 / 7.82 Gbit/s (26-87 retransmits), UDP 129 / 125 / 124 kpps
// Generic with TSO left on the endpoint's veth0 carried nothing: the GSO
// aggregate reaches XDP whole and its outer lengths overflow.
import { must, run } from '../../dist/util/exec.js';
import { gbits, iperf, withSwitchTopology } from '../lib/experiment.mjs';

const tcp = async (l, r) => `TCP ${gbits(await iperf(l, r, []))}`;
const udp = async (l, r) => {
  const s = (await iperf(l, r, ['-u', '-l', '64', '-b', '0'])).sum;
  return `UDP 64 B ${((s.packets - s.lost_packets) / s.seconds / 1000).toFixed(0)} kpps received`;
};

/** Moves the XDP program of ns/dev from native to generic mode. */
async function toGeneric(ns, dev) {
  const [link] = JSON.parse(await must(['ip', '-n', ns, '-j', 'link', 'show', 'dev', dev]));
  const id = link.xdp?.prog?.id;
  if (!id) return;
  await must(['ip', '-n', ns, 'link', 'set', 'dev', dev, 'xdp', 'off']);
  await must(['ip', 'netns', 'exec', ns, 'bpftool', 'net', 'attach', 'xdpgeneric', 'id', String(id), 'dev', dev]);
}

const prefix = `gx${process.pid.toString(36).slice(-4)}`;
await withSwitchTopology(prefix, async ({ droplets, left, right }) => {
  console.log(`native:  ${await tcp(left, right)}, ${await udp(left, right)}`);
  for (const name of Object.keys(droplets)) {
    const ns = `${prefix}-${name}`;
    await toGeneric(ns, 'eth0');
    const links = JSON.parse(await must(['ip', '-n', ns, '-j', 'link', 'show']));
    for (const l of links.filter((x) => /^ve[0-9a-f]{8}$/.test(x.ifname))) await toGeneric(ns, l.ifname);
    await run(['ip', '-n', `${prefix}-ul`, 'link', 'set', 'dev', `u-${name}`, 'xdp', 'off']);
  }
  for (const ep of [left, right]) await run(['ip', '-n', ep.netns, 'link', 'set', 'dev', 'veth0', 'xdp', 'off']);
  if (!(await left.ping(right.ip, { count: 2 })).ok) throw new Error('no ping in generic mode');
  console.log(`generic: ${await tcp(left, right)}, ${await udp(left, right)}`);
});

// The TC-agent lever, measured: TCP through xvpc (switch on a third host)
// with the XDP agent, then with the client's agent replaced by a TC program
// that encapsulates GSO aggregates (tc_encap.bpf.c). Run as root after
// `npm run build`:  node tools/tc-agent-experiment/run.mjs
// Everything it makes is prefixed and removed at the end.
//
// Measured here (6.18, 2 cores, 9000-byte underlay): XDP agent 6.71 / 7.68
// Gbit/s (1 / 4 streams), TC agent 6.43 / 6.70 with retransmits: no gain.
// The aggregate is segmented again at eth0 (its peer runs XDP, which turns
// TSO off), and every later hop is native XDP on a veth, one copy per segment.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { must } from '../../dist/util/exec.js';
import { gbits, iperf, withSwitchTopology } from '../lib/experiment.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const obj = `${mkdtempSync(`${tmpdir()}/xvpc-tc-`)}/tc_encap.o`;
await must(['clang', '-target', 'bpf', '-O2', '-g', '-Wall', '-Wno-address-of-packed-member', '-I', `${here}../../native/bpf`,
  '-I', `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '-c', `${here}tc_encap.bpf.c`, '-o', obj]);

const prefix = `tc${process.pid.toString(36).slice(-4)}`;
await withSwitchTopology(prefix, async ({ droplets, left, right }) => {
  console.log(`XDP agent (native):  TCP 1 stream  ${gbits(await iperf(left, right, []))}`);
  console.log(`XDP agent (native):  TCP 4 streams ${gbits(await iperf(left, right, ['-P', '4']))}`);

  // Swap the client's agent for the TC program; let veth0 hand over TSO aggregates.
  const ns = `${prefix}-left`;
  const links = JSON.parse(await must(['ip', '-n', ns, '-j', 'link', 'show']));
  const veth = links.find((l) => /^ve[0-9a-f]{8}$/.test(l.ifname)).ifname;
  const eth0 = links.find((l) => l.ifname === 'eth0').ifindex;
  await must(['ip', '-n', ns, 'link', 'set', 'dev', veth, 'xdp', 'off']);
  // eth0's peer runs XDP, so eth0 segments in software; without checksum
  // offload it also finishes the inner checksums there.
  await must(['ip', 'netns', 'exec', ns, 'ethtool', '-K', 'eth0', 'tx', 'off']);
  await must(['ip', 'netns', 'exec', left.netns, 'ethtool', '-K', 'veth0', 'tx', 'on', 'tso', 'on', 'gso', 'on']);
  await must(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', veth, 'clsact']);
  await must(['ip', 'netns', 'exec', ns, 'tc', 'filter', 'add', 'dev', veth, 'ingress', 'bpf', 'da', 'obj', obj, 'sec', 'tc']);
  const map = JSON.parse(await must(['bpftool', '-j', 'map', 'show'])).filter((m) => m.name === 'tc_cfg').pop();
  const ip = (s) => s.split('.').map(Number);
  const mac = (s) => s.split(':').map((x) => parseInt(x, 16));
  const le32 = (n) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
  const cfg = [...ip(droplets.left.ip), ...ip(droplets.switch.ip), ...mac(droplets.left.mac), ...mac(droplets.switch.mac), ...le32(3), ...le32(eth0)];
  await must(['bpftool', 'map', 'update', 'id', String(map.id), 'key', '0', '0', '0', '0', 'value', ...cfg.map(String)]);
  // The TC program does not answer ARP.
  await must(['ip', '-n', left.netns, 'neigh', 'replace', right.ip, 'lladdr', right.mac, 'dev', 'veth0', 'nud', 'permanent']);
  console.log(`TC agent (GSO kept): TCP 1 stream  ${gbits(await iperf(left, right, []))}`);
  console.log(`TC agent (GSO kept): TCP 4 streams ${gbits(await iperf(left, right, ['-P', '4']))}`);
});

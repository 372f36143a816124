#!/usr/bin/env node
// What the capture hook costs while empty, per packet, measured with
// BPF_PROG_TEST_RUN: xvpc.o as built (every exit tail-calls an empty
// xdpcap_hook slot) against the same source built with -DXVPC_NO_XDPCAP
// (no tail call), and the empty-XDP floor (pass.o). Also what an installed
// capture program costs whose filter matches nothing.
//
//   node tools/xdpcap-cost.mjs [--rounds 15] [--repeat 1000000]
//
// Run as root after `npm run build`. Numbers are ns per packet (the kernel's
// mean over `repeat` runs), median over rounds, configurations interleaved.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { BpfObject, bpfObjectPath } from '../dist/dataplane/bpf.js';
import { addon, repoRoot } from '../dist/dataplane/addon.js';
import { encodeHostConfig, u32Key } from '../dist/abi/index.js';
import { XdpCapture } from '../dist/capture/session.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, repeat: { type: 'string', default: '1000000' } } });
const rounds = Number(values.rounds);
const repeat = Number(values.repeat);

const HOST = { ip: '172.30.0.2', mac: '0a:58:ac:1e:00:02', ifindex: 1 };

function ipv4Csum(h) {
  let s = 0;
  for (let i = 0; i < h.length; i += 2) s += h.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Ethernet + IPv4 (+ payload) from 10.0.0.9 to dst. */
function ipv4Frame(dst, proto, payload) {
  const f = Buffer.alloc(14 + 20 + payload.length);
  Buffer.from('0a58ac1e00020a58ac1e00050800', 'hex').copy(f);
  const ip = f.subarray(14, 34);
  ip[0] = 0x45; ip.writeUInt16BE(20 + payload.length, 2); ip[8] = 64; ip[9] = proto;
  Buffer.from([172, 30, 0, 5]).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(ipv4Csum(ip), 10);
  payload.copy(f, 34);
  return f;
}

// Not ours: an ICMP echo to someone else -> XDP_PASS at the first checks.
const notOurs = ipv4Frame('172.30.0.9', 1, Buffer.from('0800f7ff00010001' + '00'.repeat(56), 'hex'));
// Geneve to us with version 1 -> dropped (GENEVE_VERSION) after the header checks; never rewritten.
const udp = Buffer.alloc(8 + 8 + 64);
udp.writeUInt16BE(50000, 0); udp.writeUInt16BE(6081, 2); udp.writeUInt16BE(udp.length, 4);
udp[8] = 0x40; udp.writeUInt16BE(0x6558, 10);
const badGeneve = ipv4Frame(HOST.ip, 17, udp);

function build(variant) {
  const dir = mkdtempSync(`${tmpdir()}/xdpcap-cost-`);
  const out = `${dir}/xvpc.o`;
  execFileSync('clang', ['-target', 'bpf', '-mcpu=v3', '-O2', '-g', '-Wall', '-Werror', '-I.', `-I/usr/include/${execFileSync('uname', ['-m']).toString().trim()}-linux-gnu`,
    ...(variant === 'nohook' ? ['-DXVPC_NO_XDPCAP'] : []), '-c', 'xvpc.bpf.c', '-o', out], { cwd: `${repoRoot}native/bpf` });
  return { path: out, dir };
}

const pinRoots = [];
function load(path, tag) {
  const pinRoot = `/sys/fs/bpf/xvpc/cost${process.pid}-${tag}`;
  pinRoots.push(pinRoot);
  mkdirSync(pinRoot, { recursive: true });
  const obj = BpfObject.load(path, { pinRoot });
  obj.map('host_cfg').update(u32Key(0), encodeHostConfig(HOST));
  return obj;
}

const built = build('hook');
const plain = build('nohook');
const objects = [];
let capture;
const samples = [];
let configs = [];
try {
  const hooked = load(built.path, 'hook');
  objects.push(hooked);
  const nohook = load(plain.path, 'nohook');
  objects.push(nohook);
  const hookedCap = load(built.path, 'cap');
  objects.push(hookedCap);
  const pass = BpfObject.load(bpfObjectPath('pass'));
  objects.push(pass);
  // A live capture on every slot of the third copy, with a filter that matches nothing.
  capture = new XdpCapture({ hookPath: `${pinRoots[2]}/xdpcap_hook`, filter: 'tcp port 9', name: 'cost' });

  configs = [
    ['empty XDP program (floor)', pass.program('xdp_pass'), notOurs, 2],
    ['transit, not ours -> PASS: no hook', nohook.program('xdp_transit'), notOurs, 2],
    ['transit, not ours -> PASS: empty hook', hooked.program('xdp_transit'), notOurs, 2],
    ['transit, not ours -> PASS: capture, no match', hookedCap.program('xdp_transit'), notOurs, 2],
    ['transit, bad Geneve -> DROP: no hook', nohook.program('xdp_transit'), badGeneve, 1],
    ['transit, bad Geneve -> DROP: empty hook', hooked.program('xdp_transit'), badGeneve, 1],
    ['transit, bad Geneve -> DROP: capture, no match', hookedCap.program('xdp_transit'), badGeneve, 1],
    ['agent, no endpoint -> PASS: no hook', nohook.program('xdp_agent'), notOurs, 2],
    ['agent, no endpoint -> PASS: empty hook', hooked.program('xdp_agent'), notOurs, 2],
  ];
  configs.forEach(() => samples.push([]));
  for (let r = 0; r < rounds; r++) {
    configs.forEach(([name, prog, pkt, want], i) => {
      const res = prog.testRun(pkt, { repeat });
      if (res.retval !== want) throw new Error(`${name}: verdict ${res.retval}, expected ${want}`);
      samples[i].push(res.durationNs);
    });
  }
} finally {
  await capture?.stop();
  for (const o of objects) o.close();
  for (const p of pinRoots) rmSync(p, { recursive: true, force: true });
  rmSync(built.dir, { recursive: true, force: true });
  rmSync(plain.dir, { recursive: true, force: true });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const stats = samples.map((xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }));
console.log(`BPF_PROG_TEST_RUN, ${repeat} runs x ${rounds} rounds, ns per packet (median [min..max])`);
configs.forEach(([name], i) => console.log(`  ${name.padEnd(48)} ${String(stats[i].median).padStart(4)}  [${stats[i].min}..${stats[i].max}]`));
const d = (a, b) => stats[a].median - stats[b].median;
console.log(`empty hook minus no hook: transit PASS ${d(2, 1)} ns, transit DROP ${d(5, 4)} ns, agent PASS ${d(8, 7)} ns`);

// Packet capture: the xdpcap hook at every exit of the XDP programs, the
// tcpdump filter translated to eBPF (checked against libpcap's own
// interpreter), captures on droplets during a ping, libpcap on ordinary
// interfaces, files the CLI writes, and teardown with captures left open.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon, repoRoot } from '../src/dataplane/addon.js';
import { HostDataplane } from '../src/dataplane/host.js';
import { compileFilter, decodeCbpf } from '../src/capture/cbpf.js';
import { CaptureMaps, XDP_ACTIONS, captureProgram, loadCaptureProgram, parseSample } from '../src/capture/program.js';
import { type CapturedPacket, PcapCapture, XdpCapture, hookPath } from '../src/capture/session.js';
import type { Controller } from '../src/controller/controller.js';
import type { Endpoint } from '../src/controller/endpoint.js';
import type { Droplet } from '../src/droplet/index.js';
import { listNamespaces } from '../src/util/netns.js';
import { run } from '../src/util/exec.js';
import { delta, destroyDroplets, expectPing, makeDroplets, snapshot, switchScenario, type SwitchScenario } from './func/lib.js';
import { uniquePrefix } from './lib/names.js';

const CLI = `${repoRoot}dist/cli/main.js`;

// ---- crafted frames (only what these tests need) ------------------------------------

const mac = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const ip4 = (a: string) => Buffer.from(a.split('.').map(Number));

function csum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function eth(dst: string, src: string, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  mac(dst).copy(h, 0);
  mac(src).copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: { ttl?: number; options?: Buffer; frag?: number } = {}): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  h[0] = 0x40 | ((20 + opts.length) / 4);
  h.writeUInt16BE(h.length + payload.length, 2);
  h.writeUInt16BE(o.frag ?? 0, 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(csum(h), 10);
  return Buffer.concat([h, payload]);
}

const icmpEcho = (type: 0 | 8, id = 7, seq = 1) => {
  const b = Buffer.alloc(64);
  b[0] = type;
  b.writeUInt16BE(id, 4);
  b.writeUInt16BE(seq, 6);
  b.writeUInt16BE(csum(b), 2);
  return b;
};
const udp = (sport: number, dport: number, payload: Buffer) => {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
};
const tcp = (sport: number, dport: number, flags: number) => {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(1000, 4);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return h;
};
function geneve(vni: number, inner: Buffer, withRts = true): Buffer {
  const opt = Buffer.alloc(withRts ? 16 : 0);
  if (withRts) {
    opt.writeUInt16BE(0x0111, 0);
    opt[2] = 0x48;
    opt[3] = 3;
    ip4('172.30.0.2').copy(opt, 4);
    mac('0a:58:ac:1e:00:02').copy(opt, 8);
  }
  const h = Buffer.alloc(8);
  h[0] = opt.length / 4;
  h.writeUInt16BE(0x6558, 2);
  h.writeUIntBE(vni, 4, 3);
  return Buffer.concat([h, opt, inner]);
}

const EP2 = '0e:03:0a:00:00:02', EP3 = '0e:03:0a:00:00:03';
const H2 = '0a:58:ac:1e:00:02', H4 = '0a:58:ac:1e:00:04';
const innerIcmp = eth(EP3, EP2, 0x0800, ipv4('10.0.0.2', '10.0.0.3', 1, icmpEcho(8)));

/** Frames of many kinds, for the filter translation. */
const FRAMES: Record<string, Buffer> = {
  icmp: innerIcmp,
  tcpSyn: eth(EP3, EP2, 0x0800, ipv4('10.0.0.2', '10.0.0.3', 6, tcp(40000, 80, 0x02))),
  tcpAck443: eth(EP3, EP2, 0x0800, ipv4('10.0.1.5', '10.0.0.3', 6, tcp(50000, 443, 0x10))),
  udpDns: eth(EP3, EP2, 0x0800, ipv4('10.0.0.2', '10.0.0.3', 17, udp(5353, 53, Buffer.from('12345678', 'hex')))),
  arp: eth('ff:ff:ff:ff:ff:ff', EP2, 0x0806, Buffer.from(`0001080006040001${EP2.replaceAll(':', '')}0a000002000000000000${'0a000003'}`, 'hex')),
  geneveIcmp: eth(H4, H2, 0x0800, ipv4('172.30.0.2', '172.30.0.4', 17, udp(60000, 6081, geneve(3, innerIcmp)))),
  geneveTcp7: eth(H4, H2, 0x0800, ipv4('172.30.0.2', '172.30.0.4', 17,
    udp(60001, 6081, geneve(7, eth(EP3, EP2, 0x0800, ipv4('10.0.0.2', '10.0.0.3', 6, tcp(40001, 443, 0x02))), false)))),
  ipOptions: eth(EP3, EP2, 0x0800, ipv4('10.0.0.2', '10.0.0.3', 6, tcp(40002, 80, 0x12), { options: Buffer.from('01010100', 'hex') })),
  fragment: eth(EP3, EP2, 0x0800, ipv4('10.0.0.2', '10.0.0.3', 17, Buffer.alloc(32, 1), { frag: 0x0010 })),
  vlanIcmp: Buffer.concat([mac(EP3), mac(EP2), Buffer.from('8100000a0800', 'hex'), ipv4('10.0.0.2', '10.0.0.3', 1, icmpEcho(0))]),
  ipv6: eth(EP3, EP2, 0x86dd, Buffer.concat([Buffer.from('6000000000083a40', 'hex'), Buffer.alloc(32), Buffer.alloc(8)])),
  cutIpv4: eth(EP3, EP2, 0x0800, Buffer.from('4500', 'hex')),
  bare: eth(EP3, EP2, 0x0800, Buffer.alloc(0)),
  big: eth(EP3, EP2, 0x0800, ipv4('10.0.0.2', '10.0.0.3', 17, udp(1000, 2000, Buffer.alloc(1400, 0xab)))),
};

const EXPRESSIONS = [
  'icmp', 'tcp port 80', 'udp', 'arp', 'geneve', 'geneve 3', 'geneve 7', 'geneve and icmp', 'geneve 7 and tcp port 443',
  'host 10.0.0.3', 'src net 10.0.0.0/24 and not tcp', 'ip[8] > 32', 'tcp[tcpflags] & tcp-syn != 0', 'len > 100',
  'ether host 0e:03:0a:00:00:02', 'vlan and icmp', 'ip6', 'ip[2:2] - ((ip[0] & 0xf) << 2) > 40', 'icmp[icmptype] == icmp-echo',
  'portrange 50-100', 'greater 200', 'ip[6:2] & 0x1fff != 0', 'udp[8:4] = 0x12345678', 'tcp and (tcp[12] >> 4) * 4 == 20',
  'ip[0] & 0xf > 5', 'ip[2:2] / 4 > 10 and ip[2:2] % 7 != 0', 'not ip and not arp', 'ether broadcast', 'tcp port 443 or udp port 53',
  'geneve and tcp[tcpflags] & tcp-syn != 0',
];

function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; }

// ---- no droplets: the hook and the filters, test-run ---------------------------------

describe('capture hook and filters, test-run', () => {
  const pinRoot = `/sys/fs/bpf/xvpc/${uniquePrefix('cap')}`;
  let dp: HostDataplane;

  beforeAll(() => {
    dp = HostDataplane.open(pinRoot);
    dp.setHostConfig({ ip: '172.30.0.4', mac: H4, ifindex: 1 });
  });
  afterAll(() => {
    dp?.close();
    rmSync(pinRoot, { recursive: true, force: true });
  });

  it('the programs exit through an empty xdpcap_hook: one PROG_ARRAY slot per XDP action, pinned', () => {
    const fd = addon.objGet(hookPath(pinRoot));
    try {
      expect(addon.mapInfo(fd)).toMatchObject({ name: 'xdpcap_hook', type: 3 /* PROG_ARRAY */, maxEntries: XDP_ACTIONS.length });
      for (let slot = 0; slot < XDP_ACTIONS.length; slot++) expect(addon.mapLookup(fd, u32(slot))).toBeNull();
      // Verdicts with the hook empty: not ours passes, a bad Geneve header is dropped.
      expect(dp.transitProgram.testRun(FRAMES.icmp).retval).toBe(2);
      const bad = Buffer.from(FRAMES.geneveIcmp);
      bad[14 + 20 + 8] |= 0x40; // Geneve version 1
      expect(dp.transitProgram.testRun(bad).retval).toBe(1);
    } finally {
      addon.closeFd(fd);
    }
  });

  it('a capture program sees the final packet with its verdict and returns that verdict', async () => {
    const cap = new XdpCapture({ hookPath: hookPath(pinRoot), actions: ['pass', 'drop'], name: 'unit' });
    try {
      const pass = dp.transitProgram.testRun(FRAMES.icmp);
      expect(pass.retval).toBe(2);
      expect(pass.data.equals(FRAMES.icmp)).toBe(true);
      const bad = Buffer.from(FRAMES.geneveIcmp);
      bad[14 + 20 + 8] |= 0x40;
      expect(dp.transitProgram.testRun(bad).retval).toBe(1);
      expect(dp.agentProgram.testRun(FRAMES.tcpSyn).retval).toBe(2); // no agent_meta: passes
      const got = await cap.collect({ count: 3, timeoutMs: 2000 });
      expect(got.map((p) => p.action)).toEqual(['pass', 'drop', 'pass']);
      expect(got[0].data.equals(FRAMES.icmp)).toBe(true);
      expect(got[0]).toMatchObject({ length: FRAMES.icmp.length, interfaceId: 0, ipv4: { src: '10.0.0.2', dst: '10.0.0.3' }, icmp: { type: 8 } });
      expect(got[1]).toMatchObject({ interfaceId: 1, geneve: { vni: 3 }, inner: { ipv4: { src: '10.0.0.2', dst: '10.0.0.3' }, icmp: { type: 8 } } });
      expect(got[1].geneve?.rts).toEqual({ hostIp: '172.30.0.2', hostMac: H2 });
      expect(got[2].tcp).toMatchObject({ srcPort: 40000, dstPort: 80, flags: 'S' });
      const ts = got[0].timestampNs;
      expect(Math.abs(Number(ts / 1_000_000n) - Date.now())).toBeLessThan(10_000);

      // The slots are taken: a second capture is refused while this one runs.
      expect(() => new XdpCapture({ hookPath: hookPath(pinRoot), actions: ['drop'] })).toThrow(/slot .* is taken/);
      // A restarted transitd reloads the programs: the pinned hook (with the capture in it) is reused.
      const again = HostDataplane.open(pinRoot);
      try {
        expect(again.transitProgram.testRun(FRAMES.icmp).retval).toBe(2);
        expect((await cap.collect({ count: 1, timeoutMs: 2000 })).map((p) => p.action)).toEqual(['pass']);
      } finally {
        again.close();
      }
    } finally {
      await cap.stop();
    }
    const fd = addon.objGet(hookPath(pinRoot));
    try {
      for (let slot = 0; slot < XDP_ACTIONS.length; slot++) expect(addon.mapLookup(fd, u32(slot))).toBeNull();
    } finally {
      addon.closeFd(fd);
    }
    expect(dp.transitProgram.testRun(FRAMES.icmp).retval).toBe(2);
  });

  it('the TC build has its own hook, tccap_hook; its capture programs return TC verdicts', async () => {
    const tcRoot = `${pinRoot}-tc`;
    const tc = HostDataplane.open(tcRoot, {}, { hook: 'tc' });
    try {
      tc.setHostConfig({ ip: '172.30.0.4', mac: H4, ifindex: 1 });
      expect(hookPath(tcRoot)).toBe(`${tcRoot}/tccap_hook`);
      const cap = new XdpCapture({ hookPath: hookPath(tcRoot), actions: ['pass', 'drop'], name: 'unit' });
      expect(cap.interfaces.map((i) => i.name)).toEqual(['unit:tc:pass', 'unit:tc:drop']);
      try {
        const pass = tc.transitProgram.testRun(FRAMES.icmp, { ingressIfindex: 1 });
        expect(pass.retval).toBe(0); // TC_ACT_OK, returned by the capture program in the pass slot
        const bad = Buffer.from(FRAMES.geneveIcmp);
        bad[14 + 20 + 8] |= 0x40;
        expect(tc.transitProgram.testRun(bad, { ingressIfindex: 1 }).retval).toBe(2); // TC_ACT_SHOT
        const got = await cap.collect({ count: 2, timeoutMs: 2000 });
        expect(got.map((p) => p.action)).toEqual(['pass', 'drop']);
        expect(got[0].data.equals(FRAMES.icmp)).toBe(true);
        expect(got[0]).toMatchObject({ length: FRAMES.icmp.length, ifindex: 1, icmp: { type: 8 } });
        expect(got[1]).toMatchObject({ interfaceId: 1, geneve: { vni: 3 }, inner: { icmp: { type: 8 } } });
      } finally {
        await cap.stop();
      }
      // Stopped: the slots are empty again and the verdicts unchanged.
      expect(tc.transitProgram.testRun(FRAMES.icmp, { ingressIfindex: 1 }).retval).toBe(0);
    } finally {
      tc.close();
      rmSync(tcRoot, { recursive: true, force: true });
    }
  });

  it('the leftovers of a capture whose process died are taken over', async () => {
    const maps = new CaptureMaps(256, 4096);
    const fd = loadCaptureProgram(captureProgram({ action: 3, snaplen: 256, ringbufFd: maps.ringbufFd, scratchFd: maps.scratchFd }), 'xcap_4194303');
    const hook = addon.objGet(hookPath(pinRoot));
    try {
      addon.mapUpdate(hook, u32(3), u32(fd));
      const cap = new XdpCapture({ hookPath: hookPath(pinRoot), actions: ['tx'] });
      // The slot now holds this process's capture program, not the dead one's.
      const id = addon.mapLookup(hook, u32(3))?.readUInt32LE(0);
      expect(id).toBeTypeOf('number');
      expect(id).not.toBe(addon.progId(fd));
      expect(addon.progInfoById(id!)?.name).toBe(`xcap_${process.pid}`);
      await cap.stop();
      expect(addon.mapLookup(hook, u32(3))).toBeNull();
    } finally {
      addon.closeFd(hook);
      addon.closeFd(fd);
      maps.close();
    }
  });

  it('tcpdump filters translated to eBPF agree with libpcap on every frame', () => {
    const mismatches: string[] = [];
    let matches = 0;
    for (const expr of EXPRESSIONS) {
      const cbpf = compileFilter(expr, 4096);
      const maps = new CaptureMaps(4096, 1 << 16);
      const ring = new addon.RingBuffer(maps.ringbufFd);
      const prog = loadCaptureProgram(captureProgram({
        action: 2, snaplen: 4096, ringbufFd: maps.ringbufFd, scratchFd: maps.scratchFd, filter: decodeCbpf(cbpf),
      }), 'xcap_test');
      try {
        for (const [name, frame] of Object.entries(FRAMES)) {
          const want = addon.pcapFilter(cbpf, frame) !== 0;
          const r = addon.progTestRun(prog, frame);
          expect(r.retval).toBe(2);
          const samples = ring.consume();
          if ((samples.length === 1) !== want) mismatches.push(`'${expr}' on ${name}: libpcap ${want}, eBPF ${samples.length}`);
          if (samples.length === 1) {
            matches++;
            const s = parseSample(samples[0]);
            expect(s.data.equals(frame), `${expr} on ${name}: bytes`).toBe(true);
            expect(s.length).toBe(frame.length);
          }
        }
      } finally {
        addon.closeFd(prog);
        ring.close();
        maps.close();
      }
    }
    expect(mismatches).toEqual([]);
    expect(matches).toBeGreaterThan(EXPRESSIONS.length); // the set exercises matches and misses
  });

  it('snaplen cuts the bytes kept, not the length reported', async () => {
    const cap = new XdpCapture({ hookPath: hookPath(pinRoot), actions: ['pass'], snaplen: 100 });
    try {
      dp.transitProgram.testRun(FRAMES.big);
      const [p] = await cap.collect({ count: 1 });
      expect(p.data.length).toBe(100);
      expect(p.length).toBe(FRAMES.big.length);
    } finally {
      await cap.stop();
    }
  });

  it('a bad filter, action or snaplen is refused with INVALID_ARGUMENT', () => {
    expect(() => new XdpCapture({ hookPath: hookPath(pinRoot), filter: 'tcp port' })).toThrow(/filter 'tcp port': .*syntax error/);
    expect(() => new XdpCapture({ hookPath: hookPath(pinRoot), actions: ['nope' as never] })).toThrow(/actions: 'nope'/);
    expect(() => new XdpCapture({ hookPath: hookPath(pinRoot), snaplen: 10 })).toThrow(/snaplen/);
    expect(() => new XdpCapture({ hookPath: '/sys/fs/bpf/xvpc/none/xdpcap_hook' })).toThrow(/no capture hook/);
  });
});

// ---- droplets: a ping, seen at each action ---------------------------------------------

/** Runs the xvpc CLI; resolves once it exits. */
function cli(args: string[], timeoutMs = 30_000) {
  return run([process.execPath, CLI, ...args], { timeoutMs });
}

/** Starts a long-running CLI capture; resolves once it says it is listening. */
async function startCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const out: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('listening on')) resolve();
    });
    void exited.then((code) => reject(new Error(`capture exited ${code}: ${stderr}`)));
  });
  return { child, exited, stdout: () => Buffer.concat(out), stderr: () => stderr };
}

// On both data paths: the TC build has its own hook (tccap_hook) with the same slots.
describe.each(['native', 'tc'] as const)('captures on droplets during a ping (%s)', (mode) => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let left: Endpoint, right: Endpoint;
  let prefix: string;
  const tmp = mkdtempSync(`${tmpdir()}/xvpc-capture-`);

  let scenario: SwitchScenario | undefined;

  beforeAll(async () => {
    scenario = await switchScenario(mode === 'tc' ? 'ct' : 'cp', { mode, directPath: false }); // the switch sees every packet
    ({ droplets, c, left, right } = scenario);
    prefix = droplets.left.prefix;
    await expectPing(left, right.ip, 2); // ARP settled: the captures below see ICMP only
  });

  afterAll(async () => {
    await scenario?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const requests = (ps: CapturedPacket[]) => ps.filter((p) => (p.inner ?? p).icmp?.type === 8);
  const replies = (ps: CapturedPacket[]) => ps.filter((p) => (p.inner ?? p).icmp?.type === 0);

  it('TX on the switch, REDIRECT on the hosts, with the right outer Geneve and inner headers', async () => {
    const { left: L, right: R, switch: S } = droplets;
    const sw = S.capture({ actions: ['tx'], filter: 'geneve and icmp' });
    const onLeft = L.capture({ actions: ['redirect'], filter: 'icmp or (geneve and icmp)' });
    const onRight = R.capture({ actions: ['redirect', 'tx', 'pass', 'drop'], filter: 'icmp or (geneve and icmp)' });
    try {
      await expectPing(left, right.ip, 3);
    } finally {
      await Promise.all([sw.stop(), onLeft.stop(), onRight.stop()]);
    }
    const [s, l, r] = await Promise.all([sw.collect(), onLeft.collect(), onRight.collect()]);

    // The switch sends every echo on to the destination's host: 3 requests to right, 3 replies to left.
    expect(s).toHaveLength(6);
    for (const p of s) {
      expect(p.action).toBe('tx');
      expect(p.eth?.src).toBe(S.mac);
      expect(p.ipv4).toMatchObject({ protocol: 17 }); // its source: the sending host's (kept by the switch)
      expect(p.udp?.dstPort).toBe(6081);
      expect(p.geneve).toMatchObject({ version: 0, vni: 3, protocol: 0x6558 });
    }
    for (const p of requests(s)) {
      expect(p).toMatchObject({ eth: { dst: R.mac }, ipv4: { src: L.ip, dst: R.ip } });
      expect(p.inner).toMatchObject({ eth: { src: left.mac, dst: right.mac }, ipv4: { src: left.ip, dst: right.ip }, icmp: { type: 8 } });
    }
    for (const p of replies(s)) {
      expect(p).toMatchObject({ eth: { dst: L.mac }, ipv4: { src: R.ip, dst: L.ip } });
      expect(p.inner).toMatchObject({ ipv4: { src: right.ip, dst: left.ip }, icmp: { type: 0 } });
    }
    expect(requests(s)).toHaveLength(3);
    expect(replies(s)).toHaveLength(3);
    expect(requests(s).map((p) => p.inner?.icmp?.seq)).toEqual([1, 2, 3]);

    // Left: its agent redirects each request, encapsulated towards the switch,
    // and transit redirects each reply, decapsulated, into the endpoint's veth.
    expect(l).toHaveLength(6);
    for (const p of l) expect(p.action).toBe('redirect');
    for (const p of requests(l)) {
      expect(p).toMatchObject({ eth: { src: L.mac, dst: S.mac }, ipv4: { src: L.ip, dst: S.ip }, udp: { dstPort: 6081 }, geneve: { vni: 3 } });
      expect(p.geneve?.rts).toEqual({ hostIp: L.ip, hostMac: L.mac });
      expect(p.inner).toMatchObject({ ipv4: { src: left.ip, dst: right.ip }, icmp: { type: 8 } });
    }
    for (const p of replies(l)) {
      expect(p.geneve).toBeUndefined();
      expect(p).toMatchObject({ eth: { dst: left.mac }, ipv4: { src: right.ip, dst: left.ip }, icmp: { type: 0 } });
    }
    expect(requests(l)).toHaveLength(3);
    expect(new Set(requests(l).map((p) => p.ifindex)).size).toBe(1);
    expect(requests(l)[0].ifindex).not.toBe(replies(l)[0].ifindex); // the veth in, eth0 in

    // Right, every action but ABORTED: decapsulated requests and encapsulated replies, all redirected.
    expect(r).toHaveLength(6);
    expect(r.every((p) => p.action === 'redirect')).toBe(true);
    expect(requests(r).every((p) => !p.geneve && p.ipv4?.dst === right.ip)).toBe(true);
    expect(replies(r).every((p) => p.geneve?.vni === 3 && p.ipv4?.dst === S.ip && p.inner?.ipv4?.dst === left.ip)).toBe(true);
    // Timestamps are wall clock and in order.
    for (const list of [s, l, r]) {
      for (let i = 1; i < list.length; i++) expect(list[i].timestampNs >= list[i - 1].timestampNs).toBe(true);
    }
  });

  it('a filter that matches nothing captures nothing', async () => {
    const S = droplets.switch;
    const cap = S.capture({ filter: 'tcp port 9' });
    const before = await snapshot([S]);
    try {
      await expectPing(left, right.ip, 3);
    } finally {
      await cap.stop();
    }
    const after = await snapshot([S]);
    expect(delta(before[0], after[0], 'switch_fwd')).toBeGreaterThanOrEqual(6);
    expect(await cap.collect({ timeoutMs: 200 })).toEqual([]);
    expect(cap.stats.captured).toBe(0);
  });

  it('libpcap on an endpoint veth0 and on the underlay bridge', async () => {
    const veth = droplets.left.capture({ iface: 'veth0', netns: left.netns, filter: 'icmp' });
    const bridge = new PcapCapture({ iface: 'br0', netnsPath: `/run/netns/${prefix}-ul`, filter: 'udp port 6081 and geneve 3' });
    try {
      await expectPing(left, right.ip, 3);
    } finally {
      await Promise.all([veth.stop(), bridge.stop()]);
    }
    const v = await veth.collect();
    expect(v).toHaveLength(6);
    expect(v.every((p) => p.action === undefined && !p.geneve)).toBe(true);
    expect(requests(v).every((p) => p.eth?.src === left.mac && p.ipv4?.dst === right.ip)).toBe(true);
    expect(replies(v)).toHaveLength(3);
    // Each echo crosses the bridge twice (host -> switch -> host), each way.
    const b = await bridge.collect();
    expect(b).toHaveLength(12);
    expect(b.every((p) => p.geneve?.vni === 3 && p.inner?.icmp !== undefined)).toBe(true);
    expect(() => droplets.left.capture({ iface: 'nosuch0' })).toThrow(/nosuch0/);
  });

  it('the CLI writes pcapng and pcap files that tcpdump -r reads, and pipes into tcpdump with -w -', async () => {
    const ng = `${tmp}/switch.pcapng`;
    const classic = `${tmp}/left.pcap`;
    const a = await startCli(['capture', '--prefix', prefix, '--host', 'switch', '--actions', 'tx', '-c', '6', '-w', ng, 'geneve', 'and', 'icmp']);
    const b = await startCli(['capture', '--prefix', prefix, '--host', 'left', '-i', 'veth0', '--endpoint', `3/${left.ip}`, '-c', '6', '-w', classic, 'icmp']);
    const piped = await startCli(['capture', '--prefix', prefix, '--host', 'right', '--actions', 'redirect', '-c', '6', '-w', '-', 'icmp', 'or', 'geneve']);
    await expectPing(left, right.ip, 3);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect(await piped.exited).toBe(0);
    expect(a.stderr()).toMatch(/6 packets captured/);

    const readNg = await run(['tcpdump', '-nn', '-r', ng]);
    expect(readNg.code).toBe(0);
    const ngLines = readNg.stdout.trim().split('\n');
    expect(ngLines).toHaveLength(6);
    expect(ngLines.every((x) => /Geneve.*vni 0x3.*ICMP echo (request|reply)/.test(x))).toBe(true);
    expect(readFileSync(ng).readUInt32LE(0)).toBe(0x0a0d0d0a);

    const readPcap = await run(['tcpdump', '-nn', '-r', classic]);
    expect(readPcap.code).toBe(0);
    expect(readPcap.stdout.trim().split('\n').filter((x) => /10\.0\.0\.2 > 10\.0\.0\.3: ICMP echo request/.test(x))).toHaveLength(3);
    expect(readFileSync(classic).readUInt32LE(0)).toBe(0xa1b23c4d);

    // What went to stdout is a capture file tcpdump reads from its stdin.
    const fromStdin = await new Promise<string>((resolve, reject) => {
      const td = spawn('tcpdump', ['-nn', '-r', '-'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let text = '';
      td.stdout.on('data', (d: Buffer) => { text += d.toString(); });
      td.on('error', reject);
      td.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`tcpdump exited ${code}`))));
      td.stdin.end(piped.stdout());
    });
    expect(fromStdin.trim().split('\n')).toHaveLength(6);
    expect(fromStdin).toMatch(/10\.0\.0\.2 > 10\.0\.0\.3: ICMP echo request/);
    expect(fromStdin).toMatch(/Geneve.*10\.0\.0\.3 > 10\.0\.0\.2: ICMP echo reply/);
  });

  it('the CLI prints one line per packet, and refuses a busy hook', async () => {
    const text = await startCli(['capture', '--prefix', prefix, '--host', 'switch', '--actions', 'tx,redirect', '-c', '2', 'geneve', 'and', 'icmp']);
    const busy = await cli(['capture', '--prefix', prefix, '--host', 'switch', '--actions', 'tx', '-c', '1']);
    expect(busy.code).toBe(1);
    expect(busy.stderr.trim().split('\n').at(-1)).toMatch(/tx slot .* is taken/);
    await expectPing(left, right.ip, 1);
    expect(await text.exited).toBe(0);
    const lines = text.stdout().toString().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ TX +.* Geneve vni 3 \| 10\.0\.0\.2 > 10\.0\.0\.3: ICMP echo request/);
  });

  it('the CLI names a drop\'s reason, in its text and in the pcapng comment', async () => {
    // A group with no rules on `right`: left's pings are dropped at right's host (ingress).
    await c.createSecurityGroup({ vni: 3, name: 'capdeny', ingress: [], egress: [] });
    await c.attachSecurityGroup({ vni: 3, ip: right.ip, name: 'capdeny' });
    try {
      const text = await startCli(['capture', '--prefix', prefix, '--host', 'right', '--actions', 'drop', '-c', '1', 'geneve', 'and', 'icmp']);
      expect((await left.ping(right.ip, { count: 2 })).ok).toBe(false);
      expect(await text.exited).toBe(0);
      expect(text.stdout().toString()).toMatch(/ DROP +\[sg_ingress\] .* Geneve vni 3 \| 10\.0\.0\.2 > 10\.0\.0\.3: ICMP echo request/);
      const ngPath = `${tmp}/drop.pcapng`;
      const ng = await startCli(['capture', '--prefix', prefix, '--host', 'right', '--actions', 'drop', '-c', '1', '-w', ngPath, 'geneve', 'and', 'icmp']);
      expect((await left.ping(right.ip, { count: 2 })).ok).toBe(false);
      expect(await ng.exited).toBe(0);
      // tcpdump does not print pcapng comments: the comment's text sits in the file as it is.
      expect(readFileSync(ngPath).toString('latin1')).toContain('action=DROP reason=sg_ingress ifindex=');
    } finally {
      await c.detachSecurityGroup({ vni: 3, ip: right.ip, name: 'capdeny' });
      await c.deleteSecurityGroup({ vni: 3, name: 'capdeny' });
    }
    await expectPing(left, right.ip, 1);
  });

  it('a capture left running does not block teardown', async () => {
    // No endpoint pings during teardown: the only answer the waiting reader can get is the end.
    const hook = droplets.switch.capture({ filter: 'geneve and icmp' });
    const veth = droplets.right.capture({ iface: 'veth0', netns: right.netns });
    const bridge = new PcapCapture({ iface: 'br0', netnsPath: `/run/netns/${prefix}-ul` });
    const cliCapture = await startCli(['capture', '--prefix', prefix, '--host', 'left']);
    const pending = hook.next(); // someone is waiting for a packet
    await c.close();
    await destroyDroplets(droplets);
    // Teardown finished while the hook capture and the CLI's still ran: it neither
    // waited for them nor stopped them. (Captures on interfaces it removed may end on their own.)
    expect(hook.stopped, 'the hook capture still runs').toBe(false);
    expect(cliCapture.child.exitCode, 'the CLI capture still runs').toBeNull();
    expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    expect(existsSync(droplets.switch.pinRoot)).toBe(false);
    expect(existsSync(`/run/xvpc/${prefix}`)).toBe(false);
    // The captures still stop cleanly afterwards, and the waiting reader is answered.
    await Promise.all([hook.stop(), veth.stop(), bridge.stop()]);
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(await hook.next(), 'the iterator stays ended').toEqual({ value: undefined, done: true });
    cliCapture.child.kill('SIGINT');
    expect(await cliCapture.exited).toBe(0);
  });
});

describe('captures on docker droplets', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let left: Endpoint, right: Endpoint;

  let scenario: SwitchScenario | undefined;

  beforeAll(async () => {
    scenario = await switchScenario('cd', { backend: 'docker', vni: 5, net: '10.5', directPath: false }); // the switch sees every packet
    ({ droplets, c, left, right } = scenario);
    await expectPing(left, right.ip, 2);
  });

  afterAll(async () => {
    await scenario?.close();
  });

  it('the hook pins and the endpoint namespaces are reached from this machine', async () => {
    const { left: L, switch: S } = droplets;
    const sw = S.capture({ actions: ['tx'], filter: 'geneve 5 and icmp' });
    const veth = L.capture({ iface: 'veth0', netns: left.netns, filter: 'icmp' });
    const cli = await startCli(['capture', '--prefix', L.prefix, '--host', 'left', '-i', 'veth0', '--endpoint', `5/${left.ip}`, '-c', '2', 'icmp']);
    try {
      await expectPing(left, right.ip, 2);
    } finally {
      await Promise.all([sw.stop(), veth.stop()]);
    }
    const s = await sw.collect();
    expect(s).toHaveLength(4);
    expect(s.every((p) => p.action === 'tx' && [L.ip, droplets.right.ip].includes(p.ipv4?.src ?? '') && p.geneve?.vni === 5)).toBe(true);
    expect(s.map((p) => p.inner?.icmp?.type).sort()).toEqual([0, 0, 8, 8]);
    const v = await veth.collect();
    expect(v).toHaveLength(4);
    expect(v.every((p) => !p.geneve && p.icmp)).toBe(true);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout().toString().trim().split('\n')).toHaveLength(2);
  });
});

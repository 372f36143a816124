// Candidate designs where all endpoints of a droplet share one namespace
// (docs/emulation.md "Memory"), as ip-batch lines so endpoint-memory.ts can
// trace what each costs and prove that it keeps endpoint-to-endpoint traffic
// on the wire: out through the sender's veth, in through the receiver's.
import { spawn, spawnSync } from 'node:child_process';
import { addon } from '../dist/dataplane/addon.js';

export type SharedDesign = 'veth' | 'rules' | 'vrf' | 'macvlan' | 'macvlan-rules' | 'ipvlan';

export const SHARED_DESIGNS: { design: SharedDesign; name: string }[] = [
  { design: 'veth', name: 'shared namespace: a veth pair per endpoint, inner end in it (/32, up, features off), no routing of its own' },
  { design: 'rules', name: '(b) + a source rule (from IP iif lo lookup N) and table N (network route, default via the gateway)' },
  { design: 'vrf', name: '(a) + a VRF device per endpoint (table N: network route, default via the gateway), inner end enslaved' },
  { design: 'macvlan', name: '(c) a macvlan slave (vepa) per endpoint instead of the veth pair, no routing of its own' },
  { design: 'macvlan-rules', name: '(c) with (b): a macvlan slave, its source rule and table' },
  { design: 'ipvlan', name: '(c) an ipvlan slave (l2) per endpoint instead of the veth pair, no routing of its own' },
];

/** Runs ip-batch lines in a namespace; the caller records the process (its allocations are traced). */
export type Batch = (lines: string[], opts: { netns: string }) => void;

export interface SharedNames { hostNs: string; sharedNs: string }

const NETWORK = '10.253.0.0/16';
const GATEWAY = '10.253.0.1';
const LOWER = 'lowm';
// .0.1 is the gateway; the /16 leaves room for 65,000 endpoints.
export const endpointIp = (i: number): string => `10.253.${(i + 2) >> 8}.${(i + 2) & 255}`;
const mac = (i: number): string => `0e:00:0a:fd:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const table = (i: number): number => 1000 + i;
/** The endpoint's device in the shared namespace. */
const isSlave = (d: SharedDesign): boolean => d === 'macvlan' || d === 'macvlan-rules' || d === 'ipvlan';
export const innerName = (d: SharedDesign, i: number): string => (isSlave(d) ? `m${i}` : `e${i}`);

function sh(argv: string[]): { ok: boolean; out: string } {
  const r = spawnSync(argv[0], argv.slice(1));
  return { ok: r.status === 0, out: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim() };
}

function run(argv: string[]): void {
  const r = sh(argv);
  if (!r.ok) throw new Error(`${argv.join(' ')}: ${r.out}`);
}

/**
 * The namespaces (untraced: made once per droplet). The shared one: lo up; ARP answered only
 * for an address on the receiving device and asked from the sending device's own (several
 * endpoints' devices sit on one segment); the local table below the endpoints' rules.
 */
export function setupShared(n: SharedNames): void {
  run(['ip', 'netns', 'add', n.hostNs]);
  run(['ip', 'netns', 'add', n.sharedNs]);
  run(['ip', '-n', n.sharedNs, 'link', 'set', 'lo', 'up']);
  run(['ip', 'netns', 'exec', n.sharedNs, 'sh', '-c',
    'echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore && echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce']);
  run(['ip', '-n', n.sharedNs, 'rule', 'add', 'pref', '32000', 'lookup', 'local']);
  run(['ip', '-n', n.sharedNs, 'rule', 'del', 'pref', '0']);
  // The lower device of macvlan/ipvlan slaves: one per droplet, in the host namespace.
  run(['ip', '-n', n.hostNs, 'link', 'add', LOWER, 'type', 'veth', 'peer', 'name', `${LOWER}p`]);
  run(['ip', '-n', n.hostNs, 'link', 'set', LOWER, 'up']);
}

export function removeShared(n: SharedNames): void {
  spawnSync('ip', ['-force', '-batch', '-'], { input: `netns del ${n.sharedNs}\nnetns del ${n.hostNs}\n` });
}

/** Why this kernel cannot make the design's devices, or undefined when it can (needs setupShared). */
export function unsupported(d: SharedDesign, n: SharedNames): string | undefined {
  const probe: Record<string, string[]> = {
    vrf: ['type', 'vrf', 'table', '999'],
    macvlan: ['link', LOWER, 'type', 'macvlan', 'mode', 'vepa'],
    'macvlan-rules': ['link', LOWER, 'type', 'macvlan', 'mode', 'vepa'],
    ipvlan: ['link', LOWER, 'type', 'ipvlan', 'mode', 'l2'],
  };
  if (!probe[d]) return undefined;
  const r = sh(['ip', '-n', n.hostNs, 'link', 'add', 'xprobe', ...probe[d]]);
  if (!r.ok) return `${d}: ${r.out} (not built into kernel ${sh(['uname', '-r']).out}, no modules)`;
  run(['ip', '-n', n.hostNs, 'link', 'del', 'xprobe']);
  return undefined;
}

/** Makes endpoints from..to-1 of a design: the devices, their configuration, their routing. */
export function makeShared(d: SharedDesign, n: SharedNames, from: number, to: number, batch: Batch): void {
  const ids = Array.from({ length: to - from }, (_, k) => from + k);
  const slave = isSlave(d);
  const q = 'numtxqueues 1 numrxqueues 1';
  batch(ids.flatMap((i) => (slave
    ? [`link add link ${LOWER} name m${i} netns ${n.sharedNs} address ${mac(i)} mtu 1448 type ${d === 'ipvlan' ? 'ipvlan mode l2' : 'macvlan mode vepa'}`]
    : [`link add h${i} mtu 1448 ${q} type veth peer name e${i} netns ${n.sharedNs} address ${mac(i)} mtu 1448 ${q}`, `link set h${i} addrgenmode none up`])),
  { netns: n.hostNs });
  for (const i of ids) {
    addon.configureEndpointLink(`/run/netns/${n.sharedNs}`, {
      ifname: innerName(d, i), ip: endpointIp(i), prefixLen: 32, featuresOff: slave ? [] : ['tx-udp-segmentation', 'tx-gso-list'],
    });
  }
  const routes = (i: number): string[] => [`route add ${NETWORK} dev ${innerName(d, i)} table ${table(i)}`, `route add default via ${GATEWAY} dev ${innerName(d, i)} onlink table ${table(i)}`];
  if (d === 'rules' || d === 'macvlan-rules') batch(ids.flatMap((i) => [`rule add pref 100 from ${endpointIp(i)} iif lo lookup ${table(i)}`, ...routes(i)]), { netns: n.sharedNs });
  if (d === 'vrf') batch(ids.flatMap((i) => [`link add vrf${i} type vrf table ${table(i)}`, `link set vrf${i} up`, `link set e${i} master vrf${i}`, ...routes(i)]), { netns: n.sharedNs });
}

/** A command run as endpoint i: what each design needs for it. */
function asEndpoint(d: SharedDesign, n: SharedNames, i: number, argv: string[]): string[] {
  return d === 'vrf' ? ['ip', '-n', n.sharedNs, 'vrf', 'exec', `vrf${i}`, ...argv] : ['ip', 'netns', 'exec', n.sharedNs, ...argv];
}

const TCP_PORT = 7000;
// The client binds its source (design (b) routes by source address; harmless under a VRF).
const tcpClient = (src: string, dst: string): string => `const s=require('net').connect({host:'${dst}',port:${TCP_PORT},localAddress:'${src}'});`
  + `s.on('connect',()=>{s.end('hello');});s.on('data',(b)=>{process.stdout.write(b.toString());});s.on('error',(e)=>{console.error(e.message);process.exit(1);});s.on('close',()=>process.exit(0));`
  + `setTimeout(()=>process.exit(2),3000).unref();`;
const tcpServer = (ip: string): string => `const v=require('net').createServer((c)=>{c.on('data',(b)=>{c.end('echo:'+b);v.close();});});`
  + `v.listen(${TCP_PORT},'${ip}',()=>console.log('listening'));setTimeout(()=>process.exit(2),5000);`;

/** Packets seen on a host-side veth end (tcpdump), until stop(). */
function capture(n: SharedNames, dev: string): { stop: () => Promise<string[]> } {
  const p = spawn('ip', ['netns', 'exec', n.hostNs, 'tcpdump', '-i', dev, '-n', '-l', '--immediate-mode', 'ip'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  return {
    stop: () => new Promise((resolve) => {
      p.once('exit', () => resolve(out.split('\n').filter((l) => l.length > 0)));
      setTimeout(() => p.kill('SIGINT'), 500);
    }),
  };
}

export interface Proof { design: SharedDesign; ping: boolean; tcp: boolean; aOut: number; bIn: number; unboundPing: string; lines: string[] }

/**
 * Two endpoints A (0) and B (1) of a design in one shared namespace, their host-side ends on a
 * bridge: a ping and a TCP connect run as A must leave through A's veth (seen on h0) and arrive
 * on B's (seen on h1), not be delivered inside the shared namespace.
 */
export async function prove(d: SharedDesign, n: SharedNames): Promise<Proof> {
  const batch: Batch = (lines, opts) => {
    const r = spawnSync('ip', ['-n', opts.netns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
    if (r.status !== 0) throw new Error(`ip -n ${opts.netns} -batch: ${r.stderr.toString().trim()}`);
  };
  makeShared(d, n, 0, 2, batch);
  batch(['link add br0 type bridge', 'link set br0 up', 'link set h0 master br0', 'link set h1 master br0'], { netns: n.hostNs });
  await new Promise((r) => setTimeout(r, 1500));
  const [a, b] = [endpointIp(0), endpointIp(1)];
  const h0 = capture(n, 'h0'); const h1 = capture(n, 'h1');
  await new Promise((r) => setTimeout(r, 1000));
  const pingArgv = d === 'vrf' ? ['ping', '-c', '3', '-W', '1', b] : ['ping', '-c', '3', '-W', '1', '-I', a, b];
  const ping = sh(asEndpoint(d, n, 0, pingArgv)).ok;
  const [serverCmd, ...serverArgs] = asEndpoint(d, n, 1, [process.execPath, '-e', tcpServer(b)]);
  const server = spawn(serverCmd, serverArgs, { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => { server.stdout.once('data', () => resolve()); setTimeout(resolve, 3000); });
  const client = sh(asEndpoint(d, n, 0, [process.execPath, '-e', tcpClient(a, b)]));
  const tcp = client.ok && client.out === 'echo:hello';
  server.kill();
  // Not as the endpoint: a plain command in the shared namespace, no source bound.
  const unbound = sh(['ip', 'netns', 'exec', n.sharedNs, 'ping', '-c', '1', '-W', '1', b]);
  const [seenA, seenB] = await Promise.all([h0.stop(), h1.stop()]);
  const count = (ls: string[], what: RegExp): number => ls.filter((l) => what.test(l)).length;
  const req = new RegExp(`${a.replace(/\./g, '\\.')} > ${b.replace(/\./g, '\\.')}: ICMP echo request`);
  const syn = new RegExp(`${a.replace(/\./g, '\\.')}\\.\\d+ > ${b.replace(/\./g, '\\.')}\\.${TCP_PORT}: Flags \\[S\\]`);
  return {
    design: d, ping, tcp,
    aOut: count(seenA, req) + count(seenA, syn), bIn: count(seenB, req) + count(seenB, syn),
    unboundPing: unbound.ok ? 'answered' : 'no answer',
    lines: [...seenA.map((l) => `h0 ${l}`), ...seenB.map((l) => `h1 ${l}`)],
  };
}

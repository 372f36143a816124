// Security groups' throughput cost (issue 13): TCP 1 stream and 64-byte UDP
// between two endpoints that each carry a 100-rule security group, against
// two endpoints without one, on the same droplets and hosts, in alternating
// rounds (as paired.ts): one figure per round and side, and the per-round
// ratio policed / open, so the cost can be told from the machine's noise.
//
// The group is what a user would write: per direction 98 rules that match
// nothing of the benchmark (TCP to or from other /32s) and the two that allow
// it (TCP and UDP on the benchmark's port range within the VPC). The client
// carries it for its egress, the server for its ingress, so every packet of
// both runs is judged: the first one of each connection by the rules, the
// rest (replies included) by conntrack.
import { Controller } from '../dist/controller/controller.js';
import { createDroplets, destroyDroplets, type Droplet } from '../dist/droplet/index.js';
import type { SecurityRule } from '../dist/abi/index.js';
import * as iperf from './iperf.js';
import { nsRun } from './ns.js';
import type { Pair } from './scenarios.js';
import { XVPC_KEYS } from './scenario-keys.js';
import { busyShare, sgPaired, type SgPaired } from './sg-paired.js';

export const SG_RULES = 100;
/** The benchmark's ports (its own range: the throughput section counts up from 5201). */
const PORT_FIRST = 7100;
const PORT_LAST = 7999;
const VNI = 3;
const CIDR = '10.0.0.0/16';
const SG_COUNTERS = ['sg_ct_new', 'sg_ct_expired', 'sg_ct_evict', 'drop_sg_ingress', 'drop_sg_egress', 'drop_sg_unsolicited', 'drop_sg_icmp_error', 'drop_sg_fragment'] as const;

export interface SgModeResult {
  /** Gbit/s */
  tcp1: SgPaired;
  /** datagrams received per second, thousands */
  udp64Kpps: SgPaired;
  /** security-group counters summed over every host across all rounds (ct entries opened, denials) */
  counters: Record<string, number>;
}

export interface SgThroughputResult {
  rules: number;
  rounds: number;
  secondsPerRound: number;
  group: string;
  modes: Partial<Record<'tc' | 'native', SgModeResult>>;
}

/** Per direction: 98 rules that never match the benchmark, then TCP and UDP on its ports within the VPC. */
export function benchGroupRules(): SecurityRule[] {
  const rules: SecurityRule[] = Array.from({ length: SG_RULES - 2 }, (_, i) => ({ protocol: 'tcp' as const, cidr: `10.9.${i >> 8}.${i & 255}/32`, ports: String(1000 + i) }));
  const ports = `${PORT_FIRST}-${PORT_LAST}`;
  rules.push({ protocol: 'tcp', cidr: CIDR, ports }, { protocol: 'udp', cidr: CIDR, ports });
  return rules;
}


async function reachable(ns: string, ip: string): Promise<void> {
  const r = await nsRun(ns, ['ping', '-n', '-q', '-c', '1', '-i', '0.05', '-w', '10', ip], 12_000);
  if (r.code !== 0) throw new Error(`${ns} cannot reach ${ip}: ${r.stdout.trim()} ${r.stderr.trim()}`);
}

async function sgCounters(droplets: Record<string, Droplet>): Promise<Record<string, number>> {
  const sum: Record<string, number> = Object.fromEntries(SG_COUNTERS.map((k) => [k, 0]));
  for (const d of Object.values(droplets)) {
    const s = await d.stats();
    for (const k of SG_COUNTERS) sum[k] += s[k] ?? 0;
  }
  return sum;
}

/** One data path: its own droplets (left, right, switch), both pairs, `rounds` alternating rounds. */
async function measureMode(prefix: string, mode: 'tc' | 'native', rounds: number, seconds: number, nextPort: () => number,
  step: (t: string) => void, done: (t: string) => void): Promise<SgModeResult> {
  step(`${mode}: droplets, VPC, two endpoint pairs, a ${SG_RULES}-rule group on one pair`);
  const droplets = await createDroplets(['left', 'right', 'switch'], { prefix, mode });
  const c = new Controller(droplets);
  try {
    await c.createVpc({ vni: VNI, cidr: CIDR, routers: [] });
    await c.createNetwork({ vni: VNI, netId: 1, cidr: CIDR, switches: ['switch'] });
    const ep = (ip: string, host: string) => c.createSimpleEndpoint({ vni: VNI, netId: 1, ip, host });
    const [oc, os, pc, ps] = [await ep('10.0.0.2', 'left'), await ep('10.0.0.3', 'right'), await ep('10.0.0.4', 'left'), await ep('10.0.0.5', 'right')];
    for (const [a, b] of [[oc, os], [os, oc], [pc, ps], [ps, pc]]) await reachable(a.netns, b.ip); // before the group: it allows no ICMP
    const rules = benchGroupRules();
    await c.createSecurityGroup({ vni: VNI, name: 'bench100', ingress: rules, egress: rules });
    await c.attachSecurityGroup({ vni: VNI, ip: pc.ip, name: 'bench100' });
    await c.attachSecurityGroup({ vni: VNI, ip: ps.ip, name: 'bench100' });
    const key = XVPC_KEYS[mode][0];
    const open: Pair = { key, label: `${mode} without a group`, clientNs: oc.netns, serverNs: os.netns, serverIp: os.ip };
    const policed: Pair = { key, label: `${mode} with a ${SG_RULES}-rule group`, clientNs: pc.netns, serverNs: ps.netns, serverIp: ps.ip };
    done('');

    step(`${mode}: ${rounds} alternating rounds of TCP 1 stream and UDP 64 B, ${seconds}s each, policed and open`);
    const before = await sgCounters(droplets);
    const runs = () => ({ policed: [] as number[], open: [] as number[] });
    const r = { tcp1: runs(), udp: runs(), tcp1Busy: runs(), udpBusy: runs() };
    for (let i = 0; i < rounds; i++) {
      const order = (i % 2 === 0 ? ['policed', 'open'] : ['open', 'policed']) as ('policed' | 'open')[];
      for (const side of order) {
        const t = await iperf.tcp(side === 'policed' ? policed : open, 1, seconds, nextPort());
        r.tcp1[side].push(t.bitsPerSecond / 1e9);
        r.tcp1Busy[side].push(busyShare(t.cpuShare));
      }
      for (const side of order) {
        const u = await iperf.udp(side === 'policed' ? policed : open, 64, seconds, nextPort());
        r.udp[side].push(u.receivedPps / 1000);
        r.udpBusy[side].push(busyShare(u.cpuShare));
      }
    }
    const after = await sgCounters(droplets);
    const counters = Object.fromEntries(SG_COUNTERS.map((k) => [k, after[k] - before[k]]));
    const res = { tcp1: sgPaired(r.tcp1.policed, r.tcp1.open, r.tcp1Busy), udp64Kpps: sgPaired(r.udp.policed, r.udp.open, r.udpBusy), counters };
    done(`TCP policed/open median ${res.tcp1.ratio.median.toFixed(2)}, UDP ${res.udp64Kpps.ratio.median.toFixed(2)}; sg_ct_new ${counters.sg_ct_new}`);
    return res;
  } finally {
    await c.close().catch(() => undefined);
    await destroyDroplets(droplets).catch(() => undefined);
  }
}

/** Both data paths, TC (the droplets' default) first, each on its own droplets (prefixes.tc, prefixes.native). */
export async function measureSgThroughput(prefixes: { tc: string; native: string }, rounds: number, seconds: number,
  step: (t: string) => void, done: (t: string) => void): Promise<SgThroughputResult> {
  let port = PORT_FIRST;
  const nextPort = () => {
    if (port > PORT_LAST) throw new Error(`sg bench: more runs than ports ${PORT_FIRST}-${PORT_LAST}`);
    return port++;
  };
  const result: SgThroughputResult = {
    rules: SG_RULES, rounds, secondsPerRound: seconds, modes: {},
    group: `${SG_RULES} rules per direction on both endpoints of the policed pair (client: egress, server: ingress): ${SG_RULES - 2} TCP rules for other /32s, `
      + `then TCP and UDP from/to ${CIDR} on ports ${PORT_FIRST}-${PORT_LAST}; same hosts, same VPC and switch as the open pair`,
  };
  result.modes.tc = await measureMode(prefixes.tc, 'tc', rounds, seconds, nextPort, step, done);
  result.modes.native = await measureMode(prefixes.native, 'native', rounds, seconds, nextPort, step, done);
  return result;
}

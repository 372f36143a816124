// Security groups' throughput cost (issue 13): TCP 1 stream and 64-byte UDP
// between two endpoints that each carry a 100-rule security group, against the
// same two endpoints without it. One iperf3 run per metric carries the load
// while the group's attachment to both endpoints is removed and restored in
// phases: each pair of neighbouring phases gives one ratio policed / open,
// measured on the same connection, the same processes pinned to the same
// CPUs, 25 ms apart. Separate runs (the design until 2026-12-07) differed by
// more from run to run (connection set-up, where the scheduler put sender and
// receiver) than the group costs; on this shared VM even one connection's rate
// moves by a third from second to second, so the closer two phases are, the
// more they agree: 600 pairs of 20 ms phases bound the median ratio within
// about +-0.01, where 60 pairs of 0.25 s phases left +-0.02 to +-0.1.
//
// A phase that short may receive nothing (TCP waiting out a retransmission
// timeout, 200 ms at least): its cycle is measured again, the empty phases are
// counted by state and reported, and a run with more empty phases with the
// group than without is not judged (report.ts), since dropping such cycles
// could hide a cost. Too many empty cycles, or iperf3 gone, fail the run.
//
// Each run carries its own A/A control, interleaved with the measured phases:
// pairs of phases with the group off in which only an attachment record for an
// address no flow uses comes and goes. Their ratio must hold 1.0 in its 95%
// interval, or this run's neighbouring phases were not independent enough for
// the interval to mean what it says, and the row is not judged (on TC TCP,
// the burstiest, it sat at 0.93-0.95 while the A/A pair's order flipped with
// the measured pair's; see toggledRun).
//
// What a phase measures is what the server's namespace received: bytes on its
// device (TCP), datagrams delivered to its sockets (UDP, /proc/net/snmp
// InDatagrams), read from /proc/<iperf3 server>/net between two instants.
//
// The group is what a user would write: per direction 98 rules that match
// nothing of the benchmark (TCP to or from other /32s) and the two that allow
// it (TCP and UDP on the benchmark's port range within the VPC). The client
// carries it for its egress, the server for its ingress. Each run starts with
// the group attached, so its connection is tracked from its first packet;
// while attached every packet is judged by conntrack (the steady state of a
// connection), while detached by nothing.
import { Controller } from '../dist/controller/controller.js';
import { createDroplets, destroyDroplets, type Droplet } from '../dist/droplet/index.js';
import { PinnedMap } from '../dist/dataplane/bpf.js';
import type { SecurityRule } from '../dist/abi/index.js';
import { readFileSync } from 'node:fs';
import { cpuSample, cpuShare, msSince, nowNs } from './measure.js';
import { Background, inNs, nsRun, sleep, waitListening } from './ns.js';
import { busyShare, controlSpread, receivedSoFar, sgPaired, type SgPaired } from './sg-paired.js';

export const SG_RULES = 100;
/** Cycles per metric and build (each a measured pair of phases and an A/A pair), and each phase's measured seconds (bench/run.ts passes them). */
export const SG_PAIRS = { quick: 200, full: 600 } as const;
export const SG_PHASE_SECONDS = 0.02;
/**
 * After the attachment records are written or deleted (in the pinned maps, at
 * once): lets packets in flight under the state before drain (they sit in
 * queues for well under a millisecond; 20 ms measured the same, bench/README.md).
 */
const SETTLE_SECONDS = 0.005;
/** Cycles with an empty phase that a run may measure again, per cycle asked for: past that it fails. */
const EMPTY_CYCLES_ALLOWED = 0.05;
/** The benchmark's ports (its own range: the throughput section counts up from 5201). */
const PORT_FIRST = 7100;
const PORT_LAST = 7999;
const VNI = 3;
const CIDR = '10.0.0.0/16';
const SG_COUNTERS = ['sg_ct_new', 'sg_ct_expired', 'sg_ct_evict', 'drop_sg_ingress', 'drop_sg_egress', 'drop_sg_unsolicited', 'drop_sg_icmp_error', 'drop_sg_fragment'] as const;

export interface SgModeResult {
  /** Gbit/s received by the server namespace's device */
  tcp1: SgPaired;
  /** datagrams delivered to the server's sockets per second, thousands */
  udp64Kpps: SgPaired;
  /** security-group counters summed over every host across both runs (ct entries opened, denials) */
  counters: Record<string, number>;
}

export interface SgThroughputResult {
  rules: number;
  /** cycles per metric and build: pairs of phases (one policed, one open), each with an A/A pair */
  rounds: number;
  /** seconds measured per phase (after the group change settled) */
  secondsPerRound: number;
  /** seconds let pass after each change of the records before a phase is measured */
  settleSeconds: number;
  method: string;
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

const readProcNet = (pid: number) => ({ dev: readFileSync(`/proc/${pid}/net/dev`, 'utf8'), snmp: readFileSync(`/proc/${pid}/net/snmp`, 'utf8') });

/**
 * The CPUs this process may run on (/proc/self/status Cpus_allowed_list, e.g.
 * "0-1,4"): iperf3's affinity (-A) must name one of them, which os.cpus()
 * (every CPU of the machine) does not promise inside a cpuset.
 */
function allowedCpus(): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  return list.split(',').filter(Boolean).flatMap((r) => {
    const [a, b = a] = r.split('-').map(Number);
    return Array.from({ length: b - a + 1 }, (_, k) => a + k);
  });
}

/**
 * iperf3's CPU affinity: sender on the first allowed CPU, receiver on the
 * second, so the scheduler does not move them between phases (on 2 CPUs,
 * sender and receiver sharing one or not moves the rate by a third). Fewer
 * than two CPUs: none.
 */
function pins(): { sender: string[]; receiver: string[] } {
  const cpus = allowedCpus();
  return cpus.length >= 2 ? { sender: ['-A', String(cpus[0])], receiver: ['-A', String(cpus[1])] } : { sender: [], receiver: [] };
}

interface Phases { policed: number[]; open: number[]; policedBusy: number[]; openBusy: number[] }

/** A phase's state: the group on (policed) or off (open); or, for the A/A control, the group off and the decoy record there or not. */
type PhaseState = 'policed' | 'open' | 'decoy' | 'no decoy';

/** Phases that received nothing, by state (their cycles were measured again). */
export type EmptyPhases = Record<PhaseState, number>;

/**
 * One iperf3 run of `metric` from `client` to `server` in `pairs` cycles of
 * four phases: a measured pair (the group on, off) and an A/A pair (the group
 * off, the decoy record there and not), so the control sits in the same run,
 * between the same phases.
 */
async function toggledRun(metric: 'tcp' | 'udp', client: { netns: string }, server: { netns: string; ip: string }, port: number,
  pairs: number, seconds: number, setPoliced: (on: boolean) => Promise<void>, setDecoy: (on: boolean) => Promise<void>,
): Promise<{ measured: Phases; control: Phases; emptyPhases: EmptyPhases }> {
  await setDecoy(false);
  await setPoliced(true); // the connection opens under the group, as a policed endpoint's would
  const total = Math.ceil(4 * pairs * (1 + EMPTY_CYCLES_ALLOWED) * (seconds + SETTLE_SECONDS + 0.5) + 5);
  const pin = pins();
  const srv = new Background(inNs(server.netns, ['iperf3', '-s', '-1', '-p', String(port), ...pin.receiver]), (total + 30) * 1000);
  let cli: Background | undefined;
  let ended = false;
  void srv.exited.then(() => { ended = true; });
  try {
    await waitListening(server.netns, port);
    const args = metric === 'tcp' ? [] : ['-u', '-b', '0', '-l', '64'];
    cli = new Background(inNs(client.netns, ['iperf3', '-c', server.ip, '-p', String(port), '-t', String(total), ...pin.sender, ...args]), (total + 30) * 1000);
    void cli.exited.then(() => { ended = true; });
    const pid = srv.pid!;
    const received = () => receivedSoFar(metric, readProcNet(pid));
    const start = received();
    for (let waited = 0; received() === start; waited += 50) {
      if (waited > 10_000) throw new Error(`sg bench: no ${metric} traffic reached ${server.ip} within 10 s: ${cli.output.slice(-300)}`);
      await sleep(50);
    }
    await sleep(1000); // past slow start and the first bursts
    const measured: Phases = { policed: [], open: [], policedBusy: [], openBusy: [] };
    const control: Phases = { policed: [], open: [], policedBusy: [], openBusy: [] };
    const emptyPhases: EmptyPhases = { policed: 0, open: 0, decoy: 0, 'no decoy': 0 };
    let phase = 0;
    const run = async (state: PhaseState): Promise<{ state: PhaseState; rate: number; busy: number }> => {
      await setPoliced(state === 'policed');
      await setDecoy(state === 'decoy');
      await sleep(SETTLE_SECONDS * 1000);
      const [c0, t0, cpu0] = [received(), nowNs(), await cpuSample()];
      await sleep(seconds * 1000);
      const [c1, ms, cpu1] = [received(), msSince(t0), await cpuSample()];
      if (ended) throw new Error(`sg bench: ${metric} phase ${phase} (${state}): iperf3 ended before the run did: ${cli!.output.slice(-300)}`);
      phase++;
      const rate = (c1 - c0) / (ms / 1000);
      return { state, rate: metric === 'tcp' ? (rate * 8) / 1e9 : rate / 1000, busy: busyShare(cpuShare(cpu0, cpu1)) };
    };
    // The measured pair's order flips every cycle, the A/A pair's every other
    // cycle, so each A/A phase follows a change of the group as often as the
    // other (else a slow recovery after a change, as TCP's, reads as a ratio).
    // A cycle with an empty phase is measured again, in the same order.
    const emptyAllowed = Math.max(3, Math.ceil(pairs * EMPTY_CYCLES_ALLOWED));
    for (let i = 0, emptyCycles = 0; i < pairs;) {
      const measuredPair: PhaseState[] = i % 2 === 0 ? ['policed', 'open'] : ['open', 'policed'];
      const controlPair: PhaseState[] = (i >> 1) % 2 === 0 ? ['decoy', 'no decoy'] : ['no decoy', 'decoy'];
      const cycle = [];
      for (const state of [...measuredPair, ...controlPair]) cycle.push(await run(state));
      const empty = cycle.filter((p) => !(p.rate > 0));
      if (empty.length) {
        for (const p of empty) emptyPhases[p.state]++;
        if (++emptyCycles > emptyAllowed) {
          throw new Error(`sg bench: ${metric}: ${emptyCycles} cycles had a phase that received nothing (more than ${emptyAllowed}; `
            + `empty phases by state ${JSON.stringify(emptyPhases)}): the connection stalls too often on this machine to measure`);
        }
        continue;
      }
      for (const p of cycle) {
        const into = p.state === 'policed' || p.state === 'open' ? measured : control;
        const side = p.state === 'policed' || p.state === 'decoy' ? 'policed' : 'open';
        into[side].push(p.rate);
        into[side === 'policed' ? 'policedBusy' : 'openBusy'].push(p.busy);
      }
      i++;
    }
    await setDecoy(false);
    return { measured, control, emptyPhases };
  } finally {
    cli?.kill();
    srv.kill();
    await Promise.all([cli?.exited, srv.exited]);
  }
}

/** An address inside the VPC that no endpoint has: its attachment record is looked up by no packet. */
const DECOY_IP = [10, 0, 0, 250];

/** Writes (on) or deletes (off) attachment records; `present`: whether they are in the maps now. */
function toggle(records: { map: PinnedMap; key: Buffer; value: Buffer }[], present: boolean): (on: boolean) => Promise<void> {
  let state = present;
  return async (on: boolean) => {
    if (on === state) return;
    for (const r of records) {
      if (on) r.map.update(r.key, r.value);
      else r.map.delete(r.key);
    }
    state = on;
  };
}

/** One data path: its own droplets (left, right, switch), one endpoint pair, a toggled run per metric and its A/A control. */
async function measureMode(prefix: string, mode: 'tc' | 'native', pairs: number, seconds: number, nextPort: () => number,
  step: (t: string) => void, done: (t: string) => void): Promise<SgModeResult> {
  step(`${mode}: droplets, VPC, an endpoint pair, a ${SG_RULES}-rule group`);
  const droplets = await createDroplets(['left', 'right', 'switch'], { prefix, mode });
  const c = new Controller(droplets);
  let closeMaps = () => {};
  try {
    await c.createVpc({ vni: VNI, cidr: CIDR, routers: [] });
    await c.createNetwork({ vni: VNI, netId: 1, cidr: CIDR, switches: ['switch'] });
    const ep = (ip: string, host: string) => c.createSimpleEndpoint({ vni: VNI, netId: 1, ip, host });
    const [client, server] = [await ep('10.0.0.2', 'left'), await ep('10.0.0.3', 'right')];
    for (const [a, b] of [[client, server], [server, client]]) await reachable(a.netns, b.ip); // before the group: it allows no ICMP
    const rules = benchGroupRules();
    await c.createSecurityGroup({ vni: VNI, name: 'bench100', ingress: rules, egress: rules });
    // The Controller attaches the group once; the phases then toggle the
    // attachment records it wrote (sg_attach on each endpoint's host) straight
    // in the pinned maps: the same bytes, without the Controller's and
    // transitd's CPU in the measured phases (toggling through the Controller
    // moved the ratios by 2-5% with the group on endpoints outside the flow).
    for (const e of [client, server]) await c.attachSecurityGroup({ vni: VNI, ip: e.ip, name: 'bench100' });
    const maps = Object.values(droplets).map((d) => PinnedMap.open(`${d.pinRoot}/sg_attach`));
    closeMaps = () => { for (const m of maps) m.close(); };
    const records = maps.flatMap((map) => map.keys().map((key) => ({ map, key, value: map.lookup(key)! })));
    if (records.length !== 2) throw new Error(`sg bench: the hosts hold ${records.length} attachment records, want 2 (client, server)`);
    const setPoliced = toggle(records, true);
    // The A/A control's toggle: the same records for an address no flow uses, in the same maps.
    const decoys = records.map((r) => ({ ...r, key: Buffer.concat([r.key.subarray(0, 4), Buffer.from(DECOY_IP)]) }));
    const setDecoy = toggle(decoys, false);
    done('');

    step(`${mode}: TCP 1 stream and UDP 64 B, one run each, ${pairs} cycles of ${seconds}s phases: the group on and off, a record outside the flow there and not`);
    const before = await sgCounters(droplets);
    const tcp = await toggledRun('tcp', client, server, nextPort(), pairs, seconds, setPoliced, setDecoy);
    const udp = await toggledRun('udp', client, server, nextPort(), pairs, seconds, setPoliced, setDecoy);
    const after = await sgCounters(droplets);
    const counters = Object.fromEntries(SG_COUNTERS.map((k) => [k, after[k] - before[k]]));
    const paired = (r: { measured: Phases; control: Phases; emptyPhases: EmptyPhases }) => ({
      ...sgPaired(r.measured.policed, r.measured.open, { policed: r.measured.policedBusy, open: r.measured.openBusy }),
      control: controlSpread(r.control.policed, r.control.open),
      emptyPhases: r.emptyPhases,
    });
    const res = { tcp1: paired(tcp), udp64Kpps: paired(udp), counters };
    done(`with the group / without: TCP ${res.tcp1.ratio.median.toFixed(3)} (A/A ${res.tcp1.control.median.toFixed(3)}), `
      + `UDP ${res.udp64Kpps.ratio.median.toFixed(3)} (A/A ${res.udp64Kpps.control.median.toFixed(3)}); sg_ct_new ${counters.sg_ct_new}`);
    return res;
  } finally {
    closeMaps();
    await c.close().catch(() => undefined);
    await destroyDroplets(droplets).catch(() => undefined);
  }
}

/** Both data paths, TC (the droplets' default) first, each on its own droplets (prefixes.tc, prefixes.native). */
export async function measureSgThroughput(prefixes: { tc: string; native: string }, pairs: number, seconds: number,
  step: (t: string) => void, done: (t: string) => void): Promise<SgThroughputResult> {
  let port = PORT_FIRST;
  const nextPort = () => {
    if (port > PORT_LAST) throw new Error(`sg bench: more runs than ports ${PORT_FIRST}-${PORT_LAST}`);
    return port++;
  };
  const result: SgThroughputResult = {
    rules: SG_RULES, rounds: pairs, secondsPerRound: seconds, settleSeconds: SETTLE_SECONDS, modes: {},
    method: `one iperf3 run per metric (sender and receiver pinned); in ${pairs} cycles the group's attachment records (sg_attach) `
      + 'deleted and rewritten in the pinned maps for a measured pair of phases, then with the group off an attachment record for '
      + `${DECOY_IP.join('.')} (an address no flow uses) there and not for an A/A pair; the measured pair's order flipping every cycle, `
      + 'the A/A pair\'s every other cycle; '
      + `${SETTLE_SECONDS}s after each change, then ${seconds}s measured: received bytes on the server namespace's device (TCP), `
      + 'datagrams delivered to its sockets (UDP); per pair the ratio of its two phases; a cycle with a phase that received '
      + 'nothing measured again, its empty phases counted by state',
    group: `${SG_RULES} rules per direction on both endpoints (client: egress, server: ingress): ${SG_RULES - 2} TCP rules for other /32s, `
      + `then TCP and UDP from/to ${CIDR} on ports ${PORT_FIRST}-${PORT_LAST}`,
  };
  result.modes.tc = await measureMode(prefixes.tc, 'tc', pairs, seconds, nextPort, step, done);
  result.modes.native = await measureMode(prefixes.native, 'native', pairs, seconds, nextPort, step, done);
  return result;
}

// Link shaping on the underlay bridge port of each host (its link to the
// underlay), for packets on their way into the host. That is the one place
// every packet crosses a qdisc whatever the data path: on the XDP build a
// redirect out of a droplet's eth0 skips eth0's qdisc, but the bridge forwards
// into the port through the stack. So a host's shaping applies once to every
// packet that enters it; a pair's applies on both hosts' ports (to packets
// from the other one), i.e. both ways.
//
// Built from what this kernel has (checked: CONFIG_NET_SCH_NETEM, _PRIO and
// NET_ACT_GACT are unset; HTB, u32 and cls_bpf are there):
//   rate  -> an HTB class (pairs: one class each, chosen by outer source address)
//   loss  -> a classic-BPF filter (cls_bpf) drawing a random number
//            (SKF_AD_RANDOM) that sends that fraction of IPv4 packets to a
//            class whose queue holds nothing (the drop action, act_gact, is
//            not in this kernel either)
//   delay -> a netem leaf under the HTB class, only where the kernel has netem;
//            elsewhere `up` refuses delay/jitter before it makes anything.
import { randomBytes } from 'node:crypto';
import { failedPrecondition } from '../errors.js';
import { must, run } from '../util/exec.js';
import type { HostShaping, Shaping } from './types.js';

const UNLIMITED = '100gbit';
/** SKF_AD_OFF + SKF_AD_RANDOM: classic BPF's "load a random u32". */
const LD_RANDOM = 0xfffff000 + 56;

type Insn = [code: number, jt: number, jf: number, k: number];
const LDH_ABS = 0x28, LD_ABS = 0x20, JEQ_K = 0x15, JGE_K = 0x35, RET_K = 0x06;

const ipNumber = (ip: string) => ip.split('.').reduce((n, b) => n * 256 + Number(b), 0);

/**
 * A classic BPF program matching (-> action drop) an IPv4 packet with
 * probability lossPct/100: only from `from` when given; never from any of
 * `except` (their own pair filters decide for them).
 */
export function lossProgram(lossPct: number, opts: { from?: string; except?: string[] } = {}): Insn[] {
  const body: (Insn | ['NOMATCH-if-eq' | 'NOMATCH-if-ne' | 'NOMATCH-if-ge', number])[] = [
    [LDH_ABS, 0, 0, 12], ['NOMATCH-if-ne', 0x0800],   // IPv4 only: ARP never drops
    [LD_ABS, 0, 0, 26],                               // outer source address
  ];
  if (opts.from) body.push(['NOMATCH-if-ne', ipNumber(opts.from)]);
  for (const ip of opts.except ?? []) body.push(['NOMATCH-if-eq', ipNumber(ip)]);
  const threshold = Math.min(0xffffffff, Math.round((lossPct / 100) * 2 ** 32));
  body.push([LD_ABS, 0, 0, LD_RANDOM], ['NOMATCH-if-ge', threshold]);
  const nomatch = body.length + 1; // after "ret -1"
  const prog: Insn[] = body.map((x, i) => {
    if (typeof x[0] === 'number') return x as Insn;
    const off = nomatch - i - 1;
    const [kind, k] = x as [string, number];
    if (kind === 'NOMATCH-if-eq') return [JEQ_K, off, 0, k];
    if (kind === 'NOMATCH-if-ne') return [JEQ_K, 0, off, k];
    return [JGE_K, off, 0, k];
  });
  prog.push([RET_K, 0, 0, 0xffffffff], [RET_K, 0, 0, 0]);
  return prog;
}

const bytecode = (p: Insn[]) => `"${p.length},${p.map((i) => i.join(' ')).join(',')}"`;
const pct = (s?: string) => (s ? Number(s.slice(0, -1)) : 0);

function netem(s: Shaping): string {
  return `netem limit 100000 delay ${s.delay}${s.jitter ? ` ${s.jitter} distribution normal` : ''}`;
}

/** The HTB class whose leaf (a pfifo of length 0) drops every packet sent to it. */
const DROP_CLASS = 0xff;

/**
 * tc batch lines for one host's port: an HTB root; class 1:1 for packets from
 * anyone without a pair, 1:k+2 for the k-th pair's peer (u32 on the outer
 * source); loss filters (classic BPF, first) send their fraction to the drop class.
 */
export function shapingBatch(hs: HostShaping, port: string, ipOf: (host: string) => string): string[] {
  const up = hs.uplink ?? {};
  const pairs = hs.pairs.map((p) => ({ ip: ipOf(p.peer), s: { ...up, ...p.shaping } }));
  if (!Object.keys(up).length && !pairs.length) return [];
  const lines = [`qdisc replace dev ${port} root handle 1: htb default 1`];
  const cls = (id: number, s: Shaping) => {
    const classid = `1:${id.toString(16)}`;
    lines.push(`class add dev ${port} parent 1: classid ${classid} htb rate ${s.rate ?? UNLIMITED} quantum 60000`);
    if (s.delay) lines.push(`qdisc add dev ${port} parent ${classid} handle ${(0x10 + id).toString(16)}: ${netem(s)}`);
    return classid;
  };
  cls(1, up);
  const drop = `1:${DROP_CLASS.toString(16)}`;
  const lossy = pct(up.loss) > 0 || pairs.some((p) => pct(p.s.loss) > 0);
  if (lossy) {
    lines.push(`class add dev ${port} parent 1: classid ${drop} htb rate ${UNLIMITED} quantum 60000`);
    lines.push(`qdisc add dev ${port} parent ${drop} handle ${DROP_CLASS.toString(16)}: pfifo limit 0`);
    for (const p of pairs) {
      if (pct(p.s.loss) > 0) lines.push(`filter add dev ${port} parent 1: prio 1 bpf bytecode ${bytecode(lossProgram(pct(p.s.loss), { from: p.ip }))} classid ${drop}`);
    }
    if (pct(up.loss) > 0) {
      lines.push(`filter add dev ${port} parent 1: prio 2 bpf bytecode ${bytecode(lossProgram(pct(up.loss), { except: pairs.map((p) => p.ip) }))} classid ${drop}`);
    }
  }
  pairs.forEach((p, k) => {
    const classid = cls(k + 2, p.s);
    lines.push(`filter add dev ${port} parent 1: protocol ip prio 3 u32 match ip src ${p.ip}/32 flowid ${classid}`);
  });
  return lines;
}

/** Applies one host's shaping: one tc process for all of it. */
export async function applyShaping(hs: HostShaping, where: { ns: string; port: string }, ipOf: (host: string) => string): Promise<void> {
  const lines = shapingBatch(hs, where.port, ipOf);
  if (lines.length) await must(['tc', '-n', where.ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 30_000 });
}

let netemKnown: boolean | undefined;

/** Whether this kernel has netem: tries it on lo of a throwaway namespace. */
export async function kernelHasNetem(): Promise<boolean> {
  if (netemKnown !== undefined) return netemKnown;
  const ns = `xvpcnetem-${randomBytes(3).toString('hex')}`;
  await must(['ip', 'netns', 'add', ns]);
  try {
    const r = await run(['tc', '-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    netemKnown = r.code === 0;
  } finally {
    await run(['ip', 'netns', 'del', ns]);
  }
  return netemKnown;
}

/** Refuses delay/jitter on a kernel without netem, naming the first field that asks for it. */
export async function assertShapingPossible(shaping: HostShaping[]): Promise<void> {
  for (const hs of shaping) {
    const all: [string, Shaping][] = [[`links (host ${hs.host})`, hs.uplink ?? {}], ...hs.pairs.map((p): [string, Shaping] => [`links.pairs (${hs.host}-${p.peer})`, p.shaping])];
    const asks = all.find(([, s]) => s.delay || s.jitter);
    if (asks && !(await kernelHasNetem())) {
      throw failedPrecondition(`${asks[0]}: delay/jitter need netem, which this kernel lacks (CONFIG_NET_SCH_NETEM); rate and loss work without it`);
    }
  }
}

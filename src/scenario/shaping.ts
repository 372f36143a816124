// Link shaping with netem, on the underlay bridge port of each host (its
// link to the underlay), for packets on their way into the host. That is the
// one place every packet crosses a qdisc whatever the data path: on the XDP
// build a redirect out of the droplet's eth0 skips eth0's qdisc, but the
// bridge forwards into the port through the stack. So `uplink` delay/loss/rate
// applies once per direction that enters the host; a pair's shaping applies on
// both hosts' ports (to packets from the other), i.e. both ways.
import { must } from '../util/exec.js';
import type { HostShaping, Shaping } from './types.js';

/** netem's arguments for one shaping spec. */
export function netemArgs(s: Shaping): string[] {
  const out: string[] = ['limit', '100000'];
  if (s.delay) out.push('delay', s.delay, ...(s.jitter ? [s.jitter, 'distribution', 'normal'] : []));
  if (s.loss) out.push('loss', 'random', s.loss);
  if (s.rate) out.push('rate', s.rate);
  return out;
}

/**
 * tc batch lines for one host's port: netem at the root without pairs; with
 * pairs a prio qdisc (band 1 = everything else, band k+1 = from the k-th peer,
 * chosen by outer source address) with a netem under each band.
 */
export function shapingBatch(hs: HostShaping, port: string, ipOf: (host: string) => string): string[] {
  if (!hs.pairs.length) return hs.uplink ? [`qdisc replace dev ${port} root netem ${netemArgs(hs.uplink).join(' ')}`] : [];
  const bands = Math.max(2, hs.pairs.length + 1);
  const lines = [`qdisc replace dev ${port} root handle 1: prio bands ${bands} priomap ${Array(16).fill(0).join(' ')}`];
  lines.push(`qdisc add dev ${port} parent 1:1 handle 10: ${hs.uplink ? `netem ${netemArgs(hs.uplink).join(' ')}` : 'pfifo limit 10000'}`);
  hs.pairs.forEach((p, k) => {
    const band = (k + 2).toString(16);
    const handle = (0x11 + k).toString(16);
    lines.push(`qdisc add dev ${port} parent 1:${band} handle ${handle}: netem ${netemArgs({ ...hs.uplink, ...p.shaping }).join(' ')}`);
    lines.push(`filter add dev ${port} parent 1: protocol ip prio 1 u32 match ip src ${ipOf(p.peer)}/32 flowid 1:${band}`);
  });
  return lines;
}

/** Applies one host's shaping: one tc process for all of it. */
export async function applyShaping(hs: HostShaping, where: { ns: string; port: string }, ipOf: (host: string) => string): Promise<void> {
  const lines = shapingBatch(hs, where.port, ipOf);
  if (lines.length) await must(['tc', '-n', where.ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 30_000 });
}
